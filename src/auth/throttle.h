/* throttle.h — the failed-login policy, shared by SMTP AUTH, POP3 and IMAP.
 * Pure logic with the clock passed in; used only on the event-loop thread.
 *
 * Three things are counted within auth.lockout_window, each failure
 * earning a delay that doubles from auth.fail_delay_ms up to
 * auth.fail_delay_max_ms, and auth.lockout_failures of them refusing logins
 * for auth.lockout_seconds:
 *   - the client address (its key from lib/addrkey.h: an IPv6 /64 counts as
 *     one address).  A locked address is refused for every account.
 *   - the account, counting only failures from addresses that are not known
 *     to it.  A locked account is refused only from unknown addresses: its
 *     owner keeps logging in from where they logged in before.
 *   - each account and address pair, so that a successful login forgives
 *     exactly that pair's failures, in the address's and the account's
 *     counts, and nobody else's.
 * An address becomes known to an account by a successful login from it and
 * stays known for auth.known_days after the last one.
 * Every table is bounded (THROTTLE_MAX_ENTRIES, least recently touched
 * evicted first), so an attacker rotating addresses or account names
 * cannot grow the memory; they can only push out old records. */
#ifndef YUBIN_THROTTLE_H
#define YUBIN_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/config.h"

/* Records per table (addresses, accounts, pairs, known pairs). */
#define THROTTLE_MAX_ENTRIES 32768

typedef struct throttle throttle;

/* Why a login is refused without checking the password. */
typedef enum throttle_scope {
	THROTTLE_NONE,    /* not refused: check it */
	THROTTLE_ADDRESS, /* too many failures from this address */
	THROTTLE_ACCOUNT, /* too many failures for this account from unknown addresses */
} throttle_scope;

throttle *throttle_new(const config_auth *cfg);
void throttle_free(throttle **t);

/* Before a password check: whether the attempt is refused, and why.  addr
 * is an address key; account is the normalised account name, or NULL when
 * the name given is no address at all. */
throttle_scope throttle_refused(throttle *t, const char *addr, const char *account, time_t now);
/* A failed check: counts it and returns the delay (ms) before the reply. */
int throttle_failed(throttle *t, const char *addr, const char *account, time_t now);
/* A successful login: addr becomes known to account, and the failures of
 * this pair are forgiven.  Lock-outs run their course. */
void throttle_succeeded(throttle *t, const char *addr, const char *account, time_t now);
/* True when addr has logged in to account within auth.known_days. */
bool throttle_known(throttle *t, const char *addr, const char *account, time_t now);
/* Records held in all tables (for tests). */
size_t throttle_size(const throttle *t);
/* "address", "account" or "none", for log lines. */
const char *throttle_scope_name(throttle_scope s);

#endif
