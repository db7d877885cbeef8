/* outbound.c — the remote delivery scheduler (see outbound.h).  An attempt
 * on one queue file goes: read and parse it (worker) -> group the pending
 * remote recipients by domain -> per domain: MX look-up, then host by host
 * and address by address, one SMTP transaction (smtpc.c) until a server
 * gives an answer that is not a connection-level temporary failure ->
 * record the results, send DSNs, schedule the next attempt or remove the
 * file. */
#include "delivery/outbound.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit/audit.h"
#include "delivery/connpool.h"
#include "delivery/downgrade.h"
#include "delivery/dsn.h"
#include "delivery/mtastsget.h"
#include "delivery/tlsrptlive.h"
#include "delivery/tlsrptsend.h"
#include "delivery/mx.h"
#include "delivery/probe25.h"
#include "delivery/report.h"
#include "delivery/route.h"
#include "delivery/smtpc.h"
#include "delivery/tlsrequired.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "mime/to7bit.h"
#include "metrics/metrics.h"
#include "msgauth/arcseal.h"
#include "rewrite/state.h"
#include "queue/qfile.h"
#include "tls/dane.h"
#include "queue/qid.h"

#define QFILE_MAX ((size_t)4 << 30)
#define DSN_MAX ((size_t)64 << 20)
#define REASONS_MAX 8 /* servers named in one deferral reason */

typedef struct ob_entry {
	struct ob_entry *next;
	char *path;
	time_t due;
	bool busy;
	bool held;            /* `queue hold`: no attempts */
	bool bounce;          /* `queue bounce`: the next "attempt" returns it */
	bool deleted;         /* `queue delete` while an attempt ran: drop it after */
} ob_entry;

struct outbound {
	struct event_base *base;
	const config *cfg;
	dns_resolver *dns;
	workers *wk;
	queue *q;
	accounts *acc;
	SSL_CTX *tls;
	ob_entry *entries;
	struct ob_attempt *attempts;   /* in flight, for shutdown */
	size_t n_attempts;
	size_t max_attempts;           /* messages in memory at once */
	bool throttled;                /* due messages wait for max_attempts */
	connpool *pool;
	char *relay_password;          /* from relay.password_file */
	char **relay_passwords;        /* from each named relay's password_file (route.relays), or NULL */
	probe25 *probe;                /* the OP25B probe, or NULL (none configured) */
	route_family prefer;           /* delivery.prefer_family */
	struct event *timer;
	unsigned rnd;
	const struct rewrite_state *rewrite; /* SRS for forwarded mail, or NULL */
	mtastsget *sts;                /* MTA-STS policies (mtasts.enable), or NULL */
	tlsrptlive *tlsrpt;            /* TLS-RPT counts (tlsrpt.enable), or NULL */
	tlsrptsend *tlsrpt_send;       /* TLS-RPT daily reports (tlsrpt.enable), or NULL */
};

typedef struct ob_attempt ob_attempt;

/* The recipients of one attempt at one domain. */
typedef struct ob_group {
	ob_attempt *a;
	char *domain;
	size_t *idx;          /* indexes into a->env.rcpts */
	const char **addrs;   /* their addresses, for smtpc */
	unsigned *notify;     /* their NOTIFY= and ORCPT, for smtpc (RFC 3461) */
	const char **orcpt;
	size_t n;
	strlist hosts;
	size_t host_i;
	strlist ips;          /* addresses of hosts[host_i] */
	size_t ip_i;
	bool relay;           /* through a relay (route.kind), not by MX */
	route_decision route; /* where the group goes (route.h), decided in read_done */
	char *dest;           /* its connection-pool key (route_pool_key) */
	bool has_slot;        /* holds a connection slot (connpool) */
	smtpc_conn *conn;     /* an idle connection to use next, or the one kept */
	char *cur_host;       /* the server of the transaction in flight */
	char cur_ip[INET6_ADDRSTRLEN];
	int cur_port;
	int port_i;           /* relay: index into relay.ports */
	int lookups;          /* A / AAAA look-ups in flight */
	/* DANE (RFC 7672 2.2), for hosts[host_i]: */
	int addr_lookups;     /* of lookups, the A / AAAA ones */
	bool mx_secure;       /* the MX answer (or its denial) was DNSSEC-secure */
	bool addr_insecure;   /* an address answer was not secure: no DANE */
	bool tlsa_asked;      /* TLSA _25._tcp.<host> was looked up */
	char *tlsa_failed;    /* ... and failed (bogus, SERVFAIL, timeout): why */
	dane_set tlsa;        /* ... its records, when secure */
	/* RFC 7672 2.2.2: hosts[host_i] as an alias (a CNAME chain) */
	char *canon;          /* its expansion (from the address answers), or NULL */
	bool canon_checked;   /* the look-up the alias calls for is done */
	bool chain_secure;    /* the chain and the addresses are secure: the
	                       * target's TLSA first, both names are reference
	                       * names */
	bool first_link_secure; /* the chain is not, but its first CNAME is: the
	                       * original name's TLSA alone (the target is not
	                       * trusted) */
	bool tlsa_at_target;  /* tlsa holds the target's records */
	const char *dane_base; /* the TLSA base domain (hosts[host_i] or canon) */
	const char *ref_name2; /* the other reference name, or NULL */
	bool dane_on;         /* the host's connections require DANE */
	bool conn_unchecked;  /* conn (idle, not DANE-authenticated) awaits the
	                       * look-ups that say whether it may be used */
	strlist reasons;      /* the reply of each server that did not take part */
	strlist reason_where; /* ... and its "host[ip]:port" ("" for a look-up) */
	size_t reasons_more;  /* ones left out of reasons (REASONS_MAX) */
	size_t reasons_perm;  /* how many of all of them were 5xx (a REQUIRETLS
	                       * refusal of ours): all 5xx, the group fails */
	size_t reason_main;   /* the one whose code stands for all of them */
	bool reason_reached;  /* ... a server that answered, rather than a refused
	                       * connection or a failed look-up */
	char *last_remote;    /* the last of them that a server said, if any */
	mtasts_policy *sts;   /* the domain's MTA-STS policy (testing or enforce), or NULL */
	int sts_fail;         /* TLS-RPT: sts NULL although the domain announces a
	                       * policy: how it failed (mtasts_failure) ... */
	char *sts_fail_why;   /* ... and why */
	bool tlsa_bogus;      /* tlsa_failed: the TLSA answer was DNSSEC-bogus */
	smtpc_job job;
	bool job_running;
	int64_t job_start_ms; /* for the audit trail's duration */
} ob_group;

/* Per-recipient outcome of this attempt. */
typedef struct ob_result {
	char kind;            /* 0 untouched, 'd' delivered, 'f' failed, 't' temporary */
	char *status;
	char *reply;
	char *mx;
	char *diag;           /* the remote server's reply, when one said it
	                       * (RFC 3464 2.3.6); NULL for reasons of ours */
	bool remote_dsn;      /* delivered to a server that advertised DSN */
} ob_result;

struct ob_attempt {
	struct ob_attempt *prev, *next;
	outbound *o;
	ob_entry *e;
	char *data;
	size_t len;
	qenvelope env;
	const char *body;
	size_t body_len;
	downgrade dg;         /* the 7-bit copy, when the body has 8-bit bytes */
	bool parsed;
	const char *parse_error;
	ob_group *groups;
	size_t n_groups;
	size_t groups_left;
	ob_result *res;
	time_t now;
	/* the outcome, written to the file by a worker */
	bool all_final;       /* nothing left to try: the file goes */
	bool warn;            /* a delay warning went out now */
	time_t next_due;
	int io_errno;
	char *mail_from;      /* the SRS sender of forwarded mail, or NULL: env.sender */
	buf arc;              /* rewrite.arc_seal: the message with its ARC set on top */
	buf arc7;             /* ... and its 7-bit copy */
	char *arc_error;      /* why it could not be sealed (it goes unsealed) */
	char *arc_selector;   /* sealed with this key of rewrite.srs.domain, or NULL */
	bool tls_required_no; /* "TLS-Required: No" and no REQUIRETLS (RFC 8689 3) */
};

static void next_host(ob_group *g);
static void try_next_ip(ob_group *g);
static void group_lookup(ob_group *g);
static const char *group_dest(const ob_group *g);
static int group_port(const ob_group *g);
static void group_done(ob_group *g);

/* ---- results ---- */

/* The RFC 3463 code in a reply ("550 5.1.1 ..."), or one made from the
 * reply code. */
static char *status_of(int code, const char *reply)
{
	const char *p = reply;
	if (strlen(p) > 4)
		p += 4;
	if ((p[0] == '2' || p[0] == '4' || p[0] == '5') && p[1] == '.') {
		size_t n = strspn(p, "0123456789.");
		if (n >= 5 && n <= 11)
			return xstrndup(p, n);
	}
	return xasprintf("%d.0.0", code / 100);
}

/* reply: what is logged and recorded; diag: what a remote server said,
 * NULL when the outcome is a reason of ours (a DNS answer, a refused
 * connection, a failed certificate check). */
static void set_result(ob_attempt *a, size_t i, char kind, int code, const char *reply, const char *mx,
                       const char *diag)
{
	ob_result *r = &a->res[i];
	free(r->status);
	free(r->reply);
	free(r->mx);
	free(r->diag);
	r->kind = kind;
	r->status = status_of(code, reply);
	r->reply = xstrdup(reply);
	r->mx = mx ? xstrdup(mx) : NULL;
	r->diag = diag ? xstrdup(diag) : NULL;
}

static void group_set_all(ob_group *g, char kind, int code, const char *reply, const char *mx,
                          const char *diag)
{
	for (size_t k = 0; k < g->n; k++)
		set_result(g->a, g->idx[k], kind, code, reply, mx, diag);
}

/* A server that did not take part (or a look-up that failed), and why.
 * Every one is kept for the deferral, so that a certificate that does not
 * verify on the relay's first port is not hidden by a refused connection
 * on the next one.  reached: a connection was made (what went wrong then,
 * a certificate or a reply, says more than a refused connection, and its
 * code stands for the whole). */
