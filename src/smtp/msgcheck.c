/* msgcheck.c — SPF, DKIM and DMARC for a message on port 25 (see
 * msgcheck.h).  The message is read back from the spool on a worker, which
 * also hashes it for DKIM; then the DKIM key look-ups and SPF (the MAIL
 * FROM identity, and the HELO identity apart, as RFC 7208 2.3 recommends;
 * DMARC uses the first) run side by side on the loop through the server's
 * asynchronous resolver, DMARC after both; a timer bounds the whole (what
 * has not answered by then counts as temperror).  The outcome is one log
 * line, one Authentication-Results field, and the action. */
#include "smtp/msgcheck.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "msgauth/authres.h"
#include "msgauth/dkimdns.h"
#include "msgauth/dkimverify.h"
#include "msgauth/dmarc.h"
#include "msgauth/spf.h"

#define AUTHRES_MAX ((size_t)64 << 10)

/* A key look-up the DKIM verifier asked for on the worker, made on the
 * loop once the worker is done (the resolver belongs to the loop). */
typedef struct deferred {
	struct deferred *next;
	char *name;
	int rrtype;
	dns_callback *cb;
	void *cb_arg;
} deferred;

typedef struct msgcheck {
	smtp_session *s;
	msgauth_done_fn *done;
	char *msg;                /* the message as spooled */
	size_t len;
	bool read_failed;
	struct event *timer;
	struct event *fin;        /* hands the outcome over, outside every callback */
	smtp_reply_id refuse;
	spf_check *spf, *helo_check;
	dkim_verifier *dkim;
	deferred *lookups, **lookups_tail;
	dmarc_check *dmarc;
	bool spf_done, helo_done, dkim_done;
	/* SPF of the HELO name, when MAIL FROM is not null */
	bool has_helo;
	spf_result helo_result;
	char *helo_problem;
	/* SPF */
	spf_result spf_result;
	char *spf_domain;
	bool spf_helo;
	char *spf_problem;
	/* DKIM: deep copies of the verdicts */
	dkim_verdict *verdicts;
	size_t n_verdicts;
} msgcheck;

static void check_free(msgcheck *c)
{
	spf_check_cancel(&c->spf);
	spf_check_cancel(&c->helo_check);
	dkim_verify_cancel(&c->dkim);
	dmarc_check_cancel(&c->dmarc);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->fin != NULL)
		event_free(c->fin);
	while (c->lookups != NULL) {
		deferred *d = c->lookups;
		c->lookups = d->next;
		free(d->name);
		free(d);
	}
	for (size_t i = 0; i < c->n_verdicts; i++) {
		dkim_verdict *v = &c->verdicts[i];
		free(v->reason);
		free(v->domain);
		free(v->selector);
		free(v->algorithm);
		free(v->b_prefix);
	}
	free(c->verdicts);
	free(c->spf_domain);
	free(c->spf_problem);
	free(c->helo_problem);
	free(c->msg);
	free(c);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* ---- the end: header field, action, log ---- */

static const char *action_of(const msgcheck *c, const dmarc_outcome *d, smtp_reply_id *refuse_r,
                             bool *junk_r)
{
	const char *how = c->s->srv->cfg->msgauth.dmarc_action;
	*refuse_r = RPL_COUNT;
	*junk_r = false;
	/* temperror (RFC 7489 6.6.2): the policy is never applied; deferred
	 * when msgauth.dmarc_temperror says so (never under "report") */
	if (d != NULL && d->result == DMARC_TEMPERROR && strcmp(how, "report") != 0 &&
	    strcmp(c->s->srv->cfg->msgauth.dmarc_temperror, "defer") == 0) {
		*refuse_r = RPL_DMARC_TEMPERROR;
		return "defer";
	}
	if (d == NULL || d->disposition == DMARC_POLICY_NONE || strcmp(how, "report") == 0)
		return "none";
	if (d->disposition == DMARC_POLICY_REJECT && strcmp(how, "follow") == 0) {
		*refuse_r = RPL_DMARC_REJECT;
		return "reject";
	}
	*junk_r = true;
	return "junk";
}

