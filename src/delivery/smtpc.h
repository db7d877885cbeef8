/* smtpc.h — the SMTP client: one transaction at a time on a connection
 * that can carry several.  A new connection goes: connect, greeting, EHLO,
 * STARTTLS whenever offered (opportunistic: an unverified certificate still
 * gets encryption, and the result says whether it was verified; with the
 * host's DANE TLSA records, TLS and a matching certificate are required), AUTH when
 * asked (PLAIN, or LOGIN when that is all the server offers).  A
 * transaction: the SIZE and SMTPUTF8 checks, the 7-bit copy for a server
 * without 8BITMIME, MAIL, RCPT for each
 * recipient, then DATA (dot-stuffed, CRLF line ends) or, where the server
 * offers CHUNKING, one BDAT LAST; with PIPELINING, MAIL and every RCPT (and
 * DATA) leave in one write (RFC 2920).  It reports a reply per recipient;
 * what a reply means for the queue is outbound.c's job.  Afterwards the
 * connection is closed with QUIT, or handed back for the next message to
 * the same server. */
#ifndef YUBIN_SMTPC_H
#define YUBIN_SMTPC_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/strutil.h"
#include "envelope/dsnparam.h"
#include "tls/dane.h"

typedef struct smtpc_job smtpc_job;
typedef struct smtpc_conn smtpc_conn;
typedef void smtpc_done_fn(smtpc_job *job);
typedef void smtpc_conn_fn(void *arg, smtpc_conn *conn);

struct smtpc_job {
	/* inputs */
	struct event_base *base;
	smtpc_conn *reuse;            /* an idle connection to use (then the
	                               * connection inputs below are ignored) */
	bool keep;                    /* at the end, hand the connection back
	                               * (job->kept) instead of QUIT */
	bool pipe_body;               /* with PIPELINING and CHUNKING, send BDAT
	                               * LAST with MAIL and RCPT instead of after
	                               * the RCPT replies (for a server of ours,
	                               * where a body sent to nobody is cheap) */
	SSL_CTX *tls;                 /* client context, NULL: never STARTTLS */
	const char *helo;             /* our host name */
	const char *mx_host;          /* for SNI, certificate checks and logs */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct sockaddr_storage src;  /* the local address to connect from (port 0) */
	socklen_t src_len;            /* 0: the kernel's choice */
	struct bufferevent *given_bev; /* already connected: one end of a
	                               * bufferevent pair (the HTTPS API's internal
	                               * submission), taken over and freed by the
	                               * job, instead of connecting to addr */
	const char *sender;
	const char *const *rcpts;
	size_t n_rcpts;
	const char *body;             /* LF line ends, as spooled */
	size_t body_len;
	/* for a server without 8BITMIME when body has 8-bit bytes (RFC 6152
	 * 3): the 7-bit copy to send instead, or (body7 NULL) the reply that
	 * refuses every recipient ("554 5.6.3 ..."); never raw 8-bit */
	const char *body7;
	size_t body7_len;
	const char *no7bit_reply;
	bool needs_smtputf8;
	bool implicit_tls;            /* TLS from the first byte (port 465) */
	bool require_tls;             /* no TLS, no transaction (relay hosts) */
	bool require_verified;        /* the certificate must verify for mx_host */
	bool requiretls;              /* RFC 8689 4.2.1: the message goes only to a
	                               * server that offers REQUIRETLS (else every
	                               * recipient gets "550 5.7.30"), with MAIL ...
	                               * REQUIRETLS; a require_tls / require_verified
	                               * that fails is then a "550 5.7.10"
	                               * (permanent), not a 451 */
	/* DANE (RFC 7672): the host's DNSSEC-secure TLSA records (NULL: no
	 * DANE).  With it, STARTTLS is required and the certificate must
	 * match a usable record (none usable: TLS without authentication);
	 * anything less ends the transaction with 451 4.7.5 before MAIL */
	const dane_set *dane;
	const char *dane_base;        /* with dane: the TLSA base domain (SNI and
	                               * first reference name, RFC 7672 8.1, 3.2.2);
	                               * NULL: mx_host */
	const char *ref_name2;        /* a second reference name (the other name of
	                               * a secure CNAME chain, RFC 7672 3.2.2) for
	                               * DANE-TA and a verified certificate; NULL: none */
	const char *auth_user;        /* log in with these, when set */
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
	bool stale;                   /* a reused connection was gone before the
	                               * transaction began: nothing was decided by
	                               * the server, try a fresh connection */
	int *codes;                   /* per recipient: the deciding reply code */
	char **replies;               /* per recipient: that reply's text ("550 5.1.1 ...") */
	bool *from_server;            /* per recipient: the server said it (false: a
	                               * reason of ours in the same shape, e.g. a
	                               * refused connection or a failed TLS check) */
	char *tls_version;            /* NULL: no TLS */
	const char *tls_cipher;       /* its cipher (static, OpenSSL's name) */
	bool tls_verified;
	/* with dane: "dane-ee" / "dane-ta" (authenticated by that usage),
	 * "unusable" (TLS, but no usable record), "no-starttls", "fail" (no
	 * match; dane_why says why); NULL before a verdict (static text) */
	const char *dane_status;
	const char *dane_why;
	/* TLS-RPT (RFC 8460 4.3, delivery/tlsrpt.h): the TLS failure this
	 * client decided (a tlsrpt_result: DANE's no-match, unusable records,
	 * no STARTTLS with DANE, a failed handshake), 0 when none; and
	 * OpenSSL's verify result of the certificate after a handshake */
	int tls_failure;
	long tls_verify_result;
	char *local_ip;               /* our address on a fresh connection, or NULL */
	char *mx_helo;                /* the name the server gave in its EHLO (or
	                               * HELO) reply, else in its greeting, on a
	                               * fresh connection (TLS-RPT's
	                               * receiving-mx-helo); NULL when none */
	bool data_sent;
	smtpc_conn *kept;             /* keep was set and the connection is still
	                               * good: it is the caller's now */
	bool dsn_offered;             /* the server advertised DSN (it reports from now on) */
	const char *body_sent;        /* "8bitmime", "7bit" or "converted" (the 7-bit
	                               * copy), for the log; NULL when no MAIL was sent */