static void add_reason(ob_group *g, const char *where, const char *reply, bool reached, bool from_server)
{
	if (from_server) {
		free(g->last_remote);
		g->last_remote = xstrdup(reply);
	}
	if (reply[0] == '5')
		g->reasons_perm++;
	if (g->reasons.n >= REASONS_MAX) {
		g->reasons_more++;
		return;
	}
	if (g->reasons.n == 0 || (reached && !g->reason_reached)) {
		g->reason_main = g->reasons.n;
		g->reason_reached = reached;
	}
	strlist_add(&g->reasons, reply);
	strlist_add(&g->reason_where, where ? where : "");
}

/* The deferral of a group that no server took: one reason as it was said;
 * several as "<code> <status> No server took the message: a: ...; b: ...",
 * with the code and status of the main one.  malloc'd. */
static char *group_reasons(const ob_group *g, int *code_r)
{
	if (g->reasons.n == 0) {
		*code_r = 451;
		return xstrdup("451 4.4.4 No reachable mail server");
	}
	const char *rep = g->reasons.items[g->reason_main];
	*code_r = (int)strtol(rep, NULL, 10);
	if (*code_r < 400 || *code_r > 599)
		*code_r = 451;
	if (g->reasons.n == 1 && g->reasons_more == 0)
		return xstrdup(rep);
	char *st = status_of(*code_r, rep);
	buf b;
	buf_init(&b, (size_t)64 << 10);
	bool ok = buf_printf(&b, "%d %s No server took the message: ", *code_r, st);
	for (size_t i = 0; ok && i < g->reasons.n; i++) {
		const char *w = g->reason_where.items[i];
		ok = buf_printf(&b, "%s%s%s%s", i ? "; " : "", w, *w ? ": " : "", g->reasons.items[i]);
	}
	if (ok && g->reasons_more > 0)
		ok = buf_printf(&b, "; and %zu more", g->reasons_more);
	free(st);
	if (!ok) { /* past 64 KiB of reasons: the main one alone */
		buf_free(&b);
		return xstrdup(rep);
	}
	return buf_steal(&b);
}

/* ---- per-domain work ---- */

/* The DANE outcome for the log and the audit trail: smtpc's verdict (a
 * reused connection's is the one it was opened with), "unverified" when
 * DANE was required and no verdict came, else "none". */
static const char *dane_word(const smtpc_job *job)
{
	return job->dane_status ? job->dane_status : job->dane ? "unverified" : "none";
}

/* The TLS policy that applied to a transaction (RFC 7672, RFC 8461):
 * "dane" (TLSA records), "sts" (an MTA-STS policy, testing or enforce,
 * and no DANE) or "none". */
static metrics_tls_policy tls_policy(const ob_group *g, const smtpc_job *job)
{
	return job->dane != NULL || job->dane_status != NULL ? METRICS_TLSPOL_DANE : g->sts != NULL ? METRICS_TLSPOL_STS : METRICS_TLSPOL_NONE;
}

static const char *tls_policy_word(const ob_group *g, const smtpc_job *job)
{
	static const char *const words[METRICS_TLSPOL_COUNT] = {"dane", "sts", "none"};
	return words[tls_policy(g, job)];
}

/* The metric of a transaction that reached a server: its policy, and
 * whether the server was authenticated (DANE's verdict, else the
 * certificate's). */
static void count_tls_verdict(const ob_group *g, const smtpc_job *job)
{
	if (!job->connected)
		return;
	metrics_tls_policy p = tls_policy(g, job);
	bool ok = p == METRICS_TLSPOL_DANE
	              ? job->dane_status != NULL && strncmp(job->dane_status, "dane-", 5) == 0
	              : job->tls_version != NULL && job->tls_verified;
	metrics_tls_verdict(p, ok);
}

/* The audit trail's ATTEMPT record of one transaction (or connection). */
static void audit_attempt(const ob_group *g, const smtpc_job *job)
{
	if (!audit_is_open())
		return;
	json_t *d = json_object(), *rcpts = json_array();
	for (size_t k = 0; k < g->n; k++)
		json_array_append_new(rcpts, audit_str(g->addrs[k]));
	json_object_set_new(d, "rcpts", rcpts);
	audit_set(d, "host", g->cur_host);
	audit_set(d, "ip", g->cur_ip);
	json_object_set_new(d, "port", json_integer(g->cur_port));
	json_object_set_new(d, "relay", json_boolean(g->relay));
	char *rt = route_describe(&g->route);
	json_object_set_new(d, "route", audit_str(rt));
	free(rt);
	audit_set(d, "tls_version", job->tls_version);
	audit_set(d, "tls_cipher", job->tls_cipher);
	json_object_set_new(d, "tls_verified", json_boolean(job->tls_verified));
	audit_set(d, "dane", dane_word(job));
	audit_set(d, "policy", tls_policy_word(g, job));
	json_object_set_new(d, "reply", audit_str(g->n > 0 ? job->replies[0] : ""));
	json_object_set_new(d, "code", json_integer(g->n > 0 ? job->codes[0] : 0));
	json_object_set_new(d, "duration_ms", json_integer(audit_now_ms() - g->job_start_ms));
	audit_emit(AUDIT_ATTEMPT, g->a->env.id, NULL, d);
}

static void on_smtp_done(smtpc_job *job)
{
	ob_group *g = job->arg;
	ob_attempt *a = g->a;
	outbound *o = a->o;
	g->job_running = false;
	smtpc_conn *kept = job->kept;
	job->kept = NULL;
	if (job->stale) {
		/* the idle connection was gone: nothing was said, start afresh */
		smtpc_job_clear(job);
		if (kept != NULL)
			connpool_discard(o->pool, group_dest(g), kept);
		group_lookup(g);
		return;
	}
	bool all_temp = true;
	for (size_t k = 0; k < g->n; k++)
		if (job->codes[k] / 100 != 4)
			all_temp = false;
	audit_attempt(g, job);
	count_tls_verdict(g, job);
	if (g->route.kind == ROUTE_DIRECT && g->sts_fail != MTASTS_FAIL_NONE) /* no policy to apply */
		tlsrptlive_note_sts_failure(o->tlsrpt, job, g->domain, g->cur_ip, g->sts_fail, g->sts_fail_why);
	else if (g->route.kind == ROUTE_DIRECT) /* TLS-RPT: sessions with the domain's own MX hosts */
		tlsrptlive_note_job(o->tlsrpt, job, g->domain, g->cur_ip, g->sts);
	for (size_t k = 0; k < g->n; k++)
		log_event(LOG_LVL_INFO, "delivery_attempt",
		          "qid=%s to=%s mx=%s ip=%s port=%d tls=%s verified=%s dane=%s policy=%s body=%s route=%s reply=%s",
		          a->env.id, g->addrs[k], g->cur_host, g->cur_ip, g->cur_port,
		          job->tls_version ? job->tls_version : "no", job->tls_verified ? "yes" : "no",
		          dane_word(job), tls_policy_word(g, job),
		          job->body_sent ? job->body_sent : "-", g->route.kind == ROUTE_DIRECT ? "direct"
		          : g->route.kind == ROUTE_HOST ? "host" : *g->route.relay_name ? g->route.relay_name : "relay",
		          job->replies[k]);
	/* RFC 8689 4.2.1: a server that cannot take a REQUIRETLS message
	 * (no verified TLS, no REQUIRETLS) did not take part: the next MX
	 * may; only when none can does it fail for good */
	bool tls_refused = a->env.requiretls && job->connected && !job->data_sent && g->n > 0 &&
	                   !job->from_server[0] && job->codes[0] / 100 == 5;
	if (!job->connected || (all_temp && !job->data_sent) || tls_refused) {
		/* this server did not take part: try the next address or MX */
		char *where = xasprintf("%s[%s]:%d", g->cur_host, g->cur_ip, g->cur_port);
		add_reason(g, where, job->replies[0], job->connected, job->from_server[0]);
		free(where);
		smtpc_job_clear(job);
		if (kept != NULL)
			connpool_discard(o->pool, group_dest(g), kept);
		if (g->hosts.n == 0) {
			group_lookup(g); /* that was a reused connection: now by the book */
			return;
		}
		g->ip_i++;
		try_next_ip(g);
		return;
	}
	for (size_t k = 0; k < g->n; k++) {
		int c = job->codes[k];
		set_result(a, g->idx[k], c / 100 == 2 ? 'd' : c / 100 == 5 ? 'f' : 't', c,
		           job->replies[k], g->cur_host, job->from_server[k] ? job->replies[k] : NULL);
		a->res[g->idx[k]].remote_dsn = job->dsn_offered;
	}
	smtpc_job_clear(job);
	g->conn = kept; /* back to the pool for the next message */
	group_done(g);
}

static int group_port(const ob_group *g)
{
	const config *cfg = g->a->o->cfg;
	return g->route.kind != ROUTE_DIRECT ? g->route.ports[g->port_i] : cfg->delivery.port;
}

/* The route's part of a job: the TLS level, a relay's credentials, and
 * the source address of ip's family (none for a reused connection). */
static void route_fill_job(ob_group *g, smtpc_job *j, const char *ip, int port)
{
	const route_decision *r = &g->route;
	outbound *o = g->a->o;
	if (r->kind == ROUTE_RELAY) {
		/* a relay gets credentials: never in the clear, and only to the
		 * host whose certificate says so (unless its verify = 0) */
		j->auth_user = r->user;
		j->auth_pass = r->relay_index < 0 ? o->relay_password
		             : o->relay_passwords != NULL ? o->relay_passwords[r->relay_index] : NULL;
	}
	if (r->kind != ROUTE_DIRECT)
		j->implicit_tls = port == 465;
	if (r->tls == ROUTE_TLS_NONE)
		j->tls = NULL;
	/* the DANE levels: without DANE for this host (start_smtp adds it),
	 * "may", or what a relay needs at least; dane-only never gets here
	 * without DANE (host_ready) */
	route_tls level = r->tls < ROUTE_TLS_DANE ? r->tls
	                : r->tls_floor > ROUTE_TLS_MAY ? r->tls_floor : ROUTE_TLS_MAY;
	j->require_tls = level >= ROUTE_TLS_ENCRYPT || r->tls == ROUTE_TLS_DANE_ONLY;
	j->require_verified = level >= ROUTE_TLS_VERIFY;
	const char *src = ip == NULL ? NULL : strchr(ip, ':') ? r->source6 : r->source4;
	if (src == NULL)
		return;
	memset(&j->src, 0, sizeof j->src);
	if (strchr(src, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&j->src;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, src, &s6->sin6_addr);
		j->src_len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&j->src;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, src, &s4->sin_addr);
		j->src_len = sizeof(*s4);
	}
}