static void finish(msgcheck *c, const dmarc_outcome *d)
{
	smtp_session *s = c->s;
	spool *sp = s->txn.sp;
	const config *cfg = s->srv->cfg;
	const char *id = msgauth_authserv_id(cfg);
	smtp_reply_id refuse;
	bool junk;
	const char *action = action_of(c, d, &refuse, &junk);
	if (!c->read_failed) {
		size_t n = 0;
		authres_range *ours = authres_find_ours(c->msg, c->len, id, &n);
		for (size_t i = 0; i < n; i++)
			spool_drop(sp, ours[i].start, ours[i].end); /* forged: they claim to be us */
		free(ours);
		authres_input in = {.authserv_id = id, .has_spf = true, .spf = c->spf_result,
		                    .spf_domain = c->spf_domain, .spf_helo = c->spf_helo,
		                    .spf_problem = c->spf_problem, .has_spf_helo = c->has_helo,
		                    .spf_helo_result = c->helo_result, .helo = s->helo,
		                    .spf_helo_problem = c->helo_problem, .has_dkim = true,
		                    .dkim = c->verdicts, .n_dkim = c->n_verdicts, .dmarc = d};
		buf ar;
		buf_init(&ar, AUTHRES_MAX);
		if (authres_build(&in, &ar))
			spool_prepend(sp, ar.data, ar.len);
		buf_free(&ar);
		if (junk)
			spool_mark_junk(sp);
	}
	size_t passed = 0;
	for (size_t i = 0; i < c->n_verdicts; i++)
		passed += c->verdicts[i].result == DKIM_PASS;
	/* for the rules of the end of data: "pass" when a signature passed,
	 * else the first signature's result, else "none" */
	s->pol.spf = spf_result_name(c->spf_result);
	s->pol.dkim = passed > 0 ? "pass" : c->n_verdicts > 0 ? dkim_result_name(c->verdicts[0].result) : "none";
	s->pol.dmarc = d ? dmarc_result_name(d->result) : "none";
	log_event(LOG_LVL_INFO, "msgauth",
	          "sid=%s qid=%s spf=%s spf_domain=%s dkim_signatures=%zu dkim_pass=%zu dmarc=%s from=%s action=%s",
	          s->sid, s->txn.qid, spf_result_name(c->spf_result), c->spf_domain ? c->spf_domain : "-",
	          c->n_verdicts, passed, d ? dmarc_result_name(d->result) : "none",
	          d && d->from_domain ? d->from_domain : "-", action);
	c->refuse = c->read_failed ? RPL_COUNT : refuse;
	evtimer_del(c->timer);
	event_active(c->fin, EV_TIMEOUT, 0);
}

static void on_fin(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	msgcheck *c = arg;
	smtp_session *s = c->s;
	msgauth_done_fn *done = c->done;
	smtp_reply_id refuse = c->refuse;
	s->txn.check = NULL;
	check_free(c);
	done(s, refuse);
}

/* ---- DMARC, once SPF and DKIM are in ---- */

static void on_dmarc(void *arg, const dmarc_outcome *out)
{
	msgcheck *c = arg;
	c->dmarc = NULL;
	finish(c, out);
}

static void start_dmarc(msgcheck *c)
{
	if (!c->spf_done || !c->helo_done || !c->dkim_done)
		return;
	char *from = NULL;
	dmarc_request req = {.from_status = dmarc_from_domain(c->msg, c->len, &from), .from_domain = from,
	                     .spf = c->spf_result, .spf_domain = c->spf_domain, .dkim = c->verdicts,
	                     .n_dkim = c->n_verdicts, .psl = c->s->srv->psl, .lookup = dns_lookup_any,
	                     .lookup_ctx = c->s->srv->dns, .forget = dns_forget_any};
	c->dmarc = dmarc_check_start(&req, on_dmarc, c);
	free(from);
}

/* ---- SPF and DKIM ---- */

static void on_spf(void *arg, const spf_outcome *out)
{
	msgcheck *c = arg;
	c->spf = NULL;
	c->spf_done = true;
	c->spf_result = out->result;
	c->spf_problem = dup_or_null(out->problem);
	start_dmarc(c);
}

static void on_spf_helo(void *arg, const spf_outcome *out)
{
	msgcheck *c = arg;
	c->helo_check = NULL;
	c->helo_done = true;
	c->helo_result = out->result;
	c->helo_problem = dup_or_null(out->problem);
	start_dmarc(c);
}

static void on_dkim(void *arg, const dkim_verdict *v, size_t n)
{
	msgcheck *c = arg;
	c->dkim = NULL;
	c->dkim_done = true;
	c->verdicts = xcalloc(n + 1, sizeof(dkim_verdict));
	for (size_t i = 0; i < n; i++)
		c->verdicts[i] = (dkim_verdict){.result = v[i].result, .reason = dup_or_null(v[i].reason),
		                                 .domain = dup_or_null(v[i].domain),
		                                 .selector = dup_or_null(v[i].selector),
		                                 .algorithm = dup_or_null(v[i].algorithm),
		                                 .b_prefix = dup_or_null(v[i].b_prefix),
		                                 .testing = v[i].testing};
	c->n_verdicts = n;
	start_dmarc(c);
}

