/* tlsrptsend.c — the daily TLS-RPT reports, looked up, built, signed and
 * queued (see tlsrptsend.h).  Must not count sessions (tlsrptlive.c). */
#include "delivery/tlsrptsend.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/tlsrpt.h"
#include "delivery/tlsrptdb.h"
#include "delivery/tlsrpthttps.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "msgauth/dkimsign.h"
#include "queue/qfile.h"
#include "queue/qid.h"

#define RUA_MAX 8      /* mailto: addresses used of one record, and https: ones */
#define LOOKUPS_MAX 16 /* _smtp._tls look-ups in flight at once; the rest wait */

typedef struct lookup {
	struct tlsrptsend *s;
	int64_t day;
	char *domain;
	struct lookup *next;
} lookup;

struct tlsrptsend {
	struct event_base *base;
	const config *cfg;
	dns_resolver *dns;
	queue *q;
	accounts *acc;
	struct event *timer;
	lookup *pending; /* look-ups in flight, forgotten at free */
	size_t n_pending;
	lookup *waiting, **waiting_tail; /* to look up, in order */
	tlsrpthttps *https;              /* the POSTs to https: addresses */
};

static const char *submitter(const config *cfg)
{
	if (cfg->tlsrpt.submitter != NULL)
		return cfg->tlsrpt.submitter;
	return cfg->domains.n > 0 ? cfg->domains.items[0] : cfg->hostname;
}

static tlsrptdb *open_db(const config *cfg, char **err_r)
{
	char *path = xasprintf("%s/tlsrpt.db", cfg->data_dir);
	tlsrptdb *db = tlsrptdb_open(path, err_r);
	free(path);
	return db;
}

/* DKIM-Signature fields of the submitter's keys above msg (CRLF); msg is
 * returned unchanged (logged) when there is no key: receivers ignore
 * unsigned reports (RFC 8460 5.3), so `yubin dkim keygen` it. */
static char *sign(const config *cfg, const char *dom, char *msg)
{
	dkim_keyset set = {0};
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(cfg->data_dir, dom, &set, &problems);
	const dkim_key *picked[2];
	size_t n = dkim_keys_pick(&set, dom, NULL, picked);
	char *out = msg;
	if (n == 0) {
		log_event(LOG_LVL_WARN, "tlsrpt_unsigned", "submitter=%s reason=\"no DKIM key (yubin dkim keygen %s)\"",
		          dom, dom);
	} else {
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		char *err = NULL;
		dkim_sign_opts o = {.now = time(NULL), .crlf = true};
		if (dkim_sign(msg, strlen(msg), picked, n, &o, &b, &err)) {
			BUF_PUTS(&b, msg);
			free(msg);
			out = buf_steal(&b);
		} else {
			log_event(LOG_LVL_WARN, "tlsrpt_unsigned", "submitter=%s reason=\"%s\"", dom, err ? err : "-");
			free(err);
			buf_free(&b);
		}
	}
	dkim_keyset_free(&set);
	strlist_free(&problems);
	return out;
}