/* One transaction: on a new connection to ip, or (ip NULL) on the idle
 * connection g->conn. */
static void start_smtp(ob_group *g, const char *ip)
{
	ob_attempt *a = g->a;
	const config *cfg = a->o->cfg;
	smtpc_job *j = &g->job;
	memset(j, 0, sizeof(*j));
	int port = group_port(g);
	if (ip != NULL && g->conn != NULL) {
		/* an idle connection kept while the host's DANE state was looked
		 * up (on_grant): it serves a host that needs no DANE; one that
		 * does gets a connection authenticated now */
		g->conn_unchecked = false;
		if (!g->dane_on && strcasecmp(smtpc_conn_host(g->conn), g->hosts.items[g->host_i]) == 0 &&
		    strcmp(smtpc_conn_ip(g->conn), ip) == 0 && smtpc_conn_port(g->conn) == port) {
			ip = NULL;
		} else {
			connpool_discard(a->o->pool, group_dest(g), g->conn);
			g->conn = NULL;
		}
	}
	free(g->cur_host);
	if (ip == NULL) {
		j->reuse = g->conn;
		g->conn = NULL;
		g->cur_host = xstrdup(smtpc_conn_host(j->reuse));
		snprintf(g->cur_ip, sizeof g->cur_ip, "%s", smtpc_conn_ip(j->reuse));
		g->cur_port = smtpc_conn_port(j->reuse);
	} else {
		g->cur_host = xstrdup(g->hosts.items[g->host_i]);
		snprintf(g->cur_ip, sizeof g->cur_ip, "%s", ip);
		g->cur_port = port;
		if (strchr(ip, ':') != NULL) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&j->addr;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			inet_pton(AF_INET6, ip, &s6->sin6_addr);
			j->addr_len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&j->addr;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, ip, &s4->sin_addr);
			j->addr_len = sizeof(*s4);
		}
	}
	j->base = a->o->base;
	j->keep = true;
	j->tls = a->o->tls;
	j->helo = cfg->hostname;
	j->mx_host = g->cur_host;
	j->sender = a->mail_from ? a->mail_from : a->env.sender;
	j->rcpts = g->addrs;
	j->n_rcpts = g->n;
	j->body = a->arc.len > 0 ? a->arc.data : a->body;
	j->body_len = a->arc.len > 0 ? a->arc.len : a->body_len;
	j->body7 = a->arc7.len > 0 ? a->arc7.data : a->dg.body;
	j->body7_len = a->arc7.len > 0 ? a->arc7.len : a->dg.len;
	j->no7bit_reply = a->dg.refusal;
	j->needs_smtputf8 = a->env.utf8;
	j->dsn_ret = a->env.ret;
	j->envid = a->env.envid;
	j->notify = g->notify;
	j->orcpt = g->orcpt;
	route_fill_job(g, j, ip, port);
	if (ip != NULL && g->dane_on && j->tls != NULL) {
		/* RFC 7672: secure TLSA records: TLS and a matching certificate
		 * (unless a transport map says "none" for the domain) */
		j->dane = &g->tlsa;
		j->dane_base = g->dane_base;
	}
	/* the alias's other name, for DANE-TA's name check and a transport
	 * entry's (or relay's) verified certificate (RFC 7672 3.2.2); never
	 * the recipient domain, and not for MTA-STS or REQUIRETLS below,
	 * whose certificate names the MX host as published */
	j->ref_name2 = ip != NULL && (j->dane != NULL || j->require_verified) ? g->ref_name2 : NULL;
	if (g->route.kind == ROUTE_DIRECT && g->sts != NULL && g->sts->mode == MTASTS_MODE_ENFORCE && !g->dane_on) {
		/* RFC 8461 4.2, 5: TLS 1.2 or later (client_tls) with a certificate
		 * that verifies for the MX name, or this host gets nothing.
		 * (DANE, when it applies to the host, takes precedence over this
		 * check, RFC 8461 2: the TLSA records decide, above.) */
		j->require_tls = true;
		j->require_verified = true;
	}
	if (a->env.requiretls) {
		/* RFC 8689 4.2.1: verified TLS to a server offering REQUIRETLS,
		 * and the parameter passed on; the relay too */
		j->requiretls = true;
		j->require_tls = true;
		j->require_verified = true;
	}
	j->connect_timeout = cfg->delivery.connect_timeout;
	j->command_timeout = cfg->delivery.command_timeout;
	j->data_timeout = cfg->delivery.data_timeout;
	j->done = on_smtp_done;
	j->arg = g;
	g->job_running = true;
	g->job_start_ms = audit_now_ms();
	smtpc_start(j);
}

static void try_next_ip(ob_group *g)
{
	if (g->ip_i < g->ips.n) {
		start_smtp(g, g->ips.items[g->ip_i]);
		return;
	}
	if (g->route.kind != ROUTE_DIRECT && g->ips.n > 0 && g->port_i + 1 < g->route.n_ports) {
		/* the relay's port is blocked or closed: the next one (587, then
		 * 465, then 2525 by default) */
		g->port_i++;
		g->ip_i = 0;
		if (g->tlsa_asked) {
			/* TLSA records are per port (_PORT._tcp, RFC 6698 3): the
			 * look-ups again, for this one */
			next_host(g);
			return;
		}
		start_smtp(g, g->ips.items[0]);
		return;
	}
	g->host_i++;
	next_host(g);
}

/* Why the host in hand cannot be authenticated by DANE (RFC 7672 2.2). */
static const char *dane_missing_why(const ob_group *g, bool secure_host)
{
	if (!g->tlsa_asked)
		return g->route.kind == ROUTE_DIRECT ? "the MX records are not DNSSEC-signed" : "the host is an address";
	if (g->addr_insecure && !g->first_link_secure)
		return g->canon != NULL ? "the CNAME of the host is not DNSSEC-signed"
		                        : "the address records are not DNSSEC-signed";
	if (!secure_host)
		return "TLS-Required: No";
	if (g->tlsa.total == 0)
		return "no TLSA records";
	return "no usable TLSA records";
}

/* A transport entry's tls = "dane" or "dane-only" and a host DANE cannot
 * authenticate (no secure TLSA, or none usable): "dane" says so in the log
 * and goes on at "may" (a relay: at its floor); "dane-only" skips the host
 * with 4.7.5, as when its certificate does not match. */
static void dane_level_unmet(ob_group *g, bool secure_host)
{
	const char *host = g->hosts.items[g->host_i];
	const char *why = dane_missing_why(g, secure_host);
	bool only = g->route.tls == ROUTE_TLS_DANE_ONLY;
	log_event(LOG_LVL_WARN, "dane_unavailable", "qid=%s domain=%s mx=%s level=%s why=\"%s\" action=%s",
	          g->a->env.id, g->domain, host, route_tls_name(g->route.tls), why, only ? "skipped" : "may");
	if (!only)
		return;
	if (g->route.kind == ROUTE_DIRECT) /* TLS-RPT (RFC 8460 4.3.2.1) */
		tlsrptlive_note_lookup(g->a->o->tlsrpt, g->domain, host, TLSRPT_DANE_REQUIRED, why);
	char *reply = xasprintf("451 4.7.5 DANE: %s has %s (tls = \"dane-only\")", host,
	                        strcmp(why, "no TLSA records") == 0 || strcmp(why, "no usable TLSA records") == 0
	                            ? why : "no secure TLSA records");
	add_reason(g, NULL, reply, false, false);
	free(reply);
	g->dane_on = false;
	g->ip_i = g->ips.n; /* skip its addresses: the next MX */
}

static void host_ready(ob_group *g);

/* The state of a TLSA answer (RFC 7672 2.2.3): insecure counts as none. */
static dane_tlsa_state tlsa_state(const dns_answer *ans)
{
	if (ans->status == DNS_TEMPFAIL)
		return DANE_TLSA_FAILED;
	return ans->status == DNS_OK && ans->secure ? DANE_TLSA_FOUND : DANE_TLSA_NONE;
}

/* TLSA at the alias's target (_PORT._tcp.<canon>): its records, or its
 * failure, replace the original name's; a sure "none" leaves them. */
static void on_tlsa_target(void *arg, const dns_answer *ans)
{
	ob_group *g = arg;
	dane_tlsa_state orig = g->tlsa_failed != NULL ? DANE_TLSA_FAILED
	                     : g->tlsa.total > 0      ? DANE_TLSA_FOUND
	                                              : DANE_TLSA_NONE;
	dane_pick pick = dane_pick_base(true, tlsa_state(ans), orig);
	if (pick == DANE_PICK_TARGET || pick == DANE_PICK_FAILED_TARGET) {
		dane_set_free(&g->tlsa);
		free(g->tlsa_failed);
		g->tlsa_failed = NULL;
	}
	if (pick == DANE_PICK_TARGET) {
		dane_set_parse(&g->tlsa, &ans->values);
		g->tlsa_at_target = true;
	} else if (pick == DANE_PICK_FAILED_TARGET) {
		const char *host = g->hosts.items[g->host_i];
		g->tlsa_failed = ans->bogus
			? xasprintf("451 4.7.5 DANE: the TLSA records of %s (CNAME target of %s) are bogus (%s)", g->canon,
			            host, ans->why_bogus)
			: xasprintf("451 4.7.5 DANE: the TLSA look-up for %s (CNAME target of %s) failed", g->canon, host);
	}
	host_ready(g);
}

/* The alias's first CNAME (RFC 7672 2.2.2): secure, though a later link
 * is not, lets the original name's TLSA records count (alone). */
static void on_first_link(void *arg, const dns_answer *ans)
{
	ob_group *g = arg;
	g->first_link_secure = ans->status == DNS_OK && ans->secure;
	host_ready(g);
}

/* hosts[host_i] is an alias: with DANE in question, a secure chain sends
 * us to the target's TLSA records, an insecure one to the first link's
 * status.  True when a look-up was started (host_ready comes again). */