/* What has not answered in time counts as temperror (RFC 7208 4.6.4 and
 * RFC 6376 6.1.2 allow a bound). */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	msgcheck *c = arg;
	log_event(LOG_LVL_WARN, "msgauth", "sid=%s qid=%s timeout=%d spf_done=%d dkim_done=%d", c->s->sid,
	          c->s->txn.qid, c->s->srv->cfg->msgauth.timeout, c->spf_done, c->dkim_done);
	if (c->dmarc != NULL) {
		dmarc_check_cancel(&c->dmarc);
		dmarc_outcome d = {.result = DMARC_TEMPERROR, .problem = "timed out"};
		finish(c, &d);
		return;
	}
	if (!c->spf_done) {
		spf_check_cancel(&c->spf);
		c->spf_done = true;
		c->spf_result = SPF_TEMPERROR;
		c->spf_problem = xstrdup("timed out");
	}
	if (!c->helo_done) {
		spf_check_cancel(&c->helo_check);
		c->helo_done = true;
		c->helo_result = SPF_TEMPERROR;
		c->helo_problem = xstrdup("timed out");
	}
	if (!c->dkim_done) {
		dkim_verify_cancel(&c->dkim);
		dkim_verdict none = {.result = DKIM_TEMPERROR, .reason = "timed out"};
		on_dkim(c, &none, 1);
		return; /* on_dkim started DMARC */
	}
	start_dmarc(c);
}

static void start_checks(msgcheck *c)
{
	smtp_session *s = c->s;
	const char *sender = s->txn.sender;
	const char *helo = s->helo ? s->helo : "";
	const char *at = strrchr(sender, '@');
	c->spf_helo = sender[0] == '\0' || at == NULL;
	c->spf_domain = xstrdup(c->spf_helo ? helo : at + 1);
	char *postmaster = xasprintf("postmaster@%s", helo);
	spf_request req = {.ip = s->ip, .domain = c->spf_domain, .sender = c->spf_helo ? postmaster : sender,
	                   .helo = helo, .receiver = s->srv->cfg->hostname, .lookup = dns_lookup_any,
	                   .forget = dns_forget_any,
	                   .lookup_ctx = s->srv->dns};
	/* either may answer at once (then it returns NULL); finish() only
	 * schedules the end, so c lives on through the calls */
	c->has_helo = !c->spf_helo && helo[0] != '\0';
	c->helo_done = !c->has_helo;
	c->spf = spf_check_host(&req, on_spf, c);
	if (c->has_helo) {
		spf_request hreq = req;
		hreq.domain = helo;
		hreq.sender = postmaster;
		c->helo_check = spf_check_host(&hreq, on_spf_helo, c);
	}
	free(postmaster);
}

/* ---- reading the message back ---- */

/* On the worker: note the verifier's key look-up for the loop. */
static void defer_lookup(void *ctx, const char *name, int rrtype, dns_callback *cb, void *cb_arg)
{
	msgcheck *c = ctx;
	deferred *d = xcalloc(1, sizeof(*d));
	*d = (deferred){.name = xstrdup(name), .rrtype = rrtype, .cb = cb, .cb_arg = cb_arg};
	*c->lookups_tail = d;
	c->lookups_tail = &d->next;
}

/* On a worker: keep the message, and start DKIM there, so that hashing a
 * large message does not hold up the loop (nothing else touches c until
 * read_done: SPF starts there). */
static void copy_work(void *arg, const char *msg, size_t len)
{
	msgcheck *c = arg;
	if (msg == NULL) {
		c->read_failed = true;
		return;
	}
	c->msg = xmalloc(len + 1);
	memcpy(c->msg, msg, len);
	c->msg[len] = '\0';
	c->len = len;
	c->dkim = dkim_verify_start(c->msg, c->len, time(NULL), defer_lookup, c, on_dkim, c);
}

static void read_done(void *arg)
{
	msgcheck *c = arg;
	if (c->read_failed) {
		log_event(LOG_LVL_ERROR, "msgauth", "sid=%s qid=%s error=\"the message could not be read back\"",
		          c->s->sid, c->s->txn.qid);
		finish(c, NULL);
		return;
	}
	struct timeval tv = {c->s->srv->cfg->msgauth.timeout, 0};
	evtimer_add(c->timer, &tv);
	while (c->lookups != NULL) { /* what the verifier asked for on the worker */
		deferred *d = c->lookups;
		c->lookups = d->next;
		dkim_lookup_dns(c->s->srv->dns, d->name, d->rrtype, d->cb, d->cb_arg);
		free(d->name);
		free(d);
	}
	c->lookups_tail = &c->lookups;
	start_checks(c);
}

void msgcheck_start(smtp_session *s, msgauth_done_fn *done)
{
	msgcheck *c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->done = done;
	c->lookups_tail = &c->lookups;
	c->timer = evtimer_new(s->srv->base, on_timeout, c);
	c->fin = event_new(s->srv->base, -1, 0, on_fin, c);
	s->txn.check = c;
	spool_inspect(s->txn.sp, copy_work, read_done, c);
}

void msgcheck_cancel(smtp_session *s)
{
	if (s->txn.check != NULL) {
		check_free(s->txn.check);
		s->txn.check = NULL;
	}
}
