/* whsign.h — what makes a webhook delivery verifiable, in the shape of the
 * Standard Webhooks specification (standardwebhooks.com):
 *   Webhook-Id:        the event id ("evt_123"), the same on every retry
 *   Webhook-Timestamp: this attempt's time, unix seconds
 *   Webhook-Signature: "v1," + base64(HMAC-SHA256(key, id "." timestamp "." body))
 * where body is the exact bytes of the request body.  The key is the
 * endpoint's secret: a secret written "whsec_<base64>" stands for the bytes
 * the base64 decodes to (so the specification's libraries verify it as it
 * is); any other secret is used as its own bytes.  And the retry schedule.
 * Pure functions: no I/O, no logging (a secret never reaches a log). */
#ifndef YUBIN_API_WHSIGN_H
#define YUBIN_API_WHSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The HMAC key a secret stands for (see above), malloc'd, its length in
 * *len_r; NULL when a "whsec_" secret is not valid base64 or the key is
 * empty. */
unsigned char *whsign_key(const char *secret, size_t *len_r);

/* The Webhook-Signature value "v1,<base64>" (malloc'd). */
char *whsign_signature(const unsigned char *key, size_t key_len, const char *id, int64_t timestamp,
                       const char *body, size_t body_len);

/* Seconds to wait before attempt number attempt + 1, after attempt
 * (1, 2, ...) failed: base, 2 base, 4 base, ... never more than cap. */
int64_t whsign_backoff(int attempt, int64_t base, int64_t cap);

/* When to try again after attempt number attempt failed at now, for a
 * delivery queued at created: now + whsign_backoff(...), or -1 when that
 * would be more than retry_for seconds after created (give up). */
int64_t whsign_next_try(int attempt, int64_t created, int64_t now, int64_t base, int64_t cap, int64_t retry_for);

#endif
