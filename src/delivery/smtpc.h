/* smtpc.h — the SMTP client for one transaction on one connection: connect,
 * greeting, EHLO, STARTTLS whenever offered (opportunistic: an unverified
 * certificate still gets encryption, and the result says whether it was
 * verified), the SIZE and SMTPUTF8 checks, MAIL, RCPT for each recipient,
 * DATA with dot-stuffing and CRLF line ends, QUIT.  It reports a reply per
 * recipient; deciding what a reply means for the queue is outbound.c's job. */
#ifndef YUBIN_SMTPC_H
#define YUBIN_SMTPC_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/strutil.h"
#include "smtp/dsnparam.h"

typedef struct smtpc_job smtpc_job;
typedef void smtpc_done_fn(smtpc_job *job);

struct smtpc_job {
	/* inputs */
	struct event_base *base;
	SSL_CTX *tls;                 /* client context, NULL: never STARTTLS */
	const char *helo;             /* our host name */
	const char *mx_host;          /* for SNI, certificate checks and logs */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	const char *sender;
	const char *const *rcpts;
	size_t n_rcpts;
	const char *body;             /* LF line ends, as spooled */
	size_t body_len;
	bool needs_smtputf8;
	bool implicit_tls;            /* TLS from the first byte (port 465) */
	bool require_tls;             /* no TLS, no transaction (relay hosts) */
	bool require_verified;        /* the certificate must verify for mx_host */
	const char *auth_user;        /* AUTH PLAIN with these, when set */
	const char *auth_pass;
	/* RFC 3461, passed on only when the server advertises DSN: */
	dsn_ret dsn_ret;              /* RET= (DSN_RET_UNSET: none) */
	const char *envid;            /* ENVID=, decoded; NULL: none */
	const unsigned *notify;       /* per recipient NOTIFY= mask (0: none); NULL: none at all */
	const char *const *orcpt;     /* per recipient ORCPT "type;address" or NULL; NULL: none at all */
	int connect_timeout, command_timeout, data_timeout;
	smtpc_done_fn *done;
	void *arg;

	/* outputs, valid in done() */
	bool connected;               /* false: the connection itself failed */
	int *codes;                   /* per recipient: the deciding reply code */
	char **replies;               /* per recipient: that reply's text ("550 5.1.1 ...") */
	char *tls_version;            /* NULL: no TLS */
	bool tls_verified;
	bool data_sent;
	bool dsn_offered;             /* the server advertised DSN (it reports from now on) */

	/* private */
	struct smtpc_state *st;
};

/* Start the transaction; job->done runs on the loop when it ends (never
 * before smtpc_start returns).  The job's inputs must stay valid until then. */
void smtpc_start(smtpc_job *job);
/* Stop a transaction in flight without calling done (shutdown), and free
 * everything it holds. */
void smtpc_abort(smtpc_job *job);
/* Free the outputs. */
void smtpc_job_clear(smtpc_job *job);

#endif