static bool alias_lookup(ob_group *g)
{
	g->canon_checked = true;
	g->chain_secure = !g->addr_insecure;
	if (!g->tlsa_asked)
		return false;
	const char *host = g->hosts.items[g->host_i];
	if (g->chain_secure) {
		char *q = xasprintf("_%d._tcp.%s", g->route.kind == ROUTE_DIRECT ? 25 : group_port(g), g->canon);
		dns_lookup(g->a->o->dns, q, DNS_TYPE_TLSA, on_tlsa_target, g);
		free(q);
	} else {
		dns_lookup(g->a->o->dns, host, DNS_TYPE_CNAME, on_first_link, g);
	}
	return true;
}

/* Every look-up of hosts[host_i] is in: its addresses, and whether its
 * connections require DANE.  RFC 7672 2.2.2: TLSA counts only when the
 * MX and the address records are secure; then a TLSA look-up that failed
 * (bogus, or no answer) makes the host unusable, never a fall-back to
 * TLS without DANE or to plain text. */
static void host_ready(ob_group *g)
{
	if (g->canon != NULL && !g->canon_checked && g->ips.n > 0 && alias_lookup(g))
		return;
	const char *host = g->hosts.items[g->host_i];
	dane_ref_names(host, g->canon, g->chain_secure, g->tlsa_at_target ? DANE_PICK_TARGET : DANE_PICK_ORIG,
	               &g->dane_base, &g->ref_name2);
	/* "TLS-Required: No" (RFC 8689 4.2.2): the sender asks that DANE not
	 * stop this message; TLS is still used where offered.  A transport
	 * entry's tls = "dane-only" is the administrator's, and stays. */
	bool dane_only = g->route.tls == ROUTE_TLS_DANE_ONLY;
	bool secure_host = g->tlsa_asked && (!g->addr_insecure || g->first_link_secure) && g->ips.n > 0 &&
	                   (!g->a->tls_required_no || dane_only);
	g->dane_on = secure_host && g->tlsa_failed == NULL && g->tlsa.total > 0;
	/* delivery.prefer_family first; the other family follows in this
	 * same attempt when those addresses fail */
	route_order_addrs(&g->ips, g->a->o->prefer);
	g->ip_i = 0;
	if (secure_host && g->tlsa_failed != NULL) {
		if (g->tlsa_bogus && g->route.kind == ROUTE_DIRECT) /* TLS-RPT (RFC 8460 4.3.2.1) */
			tlsrptlive_note_lookup(g->a->o->tlsrpt, g->domain, g->hosts.items[g->host_i], TLSRPT_DNSSEC_INVALID,
			                       g->tlsa_failed + 4);
		add_reason(g, NULL, g->tlsa_failed, false, false);
		g->ip_i = g->ips.n; /* skip its addresses: the next MX */
	} else if (g->route.tls >= ROUTE_TLS_DANE && g->ips.n > 0 && (!g->dane_on || (dane_only && g->tlsa.n == 0))) {
		dane_level_unmet(g, secure_host);
	}
	try_next_ip(g);
}

static void on_address(void *arg, const dns_answer *ans)
{
	ob_group *g = arg;
	for (size_t i = 0; ans->status == DNS_OK && i < ans->values.n; i++)
		strlist_add(&g->ips, ans->values.items[i]);
	if (ans->status != DNS_TEMPFAIL && ans->canonname != NULL && g->canon == NULL)
		g->canon = xstrdup(ans->canonname);
	if (ans->status != DNS_TEMPFAIL && !ans->secure)
		g->addr_insecure = true;
	if (ans->status == DNS_TEMPFAIL && g->addr_lookups == 1) { /* once for A and AAAA */
		const char *host = g->hosts.items[g->host_i];
		char *why = ans->bogus ? xasprintf("451 4.4.3 Temporary DNS failure looking up %s (DNSSEC bogus: %s)",
		                                   host, ans->why_bogus)
		                       : xasprintf("451 4.4.3 Temporary DNS failure looking up %s", host);
		if (ans->bogus && g->route.kind == ROUTE_DIRECT) /* TLS-RPT (RFC 8460 4.3.2.1) */
			tlsrptlive_note_lookup(g->a->o->tlsrpt, g->domain, host, TLSRPT_DNSSEC_INVALID, why + 4);
		add_reason(g, NULL, why, false, false);
		free(why);
	}
	g->addr_lookups--;
	if (--g->lookups > 0)
		return;
	host_ready(g);
}

/* TLSA _25._tcp.<host> (RFC 7672 2.2.3), asked with the addresses when the
 * MX answer was secure. */
static void on_tlsa(void *arg, const dns_answer *ans)
{
	ob_group *g = arg;
	const char *host = g->hosts.items[g->host_i];
	g->tlsa_bogus = ans->status == DNS_TEMPFAIL && ans->bogus;
	if (ans->status == DNS_TEMPFAIL)
		g->tlsa_failed = ans->bogus
			? xasprintf("451 4.7.5 DANE: the TLSA records of %s are bogus (%s)", host, ans->why_bogus)
			: xasprintf("451 4.7.5 DANE: the TLSA look-up for %s failed", host);
	else if (ans->status == DNS_OK && ans->secure)
		dane_set_parse(&g->tlsa, &ans->values);
	/* insecure, or a secure denial: no DANE for this host */
	if (--g->lookups > 0)
		return;
	host_ready(g);
}

/* Some reason of the group is a server's address (not a failed look-up). */
static bool tried_to_connect(const ob_group *g)
{
	for (size_t i = 0; i < g->reason_where.n; i++)
		if (g->reason_where.items[i][0] != '\0')
			return true;
	return false;
}

static void next_host(ob_group *g)
{
	strlist_free(&g->ips);
	dane_set_free(&g->tlsa);
	free(g->tlsa_failed);
	g->tlsa_failed = NULL;
	g->addr_insecure = false;
	g->dane_on = false;
	free(g->canon);
	g->canon = NULL;
	g->canon_checked = g->chain_secure = g->first_link_secure = g->tlsa_at_target = false;
	g->dane_base = g->ref_name2 = NULL;
	if (g->host_i >= g->hosts.n) {
		/* every MX failed at connection level: defer with each one's reason */
		/* 5xx only when every server refused the message for good (a
		 * REQUIRETLS message no server can take); one that could not be
		 * reached may take it later, and then a 4xx one speaks for the
		 * deferral (a delay is never reported with a 5.x.x status) */
		bool perm = g->reasons_perm > 0 && g->reasons_perm == g->reasons.n + g->reasons_more;
		for (size_t i = 0; !perm && g->reasons.n > 0 && g->reasons.items[g->reason_main][0] == '5' &&
		                   i < g->reasons.n; i++)
			if (g->reasons.items[i][0] == '4')
				g->reason_main = i;
		int code;
		if (g->route.kind == ROUTE_DIRECT && !g->reason_reached && tried_to_connect(g))
			probe25_hint(g->a->o->probe); /* every MX unreachable: OP25B? */
		char *why = group_reasons(g, &code);
		group_set_all(g, perm ? 'f' : 't', code, why, g->cur_host, g->last_remote); /* the last one tried, if any */
		free(why);
		group_done(g);
		return;
	}
	unsigned char lit[sizeof(struct in6_addr)];
	const char *h = g->hosts.items[g->host_i];
	if (inet_pton(AF_INET, h, lit) == 1 || inet_pton(AF_INET6, h, lit) == 1) {
		/* an address (a transport map's host:[192.0.2.7], a relay by
		 * address): nothing to look up */
		strlist_add(&g->ips, h);
		g->ip_i = 0;
		g->tlsa_asked = false;
		if (g->route.tls >= ROUTE_TLS_DANE)
			dane_level_unmet(g, false);
		try_next_ip(g);
		return;
	}
	/* TLSA in parallel with the addresses (one round trip); it counts
	 * only if they turn out secure (host_ready).  A host: or relay route
	 * whose level is a DANE one asks too: its name comes from the
	 * configuration, not from an MX answer (RFC 7672 2.2.1, 3.1.2) */
	g->tlsa_asked = g->route.kind == ROUTE_DIRECT ? g->mx_secure : g->route.tls >= ROUTE_TLS_DANE;
	g->addr_lookups = 2;
	g->lookups = g->tlsa_asked ? 3 : 2;
	dns_lookup(g->a->o->dns, h, DNS_TYPE_A, on_address, g);
	dns_lookup(g->a->o->dns, h, DNS_TYPE_AAAA, on_address, g);
	if (g->tlsa_asked) {
		/* MX hosts: _25 whatever delivery.port says (RFC 7672 2.2.3) */
		char *q = xasprintf("_%d._tcp.%s", g->route.kind == ROUTE_DIRECT ? 25 : group_port(g), h);
		dns_lookup(g->a->o->dns, q, DNS_TYPE_TLSA, on_tlsa, g);
		free(q);
	}
}

static uint32_t ob_random(void *arg)
{
	return (uint32_t)rand_r(arg);
}

/* RFC 8461 4.1: under an enforce policy an MX host that matches none of
 * its mx patterns is not used (the reason stays for the deferral when no
 * host is left); under testing it is only logged. */
static void sts_filter_hosts(ob_group *g)
{
	if (g->sts == NULL)
		return;
	bool enforce = g->sts->mode == MTASTS_MODE_ENFORCE;
	strlist kept;
	strlist_init(&kept);
	for (size_t i = 0; i < g->hosts.n; i++) {
		const char *h = g->hosts.items[i];
		if (mtasts_mx_match(g->sts, h)) {
			strlist_add(&kept, h);
			continue;
		}
		log_event(LOG_LVL_WARN, "mtasts_mx_mismatch", "qid=%s domain=%s mx=%s mode=%s action=%s",
		          g->a->env.id, g->domain, h, mtasts_mode_name(g->sts->mode), enforce ? "skipped" : "used");
		if (!enforce) {
			strlist_add(&kept, h);
			continue;
		}
		char *why = xasprintf("451 4.7.5 MX %s does not match the MTA-STS policy of %s", h, g->domain);
		add_reason(g, NULL, why, false, false);
		free(why);
	}
	strlist_free(&g->hosts);
	g->hosts = kept;
}