/* CRLF to the queue's LF line ends */
static size_t to_lf(char *m)
{
	char *w = m;
	for (const char *r = m; *r != '\0'; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	return (size_t)(w - m);
}

static bool queue_report(tlsrptsend *s, const char *from, char **rua, size_t n, char *msg)
{
	char id[QID_LEN + 1];
	qid_new(id);
	qenvelope env = {.id = id, .time = time(NULL), .sender = (char *)from, .client = (char *)"127.0.0.1",
	                 .helo = s->cfg->hostname};
	for (size_t i = 0; i < n; i++) {
		strlist local, remote;
		strlist_init(&local);
		strlist_init(&remote);
		accounts_status st = s->acc ? accounts_resolve(s->acc, rua[i], &local, &remote) : ACC_NO_DOMAIN;
		if (st == ACC_OK) {
			for (size_t k = 0; k < local.n; k++)
				qenvelope_add_rcpt(&env, local.items[k], 'L');
			for (size_t k = 0; k < remote.n; k++)
				qenvelope_add_rcpt(&env, remote.items[k], 'R');
		} else if (st == ACC_NO_DOMAIN) {
			qenvelope_add_rcpt(&env, rua[i], 'R');
		}
		strlist_free(&local);
		strlist_free(&remote);
	}
	size_t len = to_lf(msg);
	bool ok = env.n_rcpts > 0 && queue_inject(s->q, &env, msg, len);
	if (ok)
		log_event(LOG_LVL_INFO, "tlsrpt_queued", "qid=%s recipients=%zu", id, env.n_rcpts);
	qenvelope_free_rcpts(&env);
	return ok;
}

/* The report's sender fields from the config; *contact_r to free. */
static tlsrpt_sender sender_of(const config *cfg, char **contact_r)
{
	const char *sub = submitter(cfg);
	*contact_r = cfg->tlsrpt.contact ? xstrdup(cfg->tlsrpt.contact) : xasprintf("postmaster@%s", sub);
	return (tlsrpt_sender){.org_name = cfg->tlsrpt.org_name ? cfg->tlsrpt.org_name : cfg->hostname,
	                       .contact = *contact_r, .submitter = sub};
}

bool tlsrptsend_report_gz(const config *cfg, tlsrptdb *db, int64_t day, const char *domain, unsigned char **gz_r,
                          size_t *n_r, char **err_r)
{
	char *contact = NULL;
	tlsrpt_sender snd = sender_of(cfg, &contact);
	tlsrpt_book b;
	tlsrpt_book_init(&b);
	char *json = NULL;
	bool ok = tlsrptdb_load(db, day, domain, &b, err_r) && (json = tlsrpt_report_json(&b, &snd, day, domain)) != NULL;
	if (ok && !tlsrpt_gzip(json, strlen(json), gz_r, n_r)) {
		*err_r = xstrdup("gzip failed");
		ok = false;
	}
	free(json);
	tlsrpt_book_free(&b);
	free(contact);
	return ok;
}

/* Build, sign and queue one report; false when nothing was queued. */
static bool send_report(tlsrptsend *s, tlsrptdb *db, int64_t day, const char *domain, char **rua, size_t n)
{
	const config *cfg = s->cfg;
	char *contact = NULL;
	tlsrpt_sender snd = sender_of(cfg, &contact);
	char *from = xasprintf("tlsrpt-noreply@%s", snd.submitter);
	char *err = NULL;
	bool ok = false;
	unsigned char *gz = NULL;
	size_t ngz = 0;
	if (!tlsrptsend_report_gz(cfg, db, day, domain, &gz, &ngz, &err)) {
		log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "domain=%s error=\"%s\"", domain, err ? err : "no counts");
	} else {
		char *to = xstrdup(rua[0]);
		for (size_t i = 1; i < n; i++) {
			char *t = xasprintf("%s, %s", to, rua[i]);
			free(to);
			to = t;
		}
		char *msg = tlsrpt_message(&snd, from, to, day, domain, gz, ngz, time(NULL));
		msg = sign(cfg, snd.submitter, msg);
		ok = queue_report(s, from, rua, n, msg);
		free(msg);
		free(to);
	}
	free(err);
	free(gz);
	free(contact);
	free(from);
	return ok;
}

/* A row per https: address, for tlsrpthttps to POST; false when one
 * could not be written. */
static bool add_posts(tlsrptsend *s, tlsrptdb *db, int64_t day, const char *domain, char **https, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *err = NULL;
		if (!tlsrptdb_post_add(db, day, domain, https[i], (int64_t)time(NULL), &err)) {
			log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "domain=%s error=\"%s\"", domain, err);
			free(err);
			return false;
		}
	}
	if (n > 0)
		tlsrpthttps_kick(s->https);
	return true;
}

static void unlink_lookup(tlsrptsend *s, lookup *l)
{
	for (lookup **p = &s->pending; *p != NULL; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			return;
		}
}

static void on_txt(void *arg, const dns_answer *ans);

/* Start waiting look-ups while fewer than LOOKUPS_MAX run. */
static void start_more(tlsrptsend *s)
{
	while (s->waiting != NULL && s->n_pending < LOOKUPS_MAX) {
		lookup *l = s->waiting;
		s->waiting = l->next;
		if (s->waiting == NULL)
			s->waiting_tail = &s->waiting;
		l->next = s->pending;
		s->pending = l;
		s->n_pending++;
		char *name = xasprintf("_smtp._tls.%s", l->domain);
		dns_lookup(s->dns, name, DNS_TYPE_TXT, on_txt, l);
		free(name);
	}
}

