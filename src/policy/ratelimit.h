/* ratelimit.h — rate limits over sliding windows (policy.ratelimits): how
 * many messages or recipients one client address, authenticated user,
 * sender domain or recipient may have in the last `window` seconds.
 *
 * Each key's count is kept in RATE_SLOTS buckets of `width` seconds, width
 * being the window divided by RATE_BUCKETS and rounded up.  The sum over
 * the window covers every bucket that overlaps the last `window` seconds,
 * so nothing inside the window is ever forgotten; an event may be counted
 * up to one bucket width (1/12 of the window) longer than the window.  That
 * errs on the side of the limit and keeps each key at a fixed 60 bytes
 * instead of a log of every event.
 *
 * Pure logic with the clock passed in; used on the event-loop thread only.
 * Memory is bounded: at most max_keys keys per limit (lib/lru.h), the key
 * touched least recently evicted first (it forgets its count: an attacker
 * rotating keys can push out idle ones, not grow memory).  Persistence is
 * the caller's (policy/ratedb.h): it takes snapshots of what changed and
 * restores rows at start-up. */
#ifndef YUBIN_POLICY_RATELIMIT_H
#define YUBIN_POLICY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/strutil.h"

/* Buckets per window, and slots kept (one more, for the bucket that
 * straddles the start of the window). */
#define RATE_BUCKETS 12
#define RATE_SLOTS (RATE_BUCKETS + 1)
/* Keys per limit when the config does not say. */
#define RATE_MAX_KEYS_DEFAULT 65536

/* What a limit counts per. */
typedef enum rate_keykind {
	RATE_KEY_CLIENT,        /* client address (IPv6: its /64) */
	RATE_KEY_USER,          /* authenticated user (limits nothing without AUTH) */
	RATE_KEY_SENDER_DOMAIN, /* domain of the envelope sender (not <>) */
	RATE_KEY_RECIPIENT,     /* one recipient address */
} rate_keykind;

typedef enum rate_countkind {
	RATE_COUNT_MESSAGES,
	RATE_COUNT_RECIPIENTS,
} rate_countkind;

/* One configured limit. */
typedef struct rate_rule {
	char *name;
	rate_keykind key;
	rate_countkind count;
	unsigned limit;
	unsigned window;     /* seconds, > 0 */
	unsigned roles;      /* bit (1u << listener_role) per role; 0: every role */
	size_t max_keys;     /* keys remembered (0: RATE_MAX_KEYS_DEFAULT) */
} rate_rule;

/* The configured limits (policy.ratelimits, read by policy/rateconf.c). */
typedef struct rate_rules {
	rate_rule *items;
	size_t n;
} rate_rules;

void rate_rules_free(rate_rules **r);

/* "client", "user", "sender_domain", "recipient"; parse returns false for
 * anything else. */
const char *rate_keykind_name(rate_keykind k);
bool rate_keykind_parse(const char *s, rate_keykind *k_r);
/* "messages", "recipients". */
const char *rate_countkind_name(rate_countkind c);
bool rate_countkind_parse(const char *s, rate_countkind *c_r);

/* --- one key's window (exposed for the tests of its arithmetic) --- */

typedef struct rate_window {
	int64_t last;                /* bucket number of the newest slot */
	uint32_t slot[RATE_SLOTS];   /* slot[b % RATE_SLOTS]: count of bucket b */
} rate_window;

/* The bucket width of a window: ceil(window / RATE_BUCKETS), at least 1. */
unsigned rate_width(unsigned window);
/* Add n events at now (saturating). */
void rate_window_add(rate_window *w, unsigned window, uint32_t n, time_t now);
/* Events in the buckets that overlap (now - window, now]. */
uint64_t rate_window_sum(const rate_window *w, unsigned window, time_t now);

/* --- the limits and their counters --- */

typedef struct rate_table rate_table;

/* Counters for rules[0..n) (copied). */
rate_table *rate_new(const rate_rule *rules, size_t n);
void rate_free(rate_table **t);
size_t rate_rule_count(const rate_table *t);
const rate_rule *rate_rule_at(const rate_table *t, size_t i);

/* What the checks know about the transaction.  Strings may be NULL when
 * not known (user without AUTH, sender before MAIL); sender "" is <>. */
typedef struct rate_subject {
	const char *client_ip;
	const char *user;
	const char *sender;
	int role;                     /* listener_role */
	const strlist *rcpts;         /* recipients accepted so far (may be NULL) */
} rate_subject;

/* The key of rule for this subject (and recipient rcpt, for recipient
 * keys), lower-cased, in key_r; false when the rule does not apply (other
 * role, no user, null sender, no recipient yet). */
bool rate_key(const rate_rule *rule, const rate_subject *sub, const char *rcpt, char **key_r);

/* A limit that would be passed. */
typedef struct rate_exceeded {
	const rate_rule *rule;
	char *key;                    /* malloc'd */
	uint64_t count;               /* what is counted now in its window */
} rate_exceeded;

/* At MAIL: would one more message pass a messages limit keyed by client,
 * user or sender domain?  Fills ex_r for the first such rule. */
bool rate_check_mail(rate_table *t, const rate_subject *sub, time_t now, rate_exceeded *ex_r);
/* At RCPT: would one more recipient pass a recipients limit (counting the
 * recipients already accepted in this transaction, sub->rcpts, which are
 * not charged yet), or one more message to rcpt pass a messages limit keyed
 * by recipient? */
bool rate_check_rcpt(rate_table *t, const rate_subject *sub, const char *rcpt, time_t now,
                     rate_exceeded *ex_r);
/* The message is taken: count it and its recipients (sub->rcpts) on every
 * rule that applies. */
void rate_charge(rate_table *t, const rate_subject *sub, time_t now);
void rate_exceeded_free(rate_exceeded *ex);

/* The reply text for ex: "Too many recipients from alice@example.org: at
 * most 500 per hour; try again later" (malloc'd). */
char *rate_exceeded_text(const rate_exceeded *ex);
/* "hour", "day", "minute", "second", or "N minutes" and the like. */
char *rate_window_phrase(unsigned window);

/* --- persistence: snapshots of changed keys, restored at start --- */

typedef struct rate_row {
	char *rule;
	char *key;
	unsigned width;               /* rows of another width are not restored */
	rate_window w;
	int64_t expires;              /* when every counted event is out of the window */
	bool empty;                   /* nothing counted any more: delete the row */
} rate_row;

/* Copies of the keys changed since the last snapshot (malloc'd array of
 * *n_r rows; free with rate_rows_free). */
rate_row *rate_snapshot(rate_table *t, time_t now, size_t *n_r);
/* Every key with something counted, changed or not (for a full save). */
rate_row *rate_snapshot_all(rate_table *t, time_t now, size_t *n_r);
void rate_rows_free(rate_row *rows, size_t n);
/* Put a saved row back; ignored (false) when its rule is gone, its width
 * changed or it has expired. */
bool rate_restore(rate_table *t, const rate_row *row, time_t now);
/* Keys held over all rules (for tests). */
size_t rate_size(const rate_table *t);

#endif
