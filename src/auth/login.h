/* login.h — checking a user name and password, the same for every
 * protocol (SMTP AUTH, POP3, IMAP): the throttle (auth/throttle.h: per
 * client address or IPv6 /64, and per account from addresses it does not
 * know), the hash check on a worker thread (unknown users are checked
 * against a dummy hash, so the time taken tells nothing), and the delay
 * after a failure, which grows with repeated failures.  One log line per
 * attempt; never the password. */
#ifndef YUBIN_LOGIN_H
#define YUBIN_LOGIN_H

#include <event2/event.h>

#include "auth/accounts.h"
#include "auth/throttle.h"
#include "lib/workers.h"

/* How many password checks run at once.  A yescrypt check at the default
 * cost takes 16 MiB and a core for its duration; without a bound a login
 * storm would take as many of both as there are workers.  Checks past the
 * bound wait in line, in order. */
typedef struct login_gate login_gate;
login_gate *login_gate_new(int max);
/* The server stops: checks in line and answers waiting for their delay are
 * dropped (their sessions go too); no check starts any more. */
void login_gate_stop(login_gate *g);
void login_gate_free(login_gate **g);

typedef struct login_ctx {
	struct event_base *base;
	accounts *acc;
	throttle *thr;
	workers *wk;
	login_gate *gate;
	const char *dummy_hash;
} login_ctx;

typedef enum login_result {
	LOGIN_OK,       /* user is the account's normalised address */
	LOGIN_FAILED,   /* wrong name or password; reported after the delay */
	LOGIN_LOCKED,   /* throttled: too many failures lately, not checked at all */
} login_result;

/* On the loop thread, exactly once, never before login_check returns.
 * user is only valid during the call. */
typedef void login_done_fn(void *arg, login_result r, const char *user);

/* Check user and password (both taken over; the password is wiped).  sid
 * and ip are for the log line and the throttle.  The caller must stay alive
 * until done runs. */
void login_check(const login_ctx *ctx, const char *sid, const char *ip, char *user, char *password,
                 login_done_fn *done, void *arg);

#endif