static void on_mx(void *arg, const dns_answer *ans)
{
	ob_group *g = arg;
	char *why = NULL;
	g->mx_secure = ans->secure; /* DANE may apply (RFC 7672 2.2.1) */
	switch (ans->status) {
	case DNS_OK: {
		mx_status st = mx_order((const char *const *)ans->values.items, ans->prefs, ans->values.n,
		                        ob_random, &g->a->o->rnd, &g->hosts);
		if (st == MX_NULL) {
			why = xasprintf("556 5.1.10 Domain %s accepts no mail (null MX, RFC 7505)", g->domain);
			group_set_all(g, 'f', 556, why, NULL, NULL);
		}
		break;
	}
	case DNS_NODATA:
		strlist_add(&g->hosts, g->domain); /* no MX: the domain's own address */
		break;
	case DNS_NXDOMAIN:
		why = xasprintf("550 5.1.2 Domain %s does not exist (NXDOMAIN)", g->domain);
		group_set_all(g, 'f', 550, why, NULL, NULL);
		break;
	case DNS_TEMPFAIL:
		why = ans->bogus ? xasprintf("451 4.4.3 Temporary DNS failure looking up the MX of %s (DNSSEC bogus: %s)",
		                             g->domain, ans->why_bogus)
		                 : xasprintf("451 4.4.3 Temporary DNS failure looking up the MX of %s", g->domain);
		if (ans->bogus) /* TLS-RPT (RFC 8460 4.3.2.1) */
			tlsrptlive_note_lookup(g->a->o->tlsrpt, g->domain, NULL, TLSRPT_DNSSEC_INVALID, why + 4);
		group_set_all(g, 't', 451, why, NULL, NULL);
		break;
	}
	if (why == NULL && g->a->env.requiretls && !ans->secure) {
		/* RFC 8689 4.2.1: the MX hosts of a REQUIRETLS message must come
		 * from an authenticated look-up (DNSSEC) */
		why = xasprintf("550 5.7.10 REQUIRETLS: the MX look-up for %s is not DNSSEC-secure", g->domain);
		group_set_all(g, 'f', 550, why, NULL, NULL);
	}
	if (why != NULL) {
		free(why);
		group_done(g);
		return;
	}
	sts_filter_hosts(g);
	g->host_i = 0;
	next_host(g);
}

/* The domain's MTA-STS policy is known (p NULL: none): keep it for the
 * MX filter and the TLS requirements, then look the MX up. */
static void on_sts(void *arg, const mtasts_policy *p, const char *how)
{
	ob_group *g = arg;
	mtasts_policy_free(&g->sts);
	const char *fail_why = NULL;
	g->sts_fail = p == NULL ? (int)mtastsget_failure(g->a->o->sts, &fail_why) : MTASTS_FAIL_NONE;
	free(g->sts_fail_why);
	g->sts_fail_why = g->sts_fail != MTASTS_FAIL_NONE ? xstrdup(fail_why) : NULL;
	if (p != NULL) {
		g->sts = mtasts_policy_dup(p);
		log_event(LOG_LVL_INFO, "mtasts_apply", "qid=%s domain=%s mode=%s id=%s source=\"%s\"", g->a->env.id,
		          g->domain, mtasts_mode_name(p->mode), p->id ? p->id : "-", how);
	}
	if (g->conn != NULL) {
		/* an idle connection from the pool: it may have been opened
		 * before the policy was known, without a verified certificate or
		 * to a host the policy does not name, and smtpc_conn does not say
		 * how it was checked; under enforce it is not used (a fresh one
		 * is opened by the book).  (Reuse could be allowed once a
		 * connection records the level it was verified at.) */
		if (g->sts != NULL && g->sts->mode == MTASTS_MODE_ENFORCE) {
			connpool_discard(g->a->o->pool, group_dest(g), g->conn);
			g->conn = NULL;
		} else if (!g->conn_unchecked) {
			start_smtp(g, NULL);
			return;
		} /* else DANE's look-ups decide (start_smtp) */
	}
	dns_lookup(g->a->o->dns, g->domain, DNS_TYPE_MX, on_mx, g);
}

/* How a group finds its server: the relay host, or the domain's MX (after
 * its MTA-STS policy, when mtasts.enable; through a relay the policy
 * domain would be the relay's, RFC 8461 3.4: not looked up). */
static void group_lookup(ob_group *g)
{
	strlist_free(&g->hosts);
	strlist_init(&g->hosts);
	g->host_i = 0;
	g->port_i = 0;
	if (g->route.kind != ROUTE_DIRECT) {
		strlist_add(&g->hosts, g->route.host); /* the relay or fixed host: no MX */
		next_host(g);
	} else if (g->a->o->sts != NULL) {
		mtastsget_lookup(g->a->o->sts, g->domain, on_sts, g);
	} else {
		dns_lookup(g->a->o->dns, g->domain, DNS_TYPE_MX, on_mx, g);
	}
}

/* The connection-pool key: the recipient domain, "[relay]", "[relay:NAME]"
 * or "[host:H:PORT]", with the TLS level and source addresses when they
 * are not the defaults (route_pool_key). */
static const char *group_dest(const ob_group *g)
{
	return g->dest;
}

/* A connection slot for the group: with an idle connection to the same
 * destination, or leave to open one. */
static void on_grant(void *arg, smtpc_conn *idle)
{
	ob_group *g = arg;
	g->has_slot = true;
	if (idle != NULL && g->a->env.requiretls && g->route.kind == ROUTE_DIRECT) {
		/* RFC 8689 4.2.1: a REQUIRETLS message needs its own (secure) MX
		 * look-up, which an idle connection would skip */
		connpool_discard(g->a->o->pool, group_dest(g), idle);
		idle = NULL;
	}
	if (idle == NULL) {
		group_lookup(g);
		return;
	}
	g->conn = idle;
	/* a connection DANE did not authenticate may carry this mail only if
	 * the host needs no DANE now: the look-ups first (start_smtp) */
	g->conn_unchecked = !smtpc_conn_dane(idle) && dns_validating(g->a->o->dns) &&
	                    g->route.kind == ROUTE_DIRECT;
	/* a relay or fixed host: no MX, no policy */
	if (!g->conn_unchecked && (g->route.kind != ROUTE_DIRECT || g->a->o->sts == NULL)) {
		start_smtp(g, NULL);
		return;
	}
	/* held across the look-ups: the MTA-STS policy decides whether idle
	 * may be used (on_sts), then DANE's (start_smtp) */
	smtpc_conn_hold(idle);
	group_lookup(g);
}

/* ---- the attempt ---- */

/* ARC (rewrite.arc_seal, RFC 8617): mail that came in on port 25 and is
 * sent on (an alias pointing outside) gets an ARC set over what was found
 * on arrival (our Authentication-Results), sealed with an RSA key of the
 * forwarding domain (rewrite.srs.domain), so that the next receiver can
 * trust the results from before the forward.  The 7-bit copy is sealed
 * apart.  On the worker; read_done logs the outcome.  A message that
 * cannot be sealed goes as it is. */
static void arc_prepare(ob_attempt *a)
{
	const rewrite_state *rw = a->o->rewrite;
	const config *cfg = a->o->cfg;
	buf_init(&a->arc, QFILE_MAX);
	buf_init(&a->arc7, QFILE_MAX);
	if (rw == NULL || !rw->arc_on || a->env.auth_user != NULL)
		return;
	dkim_keyset set = {0};
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(cfg->data_dir, rw->srs_domain, &set, &problems);
	strlist_free(&problems);
	const dkim_key *k = NULL;
	for (size_t i = 0; i < set.n && k == NULL; i++)
		if (set.keys[i].alg == DKIM_ALG_RSA_SHA256)
			k = &set.keys[i];
	char *results = arc_results_of(a->body, a->body_len,
	                               cfg->msgauth.authserv_id ? cfg->msgauth.authserv_id : cfg->hostname);
	time_t now = time(NULL);
	if (k == NULL)
		a->arc_error = xasprintf("no RSA DKIM key for %s (yubin dkim keygen %s --algorithm rsa)", rw->srs_domain,
		                         rw->srs_domain);
	else if (arc_seal(a->body, a->body_len, k, results, now, false, &a->arc, &a->arc_error) &&
	         buf_append(&a->arc, a->body, a->body_len) &&
	         (a->dg.body == NULL || (arc_seal(a->dg.body, a->dg.len, k, results, now, false, &a->arc7, &a->arc_error) &&
	                                 buf_append(&a->arc7, a->dg.body, a->dg.len))))
		a->arc_selector = xstrdup(k->selector);
	if (a->arc_selector == NULL) {
		buf_clear(&a->arc);
		buf_clear(&a->arc7);
		if (a->arc_error == NULL)
			a->arc_error = xstrdup("the sealed message is too big");
	}
	free(results);
	dkim_keyset_free(&set);
}

static void read_work(void *arg)
{
	ob_attempt *a = arg;
	a->data = fs_read_file(a->e->path, QFILE_MAX, &a->len);
	if (a->data == NULL) {
		a->parse_error = strerror(errno);
		return;
	}
	a->parsed = qfile_parse(a->data, a->len, &a->env, &a->body, &a->body_len, &a->parse_error);
	if (!a->parsed) /* changed or torn since it was queued: never sent */
		queue_quarantine(a->o->q, a->e->path, a->parse_error);
	/* ready before any server is asked: converting costs one pass and
	 * maybe a signature, less than holding a connection open for it.  An
	 * SMTPUTF8 message is never converted (RFC 6531 needs 8BITMIME too). */
	if (a->parsed && !a->env.utf8 && str_has_8bit(a->body, a->body_len))
		downgrade_prepare(a->o->cfg->data_dir, a->body, a->body_len, QFILE_MAX, &a->dg);
	if (a->parsed)
		arc_prepare(a);
	/* RFC 8689 4.1: with REQUIRETLS the field is ignored */
	if (a->parsed && !a->env.requiretls)
		a->tls_required_no = tlsrequired_header_no(a->body, a->body_len);
}

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at ? at + 1 : "";
}

