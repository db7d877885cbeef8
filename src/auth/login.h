/* login.h — checking a user name and password, the same for every
 * protocol (SMTP AUTH, POP3, IMAP): the throttle (auth/throttle.h: per
 * client address or IPv6 /64, and per account from addresses it does not
 * know), the hash check on a worker thread (unknown users are checked
 * against a dummy hash, so the time taken tells nothing), and the delay
 * after a failure, which grows with repeated failures.  One log line per
 * attempt; never the password.
 *
 * Where the caller allows them, an account's app passwords (auth/selfdb.h)
 * are accepted as well as its password: the typed password is checked
 * against the app passwords whose first characters it shares (at most
 * LOGIN_APP_CANDIDATES), then against the account's.  Each attempt on an
 * existing account is recorded in its recent log-ins. */
#ifndef YUBIN_LOGIN_H
#define YUBIN_LOGIN_H

#include <event2/event.h>

#include "auth/accounts.h"
#include "auth/selfdb.h"
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
	selfdb *self;        /* app passwords and recent log-ins; NULL: neither */
} login_ctx;

/* App password hashes checked at most for one attempt. */
#define LOGIN_APP_CANDIDATES 2

/* Who asks: for the log line, the throttle and the recent log-ins. */
typedef struct login_req {
	const char *protocol;  /* smtp, imap, pop3, https */
	const char *sid;
	const char *ip;
	bool account_only;     /* the account's password only, no app password */
} login_req;

typedef enum login_result {
	LOGIN_OK,       /* user is the account's normalised address */
	LOGIN_FAILED,   /* wrong name or password; reported after the delay */
	LOGIN_LOCKED,   /* throttled: too many failures lately, not checked at all */
} login_result;

/* On the loop thread, exactly once, never before login_check returns.
 * user is only valid during the call; app is the name of the app password
 * that logged in, NULL for the account's password (and on failure). */
typedef void login_done_fn(void *arg, login_result r, const char *user, const char *app);

/* Check user and password (both taken over; the password is wiped).  The
 * caller must stay alive until done runs. */
void login_check(const login_ctx *ctx, const login_req *req, char *user, char *password,
                 login_done_fn *done, void *arg);

#endif
