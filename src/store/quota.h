/* quota.h — what an account may keep and what that means for one more
 * message: the effective limits (an account's own values over the
 * defaults of limits.mailbox_quota[_messages]), whether a message fits,
 * the 90 % warning's state (sent once per crossing, armed again below
 * 85 %), and the CLI's quota values ("10M", "none", "default").  Pure: no
 * I/O; the usage comes from store/usage.h, the values from the account
 * store (auth/accounts.h), through store/quotabook.h. */
#ifndef YUBIN_STORE_QUOTA_H
#define YUBIN_STORE_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"

/* Limits in force for one account; 0: that resource is not limited. */
typedef struct quota_limits {
	uint64_t bytes;
	uint64_t messages;
} quota_limits;

/* The warning thresholds, in per cent of a limit. */
#define QUOTA_WARN_PERCENT 90
#define QUOTA_REARM_PERCENT 85

/* The account's own values (q; NULL: none stored) over the defaults
 * (def_bytes, def_messages; 0 = no limit). */
quota_limits quota_effective(const accounts_quota *q, int64_t def_bytes, int64_t def_messages);
/* Is anything limited? */
bool quota_limited(quota_limits l);
/* Would an account holding have_bytes / have_messages be over a limit
 * with add_bytes / add_messages more?  (A limit is the most the account
 * may hold: reaching it exactly is allowed.) */
bool quota_over(quota_limits l, uint64_t have_bytes, uint64_t have_messages, uint64_t add_bytes,
                uint64_t add_messages);

/* The warning state after the account was seen holding bytes / messages,
 * from the bits already sent (warned, ACC_QUOTA_WARNED_*): a resource at
 * or above QUOTA_WARN_PERCENT of its limit gets its bit, and is put in
 * *send_r too when the bit was not set (a warning is due now); a bit is
 * cleared when its resource is below QUOTA_REARM_PERCENT or no longer
 * limited.  Between the two thresholds a bit stays as it was. */
unsigned quota_warn_state(quota_limits l, uint64_t bytes, uint64_t messages, unsigned warned,
                          unsigned *send_r);

/* Parse a quota value as `yubin user quota` takes it: "default"
 * (ACC_QUOTA_DEFAULT), "none" (ACC_QUOTA_NONE), or a positive whole
 * number, with a K, M or G suffix (powers of 1024) when sizes is true.
 * False with *err_r (a static sentence) for anything else, 0 included:
 * "none" is how no limit is said. */
bool quota_parse_value(const char *s, bool sizes, int64_t *v_r, const char **err_r);
/* A stored value for people: "default", "none", or the number (bytes with
 * the largest suffix that divides them exactly).  Into out (size > 0). */
void quota_format_value(int64_t v, bool sizes, char *out, size_t size);

#endif