/* Group the pending remote recipients by domain; false when there are none. */
static bool make_groups(ob_attempt *a)
{
	a->groups = xcalloc(a->env.n_rcpts, sizeof(ob_group));
	for (size_t i = 0; i < a->env.n_rcpts; i++) {
		qrcpt *r = &a->env.rcpts[i];
		if (r->kind != 'R' || r->done || r->failed)
			continue;
		ob_group *g = NULL;
		for (size_t k = 0; k < a->n_groups && g == NULL; k++)
			if (str_ascii_ieq(a->groups[k].domain, domain_of(r->address)))
				g = &a->groups[k];
		if (g == NULL) {
			g = &a->groups[a->n_groups++];
			g->a = a;
			g->domain = xstrdup(domain_of(r->address));
			str_ascii_lower(g->domain);
			g->idx = xcalloc(a->env.n_rcpts, sizeof(size_t));
			g->addrs = xcalloc(a->env.n_rcpts, sizeof(char *));
			g->notify = xcalloc(a->env.n_rcpts, sizeof(unsigned));
			g->orcpt = xcalloc(a->env.n_rcpts, sizeof(char *));
			strlist_init(&g->hosts);
			strlist_init(&g->ips);
			strlist_init(&g->reasons);
			strlist_init(&g->reason_where);
		}
		g->idx[g->n] = i;
		g->notify[g->n] = r->notify;
		g->orcpt[g->n] = r->orcpt;
		g->addrs[g->n++] = r->address;
	}
	a->groups_left = a->n_groups;
	return a->n_groups > 0;
}

static void attempt_free(ob_attempt *a)
{
	outbound *o = a->o;
	if (--o->n_attempts <= o->max_attempts / 2 && o->throttled) {
		/* room again for messages that are due */
		o->throttled = false;
		struct timeval now = {0, 0};
		evtimer_add(o->timer, &now);
	}
	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		a->o->attempts = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	for (size_t k = 0; k < a->n_groups; k++) {
		ob_group *g = &a->groups[k];
		free(g->domain);
		free(g->dest);
		free(g->idx);
		free(g->addrs);
		free(g->notify);
		free(g->orcpt);
		strlist_free(&g->hosts);
		strlist_free(&g->ips);
		dane_set_free(&g->tlsa);
		free(g->tlsa_failed);
		free(g->canon);
		strlist_free(&g->reasons);
		strlist_free(&g->reason_where);
		free(g->last_remote);
		free(g->cur_host);
		mtasts_policy_free(&g->sts);
		free(g->sts_fail_why);
	}
	free(a->groups);
	for (size_t i = 0; a->res != NULL && i < a->env.n_rcpts; i++) {
		free(a->res[i].status);
		free(a->res[i].reply);
		free(a->res[i].mx);
		free(a->res[i].diag);
	}
	free(a->res);
	if (a->parsed)
		qenvelope_free(&a->env);
	downgrade_free(&a->dg);
	free(a->data);
	free(a->mail_from);
	buf_free(&a->arc);
	buf_free(&a->arc7);
	free(a->arc_error);
	free(a->arc_selector);
	free(a);
}

static void entry_remove(outbound *o, ob_entry *e)
{
	for (ob_entry **pp = &o->entries; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			free(e->path);
			free(e);
			return;
		}
	}
}

static void arm_timer(outbound *o);
static void finish_attempt(ob_attempt *a);

/* Mail that arrived from elsewhere (not a user's submission) and is sent
 * on to another domain, an alias pointing outside, is forwarding: with
 * rewrite.srs.enable it leaves with an SRS sender at our domain, so that
 * the next server's SPF check of the envelope sender passes.  A null
 * sender and one of our own domains stay as they are.  Bounces go to the
 * original sender either way (the DSN code reads env.sender). */
static char *srs_sender(const ob_attempt *a)
{
	const rewrite_state *rw = a->o->rewrite;
	const char *sender = a->env.sender, *at = strrchr(sender, '@');
	if (rw == NULL || !rw->srs_on || a->env.auth_user != NULL || at == NULL ||
	    accounts_domain_is_local(a->o->acc, at + 1) || str_ascii_ieq(at + 1, rw->srs_domain))
		return NULL;
	char *out = NULL;
	srs_status st = srs_forward(&rw->srs, sender, time(NULL), &out);
	if (st == SRS_OK)
		log_event(LOG_LVL_INFO, "srs_forward", "qid=%s sender=%s mail_from=%s", a->env.id, sender, out);
	else /* sent as it is: SPF may fail at the destination, but nothing is lost */
		log_event(LOG_LVL_WARN, "srs_forward", "qid=%s sender=%s mail_from=%s error=%s", a->env.id, sender,
		          sender, srs_status_text(st));
	return out;
}

void outbound_set_rewrite(outbound *o, const rewrite_state *rw)
{
	o->rewrite = rw;
}

static void read_done(void *arg)
{
	ob_attempt *a = arg;
	outbound *o = a->o;
	if (a->e->deleted) {
		entry_remove(o, a->e);
		attempt_free(a);
		return;
	}
	if (!a->parsed) {
		if (access(a->e->path, F_OK) != 0 && errno == ENOENT) /* deleted meanwhile */
			log_event(LOG_LVL_INFO, "delivery", "file=%s result=gone", a->e->path);
		else
			log_event(LOG_LVL_ERROR, "delivery", "file=%s result=skipped error=%s", a->e->path,
			          a->parse_error ? a->parse_error : "unreadable");
		entry_remove(o, a->e);
		attempt_free(a);
		return;
	}
	a->res = xcalloc(a->env.n_rcpts, sizeof(ob_result));
	a->mail_from = srs_sender(a);
	if (a->arc_selector != NULL)
		log_event(LOG_LVL_INFO, "arc_seal", "qid=%s domain=%s selector=%s result=sealed", a->env.id,
		          a->o->rewrite->srs_domain, a->arc_selector);
	else if (a->arc_error != NULL)
		log_event(LOG_LVL_WARN, "arc_seal", "qid=%s domain=%s result=unsealed error=%s", a->env.id,
		          a->o->rewrite->srs_domain, a->arc_error);
	if (a->dg.body != NULL || a->dg.refusal != NULL) {
		/* prepared for a server without 8BITMIME, if one is met */
		log_event(a->dg.sign_error ? LOG_LVL_WARN : LOG_LVL_INFO, "downgrade",
		          "qid=%s result=%s resigned=%s error=%s", a->env.id,
		          a->dg.body ? "prepared" : "impossible", a->dg.resigned ? a->dg.resigned : "-",
		          a->dg.refusal ? a->dg.refusal : a->dg.sign_error ? a->dg.sign_error : "-");
	}
	if (a->env.requiretls || a->tls_required_no)
		log_event(LOG_LVL_INFO, "tls_request", "qid=%s requiretls=%s tls_required=%s", a->env.id,
		          a->env.requiretls ? "yes" : "no", a->tls_required_no ? "no" : "-");
	if (a->e->bounce) {
		/* returned by the postmaster: every pending remote recipient fails */
		a->e->bounce = false;
		for (size_t i = 0; i < a->env.n_rcpts; i++) {
			qrcpt *r = &a->env.rcpts[i];
			if (r->kind == 'R' && !r->done && !r->failed)
				set_result(a, i, 'f', 550, "550 5.0.0 Returned to the sender by the postmaster", NULL,
				           NULL);
		}
		a->now = time(NULL);
		finish_attempt(a);
		return;
	}
	if (a->env.held) {
		a->e->held = true; /* learnt from the file, e.g. after a restart */
		a->e->busy = false;
		attempt_free(a);
		return;
	}
	if (!make_groups(a)) {
		entry_remove(o, a->e); /* nothing remote left */
		attempt_free(a);
		return;
	}
	for (size_t k = 0; k < a->n_groups; k++) {
		ob_group *g = &a->groups[k];
		route_decide(o->cfg, probe25_blocked(o->probe), g->domain,
		             domain_of(a->env.sender), &g->route);
		g->relay = g->route.kind == ROUTE_RELAY;
		g->dest = route_pool_key(&g->route, g->domain);
		smtpc_conn *idle;
		if (connpool_acquire(o->pool, group_dest(g), on_grant, g, &idle))
			on_grant(g, idle);
	}
}

/* ---- finishing an attempt ---- */

static bool sender_is_null(const ob_attempt *a)
{
	return a->env.sender[0] == '\0';
}

/* The report a recipient gets from this attempt (RFC 3461 4.1): a failure
 * or a delay when its NOTIFY asks for one (or is absent); a success only
 * with NOTIFY=SUCCESS, and only when the server that took it did not
 * advertise DSN (one that did was given the NOTIFY and reports itself). */
static bool dsn_due(const ob_attempt *a, size_t i, dsn_action action)
{
	const ob_result *r = &a->res[i];
	unsigned notify = a->env.rcpts[i].notify;
	switch (action) {
	case DSN_ACTION_FAILED: return r->kind == 'f' && dsnparam_wants(notify, DSN_NOTIFY_FAILURE);
	case DSN_ACTION_DELAYED: return r->kind == 't' && dsnparam_wants(notify, DSN_NOTIFY_DELAY);
	case DSN_ACTION_RELAYED:
		return r->kind == 'd' && !r->remote_dsn && dsnparam_wants(notify, DSN_NOTIFY_SUCCESS);
	default: return false;
	}
}

/* Send the report of one kind (failed, delayed or relayed) about the
 * recipients it is due for to the envelope sender.  RET=FULL returns the
 * whole message with a failure report; everything else only its headers. */
