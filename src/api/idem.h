/* idem.h — Idempotency-Key records (the IETF httpapi draft
 * "The Idempotency-Key HTTP Header Field", as Stripe uses it): per API key
 * and idempotency key, the SHA-256 of the request body and, once it is
 * known, the answer given.  Kept in the key store's file (api/keys.h), so
 * that a retry after a restart is still answered from the record and never
 * sends a second message.  Blocking: run on a worker. */
#ifndef YUBIN_API_IDEM_H
#define YUBIN_API_IDEM_H

#include <stdint.h>

#include "api/keys.h"

/* The longest Idempotency-Key value taken. */
#define IDEM_KEY_MAX 255

typedef enum idem_status {
	IDEM_NEW,          /* recorded as in flight: go on, then idem_finish or idem_forget */
	IDEM_REPLAY,       /* answered before: *status_r and *response_r are that answer */
	IDEM_MISMATCH,     /* the key was used with another body (422) */
	IDEM_IN_FLIGHT,    /* a request with the key is still running (409) */
	IDEM_INTERRUPTED,  /* a request with the key was cut short by a restart
	                    * (its outcome is unknown: 409, never a second send) */
	IDEM_ERROR,        /* the database failed (*err_r) */
} idem_status;

/* Look up (key_id, idem_key); when absent, or older than ttl seconds,
 * record it as in flight in this run (run: the server's run id) with
 * body_hash. */
idem_status idem_begin(apikeys *ks, int64_t key_id, const char *idem_key, const char *body_hash,
                       const char *run, int64_t now, int64_t ttl, int *status_r, char **response_r,
                       char **err_r);
/* The answer to keep for the record begun. */
apikeys_status idem_finish(apikeys *ks, int64_t key_id, const char *idem_key, int status,
                           const char *response, char **err_r);
/* Drop the record (the request failed in a way a retry may repeat). */
apikeys_status idem_forget(apikeys *ks, int64_t key_id, const char *idem_key, char **err_r);

#endif