	/* private */
	smtpc_conn *st;
};

/* Start the transaction; job->done runs on the loop when it ends (never
 * before smtpc_start returns).  The job's inputs must stay valid until then. */
void smtpc_start(smtpc_job *job);
/* Stop a transaction in flight without calling done (shutdown), and free
 * everything it holds, its connection too. */
void smtpc_abort(smtpc_job *job);
/* Free the outputs (not job->kept). */
void smtpc_job_clear(smtpc_job *job);

/* ---- connections between transactions ---- */

/* Wait idle for the next transaction; closed(arg, conn) runs if the server
 * drops it meanwhile, and conn is freed right after.  False when it is no
 * longer usable (then free it now). */
bool smtpc_conn_park(smtpc_conn *c, smtpc_conn_fn *closed, void *arg);
/* Hold an idle connection taken out of its pool before the next job
 * starts on it (the look-ups DANE needs come first): if the server drops
 * it meanwhile it is closed quietly, and the job then finds it stale. */
void smtpc_conn_hold(smtpc_conn *c);
/* Say QUIT and close; gone(arg, conn) runs just before conn is freed, after
 * the reply or a short timeout. */
void smtpc_conn_quit(smtpc_conn *c, smtpc_conn_fn *gone, void *arg);
/* Close at once, without a word. */
void smtpc_conn_free(smtpc_conn *c);
/* The server's name and address, as the first job gave them. */
const char *smtpc_conn_host(const smtpc_conn *c);
const char *smtpc_conn_ip(const smtpc_conn *c);
int smtpc_conn_port(const smtpc_conn *c);
time_t smtpc_conn_opened(const smtpc_conn *c);
/* The server was authenticated by DANE when the connection was opened:
 * only such a connection may carry mail that requires DANE. */
bool smtpc_conn_dane(const smtpc_conn *c);

#endif