static void send_dsn(ob_attempt *a, dsn_action action)
{
	outbound *o = a->o;
	if (sender_is_null(a))
		return; /* never bounce a bounce (RFC 5321 4.5.5) */
	dsn_rcpt *dr = xcalloc(a->env.n_rcpts, sizeof(dsn_rcpt));
	size_t n = 0;
	for (size_t i = 0; i < a->env.n_rcpts; i++) {
		ob_result *r = &a->res[i];
		if (!dsn_due(a, i, action))
			continue;
		dr[n++] = (dsn_rcpt){.address = a->env.rcpts[i].address, .orig = a->env.rcpts[i].orcpt,
		                     .action = action, .status = r->status, .remote_mta = r->mx,
		                     .diagnostic = r->diag,
		                     .reason = r->diag && strcmp(r->diag, r->reply) == 0 ? NULL : r->reply,
		                     .last_attempt = a->now,
		                     .will_retry_until = a->env.time + o->cfg->delivery.lifetime};
	}
	dsn_info info = {.reporting_mta = o->cfg->hostname, .qid = a->env.id, .envid = a->env.envid,
	                 .sender = a->env.sender, .arrival = a->env.time, .now = a->now,
	                 /* RFC 8689 5: about a REQUIRETLS message, as if RET=HDRS */
	                 .headers_only = !(action == DSN_ACTION_FAILED && a->env.ret == DSN_RET_FULL) ||
	                                 a->env.requiretls};
	buf msg;
	buf_init(&msg, DSN_MAX);
	if (n > 0 && dsn_build(&info, dr, n, a->body, a->body_len, &msg)) {
		static const char *const kinds[] = {"failed", "delayed", "delivered", "relayed"};
		report_ctx rep = {.q = o->q, .acc = o->acc, .hostname = o->cfg->hostname,
		                  .requiretls = a->env.requiretls}; /* RFC 8689 5 */
		report_send(&rep, a->env.id, a->env.sender, kinds[action], n, msg.data, msg.len);
	}
	buf_free(&msg);
	free(dr);
}

/* Deferred recipients fail with 4.4.7 once the lifetime is over; before
 * that, the next attempt is never later than the end of the lifetime.
 * Returns how many are still deferred; *next_r is when to try again. */
static size_t expire(ob_attempt *a, time_t *next_r)
{
	/* times are whole seconds and the arrival was truncated: "over" means
	 * strictly past the end, so a recipient never expires early */
	time_t end = a->env.time + a->o->cfg->delivery.lifetime;
	bool over = a->now > end;
	if (*next_r > end + 1)
		*next_r = end + 1;
	size_t still = 0;
	for (size_t i = 0; i < a->env.n_rcpts; i++) {
		ob_result *r = &a->res[i];
		if (r->kind != 't')
			continue;
		if (!over) {
			still++;
			continue;
		}
		char *why = xasprintf("Delivery time expired (4.4.7); last reply: %s", r->reply);
		free(r->reply);
		r->reply = why;
		free(r->status);
		r->status = xstrdup("4.4.7");
		r->kind = 'x';
	}
	return still;
}

static void append_records(ob_attempt *a, time_t next, bool warned_now)
{
	buf rec;
	buf_init(&rec, BUF_UNBOUNDED);
	for (size_t i = 0; i < a->env.n_rcpts; i++) {
		ob_result *r = &a->res[i];
		if (r->kind == 'd')
			qfile_format_state(&rec, "done", i, NULL, NULL);
		else if (r->kind == 'f' || r->kind == 'x')
			qfile_format_state(&rec, "fail", i, r->status, r->reply);
		else if (r->kind == 't')
			qfile_format_state(&rec, "defer", i, r->reply, NULL);
	}
	if (warned_now)
		BUF_PUTS(&rec, "warned\n");
	if (next > 0)
		BUF_PRINTF(&rec, "next %lld %d\n", (long long)next, a->env.attempts + 1);
	int fd = open(a->e->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || !fs_write_all(fd, rec.data, rec.len) || fdatasync(fd) != 0)
		a->io_errno = errno;
	if (fd >= 0)
		close(fd);
	buf_free(&rec);
}

/* The audit trail's final (or deferred) state of recipient i. */
static void audit_final(const ob_attempt *a, size_t i, audit_kind kind)
{
	const ob_result *r = &a->res[i];
	const char *rcpt = a->env.rcpts[i].address;
	json_t *d = json_object();
	json_object_set_new(d, "rcpt", audit_str(rcpt));
	audit_set(d, "host", r->mx);
	json_object_set_new(d, "reply", audit_str(r->reply ? r->reply : ""));
	audit_set(d, "status", r->status);
	if (kind == AUDIT_DEFERRED && a->next_due > 0)
		json_object_set_new(d, "next_try", json_integer(a->next_due));
	audit_emit(kind, a->env.id, rcpt, d);
}

/* The counters of one recipient's outcome (metrics/metrics.h). */
static void count_final(const ob_attempt *a, char kind)
{
	if (kind == 'd')
		metrics_delivered(METRICS_REMOTE, a->env.time);
	else if (kind == 'f' || kind == 'x')
		metrics_bounced(METRICS_REMOTE);
	else if (kind == 't')
		metrics_deferred(METRICS_REMOTE);
}

static void log_final(ob_attempt *a)
{
	static const struct { char kind; const char *word; audit_kind audit; } words[] = {
		{'d', "sent", AUDIT_DELIVERED}, {'f', "bounced", AUDIT_BOUNCED}, {'x', "expired", AUDIT_BOUNCED},
		{'t', "deferred", AUDIT_DEFERRED}};
	for (size_t i = 0; i < a->env.n_rcpts; i++)
		count_final(a, a->res[i].kind);
	for (size_t i = 0; i < a->env.n_rcpts; i++) {
		for (size_t w = 0; w < 4; w++) {
			if (a->res[i].kind != words[w].kind)
				continue;
			audit_final(a, i, words[w].audit);
			log_event(LOG_LVL_INFO, "delivery",
			          "qid=%s to=%s result=%s status=%s mx=%s delay=%llds reply=%s", a->env.id,
			          a->env.rcpts[i].address, words[w].word, a->res[i].status,
			          a->res[i].mx, (long long)(a->now - a->env.time), a->res[i].reply);
		}
	}
}

/* Worker: make the file say what happened.  When nothing is left to try
 * the file just goes (no record first: a crash before the unlink is on
 * disk repeats the attempt, and SMTP promises at-least-once); otherwise
 * the results and the next attempt time are appended and synced. */
static void record_work(void *arg)
{
	ob_attempt *a = arg;
	if (a->all_final) {
		if (unlink(a->e->path) != 0)
			a->io_errno = errno;
		return;
	}
	append_records(a, a->next_due, a->warn);
}

static void record_done(void *arg)
{
	ob_attempt *a = arg;
	outbound *o = a->o;
	if (a->e->deleted) { /* by the postmaster meanwhile: its file is gone */
		entry_remove(o, a->e);
	} else if (a->all_final) {
		if (a->io_errno == 0)
			log_event(LOG_LVL_INFO, "queue_remove", "qid=%s result=%s", a->env.id, "finished");
		else
			log_event(LOG_LVL_ERROR, "queue_remove", "qid=%s error=%s", a->env.id,
			          strerror(a->io_errno));
		entry_remove(o, a->e);
	} else {
		if (a->io_errno != 0)
			log_event(LOG_LVL_ERROR, "queue_update", "qid=%s error=%s", a->env.id,
			          strerror(a->io_errno));
		a->e->due = a->e->bounce ? a->now : a->next_due;
		a->e->busy = false;
	}
	attempt_free(a);
	arm_timer(o);
}

static void finish_attempt(ob_attempt *a)
{
	outbound *o = a->o;
	const config_delivery *d = &o->cfg->delivery;
	int step = a->env.attempts < d->n_retry ? d->retry[a->env.attempts] : d->retry[d->n_retry - 1];
	time_t next = a->now + step;
	size_t deferred = expire(a, &next);
	a->warn = deferred > 0 && !a->env.warned && a->now >= a->env.time + d->delay_warning;
	a->next_due = deferred > 0 ? next : 0;
	log_final(a);
	/* bounce first, then record: a crash in between repeats the bounce
	 * rather than losing it */
	for (size_t i = 0; i < a->env.n_rcpts; i++)
		if (a->res[i].kind == 'x')
			a->res[i].kind = 'f';
	send_dsn(a, DSN_ACTION_FAILED);
	if (a->warn)
		send_dsn(a, DSN_ACTION_DELAYED);
	send_dsn(a, DSN_ACTION_RELAYED);
	a->all_final = true;
	for (size_t i = 0; i < a->env.n_rcpts; i++) {
		qrcpt *r = &a->env.rcpts[i];
		char k = a->res[i].kind;
		if (!(r->done || r->failed || k == 'd' || k == 'f'))
			a->all_final = false;
	}
	workers_submit(o->wk, record_work, record_done, a);
}

static void group_done(ob_group *g)
{
	ob_attempt *a = g->a;
	if (g->has_slot) {
		connpool_release(a->o->pool, group_dest(g), g->conn);
		g->conn = NULL;
		g->has_slot = false;
	}
	if (--a->groups_left == 0) {
		a->now = time(NULL);
		finish_attempt(a);
	}
}

/* ---- scheduling ---- */

static void start_attempt(outbound *o, ob_entry *e)
{
	ob_attempt *a = xcalloc(1, sizeof(*a));
	o->n_attempts++;
	a->o = o;
	a->e = e;
	a->now = time(NULL);
	a->next = o->attempts;
	if (o->attempts != NULL)
		o->attempts->prev = a;
	o->attempts = a;
	e->busy = true;
	workers_submit(o->wk, read_work, read_done, a);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	outbound *o = arg;
	time_t now = time(NULL);
	for (ob_entry *e = o->entries; e != NULL && !o->throttled; e = e->next) {
		if (e->busy || (e->held && !e->bounce) || e->due > now)
			continue;
		if (o->n_attempts >= o->max_attempts)
			o->throttled = true; /* attempt_free wakes us when there is room */
		else
			start_attempt(o, e);
	}
	arm_timer(o);
}

/* Wake at the earliest due entry that is not running. */
static void arm_timer(outbound *o)
{
	time_t now = time(NULL), first = 0;
	bool any = false;
	if (o->throttled)
		return; /* attempt_free re-arms it */
	for (ob_entry *e = o->entries; e != NULL; e = e->next) {
		if (e->busy || (e->held && !e->bounce))
			continue;
		if (!any || e->due < first)
			first = e->due;
		any = true;
	}
	if (!any) {
		evtimer_del(o->timer);
		return;
	}
	struct timeval tv = {first > now ? first - now : 0, 0};
	evtimer_add(o->timer, &tv);
}

void outbound_schedule(outbound *o, const char *path, time_t due)
{
	ob_entry **tail = &o->entries;
	for (; *tail != NULL; tail = &(*tail)->next)
		if (strcmp((*tail)->path, path) == 0)
			return;
	/* at the end: messages due at once are tried oldest first */
	ob_entry *e = xcalloc(1, sizeof(*e));
	e->path = xstrdup(path);
	e->due = due;
	*tail = e;
	arm_timer(o);
}