static void on_txt(void *arg, const dns_answer *ans)
{
	lookup *l = arg;
	tlsrptsend *s = l->s;
	unlink_lookup(s, l);
	s->n_pending--;
	char *rua[RUA_MAX], *https[RUA_MAX];
	size_t n = 0, nhttps = 0;
	bool have = ans->status == DNS_OK && tlsrpt_parse_rua((const char *const *)ans->values.items, ans->values.n, rua,
	                                                      RUA_MAX, &n, https, RUA_MAX, &nhttps);
	char *err = NULL;
	tlsrptdb *db = ans->status == DNS_TEMPFAIL ? NULL : open_db(s->cfg, &err);
	if (ans->status == DNS_TEMPFAIL) {
		log_event(LOG_LVL_WARN, "tlsrpt_lookup_failed", "domain=%s action=retry_next_run", l->domain);
	} else if (db == NULL) {
		log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "domain=%s error=\"%s\"", l->domain, err);
	} else {
		/* sent: queued to the mailto: addresses (if any) and the https:
		 * ones (if any) remembered for tlsrpthttps */
		bool sent = have && (n == 0 || send_report(s, db, l->day, l->domain, rua, n)) &&
		            add_posts(s, db, l->day, l->domain, https, nhttps);
		if (!have)
			log_event(LOG_LVL_INFO, "tlsrpt_no_rua", "domain=%s", l->domain);
		if ((sent || !have) && !tlsrptdb_mark_sent(db, l->day, l->domain, &err))
			log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "domain=%s error=\"%s\"", l->domain, err);
	}
	for (size_t i = 0; i < n; i++)
		free(rua[i]);
	for (size_t i = 0; i < nhttps; i++)
		free(https[i]);
	free(err);
	tlsrptdb_close(&db);
	free(l->domain);
	free(l);
	start_more(s);
}

static bool pending(const tlsrptsend *s, int64_t day, const char *domain)
{
	for (const lookup *l = s->pending; l != NULL; l = l->next)
		if (l->day == day && strcmp(l->domain, domain) == 0)
			return true;
	for (const lookup *l = s->waiting; l != NULL; l = l->next)
		if (l->day == day && strcmp(l->domain, domain) == 0)
			return true;
	return false;
}

int tlsrptsend_day(tlsrptsend *s, int64_t day, char **err_r)
{
	tlsrptdb *db = open_db(s->cfg, err_r);
	if (db == NULL)
		return -1;
	strlist d;
	strlist_init(&d);
	bool ok = tlsrptdb_unsent(db, day, &d, err_r);
	tlsrptdb_close(&db);
	if (!ok) {
		strlist_free(&d);
		return -1;
	}
	int n = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (pending(s, day, d.items[i]))
			continue; /* asked twice: the first look-up sends it */
		n++;
		lookup *l = xcalloc(1, sizeof *l);
		*l = (lookup){.s = s, .day = day, .domain = xstrdup(d.items[i])};
		*s->waiting_tail = l;
		s->waiting_tail = &l->next;
	}
	strlist_free(&d);
	start_more(s);
	return n;
}

/* The next run: the coming 00:00 UTC plus up to an hour at random; at
 * start within ten minutes as well, so that a server that was down at
 * midnight still sends yesterday's reports (the sent ones are marked). */
static void arm(tlsrptsend *s, bool starting)
{
	unsigned r = 0;
	(void)RAND_bytes((unsigned char *)&r, sizeof r);
	time_t now = time(NULL);
	int64_t next = tlsrpt_day_start(now) + 86400 + 60 + (int64_t)(r % 3540);
	if (starting && (int64_t)now + 60 + (int64_t)(r % 540) < next)
		next = (int64_t)now + 60 + (int64_t)(r % 540);
	struct timeval tv = {.tv_sec = (time_t)(next - now)};
	evtimer_add(s->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	tlsrptsend *s = arg;
	int64_t today = tlsrpt_day_start(time(NULL));
	char *err = NULL;
	if (tlsrptsend_day(s, today - 86400, &err) < 0) {
		log_event(LOG_LVL_ERROR, "tlsrpt_report_failed", "error=\"%s\"", err);
		free(err);
	}
	tlsrptdb *db = open_db(s->cfg, &err);
	if (db == NULL || !tlsrptdb_prune(db, today - 7 * 86400, &err)) {
		log_event(LOG_LVL_ERROR, "tlsrpt_prune_failed", "error=\"%s\"", err);
		free(err);
	}
	tlsrptdb_close(&db);
	arm(s, false);
}

tlsrptsend *tlsrptsend_new(struct event_base *base, const config *cfg, dns_resolver *dns, queue *q,
                           accounts *acc)
{
	tlsrptsend *s = xcalloc(1, sizeof *s);
	*s = (tlsrptsend){.base = base, .cfg = cfg, .dns = dns, .q = q, .acc = acc};
	s->waiting_tail = &s->waiting;
	s->timer = evtimer_new(base, on_timer, s);
	s->https = tlsrpthttps_new(base, cfg, dns);
	arm(s, true);
	return s;
}

void tlsrptsend_free(tlsrptsend **sp)
{
	tlsrptsend *s = *sp;
	*sp = NULL;
	if (s == NULL)
		return;
	while (s->pending != NULL) {
		lookup *l = s->pending;
		s->pending = l->next;
		dns_forget(s->dns, l);
		free(l->domain);
		free(l);
	}
	while (s->waiting != NULL) {
		lookup *l = s->waiting;
		s->waiting = l->next;
		free(l->domain);
		free(l);
	}
	tlsrpthttps_free(&s->https);
	event_free(s->timer);
	free(s);
}