size_t outbound_flush(outbound *o, const char *qid)
{
	size_t n = 0;
	time_t now = time(NULL);
	for (ob_entry *e = o->entries; e != NULL; e = e->next) {
		const char *base = strrchr(e->path, '/');
		base = base ? base + 1 : e->path;
		if (e->busy || e->held || (qid != NULL && strcmp(base, qid) != 0))
			continue;
		e->due = now;
		n++;
	}
	if (n > 0) {
		log_event(LOG_LVL_INFO, "queue_flush", "qid=%s messages=%zu", qid ? qid : "all", n);
		arm_timer(o);
	}
	return n;
}

static ob_entry *entry_by_qid(outbound *o, const char *qid)
{
	for (ob_entry *e = o->entries; e != NULL; e = e->next) {
		const char *base = strrchr(e->path, '/');
		if (strcmp(base ? base + 1 : e->path, qid) == 0)
			return e;
	}
	return NULL;
}

const char *outbound_hold(outbound *o, const char *qid, bool hold)
{
	ob_entry *e = entry_by_qid(o, qid);
	if (e == NULL)
		return "no such message waiting for remote delivery";
	/* an attempt may be running: it finishes, and the next one waits */
	int fd = open(e->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	const char *rec = hold ? "held\n" : "released\n";
	bool ok = fd >= 0 && fs_write_all(fd, rec, strlen(rec)) && fdatasync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok)
		return "cannot update the queue file";
	e->held = hold;
	if (!hold)
		e->due = time(NULL);
	log_event(LOG_LVL_INFO, hold ? "queue_hold" : "queue_release", "qid=%s", qid);
	arm_timer(o);
	return NULL;
}

const char *outbound_bounce(outbound *o, const char *qid)
{
	ob_entry *e = entry_by_qid(o, qid);
	if (e == NULL)
		return "no such message waiting for remote delivery";
	e->bounce = true; /* after an attempt that is running, if any */
	e->due = time(NULL);
	log_event(LOG_LVL_INFO, "queue_bounce", "qid=%s", qid);
	arm_timer(o);
	return NULL;
}

const char *outbound_delete(outbound *o, const char *qid)
{
	ob_entry *e = entry_by_qid(o, qid);
	if (e != NULL && e->deleted)
		return "no such message";
	char *root = config_path_queue(o->cfg);
	char *path = e != NULL ? xstrdup(e->path) : xasprintf("%s/active/%s", root, qid);
	free(root);
	int err = unlink(path) == 0 ? 0 : errno;
	free(path);
	if (err != 0 && (err != ENOENT || e == NULL))
		return err == ENOENT ? "no such message" : "cannot remove the queue file";
	/* an attempt that is running finishes, then forgets the entry */
	if (e != NULL && e->busy)
		e->deleted = true;
	else if (e != NULL)
		entry_remove(o, e);
	log_event(LOG_LVL_INFO, "queue_delete", "qid=%s", qid);
	/* the trail says where the message went: its open recipients end here */
	audit_emit(AUDIT_REMOVED, qid, NULL, json_pack("{s:s}", "op", "delete"));
	return NULL;
}

void outbound_on_remote(void *o, const char *path, time_t due)
{
	outbound_schedule(o, path, due);
}

static SSL_CTX *client_tls(const config *cfg, char **err_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		*err_r = xstrdup("cannot create the client TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* opportunistic: verify, remember the verdict, but do not refuse */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_default_verify_paths(ctx);
	if (cfg->delivery.tls_ca_file != NULL && *cfg->delivery.tls_ca_file &&
	    SSL_CTX_load_verify_locations(ctx, cfg->delivery.tls_ca_file, NULL) != 1) {
		*err_r = xasprintf("cannot load delivery.tls_ca_file %s", cfg->delivery.tls_ca_file);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The queue gauges (metrics/metrics.h) for the messages this scheduler
 * holds, from its list at the moment of the scrape: held ones, active ones
 * (an attempt running, or due now), and deferred ones (waiting for a
 * retry). */
static double queue_gauge(void *arg, metrics_gauge g)
{
	const outbound *o = arg;
	time_t now = time(NULL);
	size_t n = 0;
	for (const ob_entry *e = o->entries; e != NULL; e = e->next) {
		bool held = e->held && !e->bounce;
		bool active = !held && (e->busy || e->due <= now);
		n += g == METRICS_QUEUE_HELD ? held : g == METRICS_QUEUE_ACTIVE ? active : !held && !active;
	}
	return (double)n;
}

static const metrics_gauge queue_gauges[] = {METRICS_QUEUE_ACTIVE, METRICS_QUEUE_DEFERRED, METRICS_QUEUE_HELD};

/* Each named relay's password (route.relays' password_file). */
static bool load_relay_passwords(outbound *o, char **err_r)
{
	const config_route *r = &o->cfg->route;
	if (r->n_relays == 0)
		return true;
	o->relay_passwords = xcalloc((size_t)r->n_relays, sizeof(char *));
	for (int i = 0; i < r->n_relays; i++) {
		const char *f = r->relays[i].password_file;
		if (f == NULL)
			continue;
		o->relay_passwords[i] = fs_read_file(f, 4096, NULL);
		if (o->relay_passwords[i] == NULL) {
			*err_r = xasprintf("cannot read the password_file %s of relay %s: %s", f, r->relays[i].name,
			                   strerror(errno));
			return false;
		}
		o->relay_passwords[i][strcspn(o->relay_passwords[i], "\r\n")] = '\0';
	}
	return true;
}

/* The probe changed its verdict (probe25.c logged it): idle connections
 * lead where mail no longer goes, and deferred mail may leave now by the
 * new route rather than at its next retry. */
static void on_route_change(void *arg, bool blocked)
{
	outbound *o = arg;
	size_t closed = connpool_close_idle(o->pool);
	log_event(LOG_LVL_INFO, "route_switch", "port25=%s idle_closed=%zu", blocked ? "blocked" : "open", closed);
	outbound_flush(o, NULL);
}

outbound *outbound_new(struct event_base *base, const config *cfg, dns_resolver *dns, workers *w,
                       queue *q, accounts *acc, char **err_r)
{
	char *password = NULL;
	if (cfg->relay.password_file != NULL) {
		password = fs_read_file(cfg->relay.password_file, 4096, NULL);
		if (password == NULL) {
			*err_r = xasprintf("cannot read relay.password_file %s: %s", cfg->relay.password_file,
			                   strerror(errno));
			return NULL;
		}
		password[strcspn(password, "\r\n")] = '\0';
	}
	SSL_CTX *tls = client_tls(cfg, err_r);
	if (tls == NULL) {
		str_secure_free(password);
		return NULL;
	}
	outbound *o = xcalloc(1, sizeof(*o));
	*o = (outbound){.base = base, .cfg = cfg, .dns = dns, .wk = w, .q = q, .acc = acc, .tls = tls,
	                .rnd = (unsigned)time(NULL) ^ (unsigned)getpid()};
	o->timer = evtimer_new(base, on_timer, o);
	o->pool = connpool_new(base, cfg->delivery.max_connections, cfg->delivery.max_per_destination);
	/* enough messages in memory to keep every connection busy, with a
	 * next message waiting for each */
	o->max_attempts = (size_t)cfg->delivery.max_connections * 4;
	o->relay_password = password;
	char *sts_err = NULL;
	o->sts = mtastsget_new(base, cfg, dns, &sts_err);
	if (sts_err != NULL) {
		/* no cache file: the policies cannot be remembered across restarts */
		*err_r = sts_err;
		outbound_free(&o);
		return NULL;
	}
	o->prefer = route_family_parse(cfg->route.prefer_family);
	if (cfg->tlsrpt.enable && (o->tlsrpt = tlsrptlive_new(w, cfg->data_dir, err_r)) == NULL) {
		outbound_free(&o);
		return NULL;
	}
	if (cfg->tlsrpt.enable)
		o->tlsrpt_send = tlsrptsend_new(base, cfg, dns, q, acc);
	if (!load_relay_passwords(o, err_r)) {
		outbound_free(&o);
		return NULL;
	}
	o->probe = probe25_new(base, cfg, dns, on_route_change, o);
	for (size_t i = 0; i < sizeof queue_gauges / sizeof queue_gauges[0]; i++)
		metrics_gauge_register(queue_gauges[i], queue_gauge, o);
	return o;
}

int outbound_tlsrpt_send(outbound *o, int64_t day, char **err_r)
{
	if (o->tlsrpt_send == NULL) {
		*err_r = xstrdup("TLS reporting is off (tlsrpt.enable)");
		return -1;
	}
	return tlsrptsend_day(o->tlsrpt_send, day, err_r);
}

void outbound_free(outbound **op)
{
	outbound *o = *op;
	if (o == NULL)
		return;
	for (size_t i = 0; i < sizeof queue_gauges / sizeof queue_gauges[0]; i++)
		metrics_gauge_unregister(queue_gauges[i], queue_gauge, o);
	mtastsget_free(&o->sts); /* before the groups that wait for it */
	tlsrptlive_free(&o->tlsrpt);
	tlsrptsend_free(&o->tlsrpt_send);
	while (o->attempts != NULL) {
		ob_attempt *a = o->attempts;
		for (size_t k = 0; k < a->n_groups; k++) {
			ob_group *g = &a->groups[k];
			if (g->job_running)
				smtpc_abort(&g->job);
			else if (!g->has_slot)
				connpool_cancel(o->pool, g); /* maybe waiting in line */
			smtpc_conn_free(g->conn);
		}
		attempt_free(a);
	}
	probe25_free(&o->probe);
	for (int i = 0; o->relay_passwords != NULL && i < o->cfg->route.n_relays; i++)
		str_secure_free(o->relay_passwords[i]);
	free(o->relay_passwords);
	connpool_free(&o->pool);
	while (o->entries != NULL)
		entry_remove(o, o->entries);
	event_free(o->timer);
	SSL_CTX_free(o->tls);
	str_secure_free(o->relay_password);
	free(o);
	*op = NULL;
}
