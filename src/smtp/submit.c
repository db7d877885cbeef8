/* submit.c — a message an authenticated user submitted, between its last
 * byte and its commit (RFC 6409; see submit.h).  On a worker: read it back
 * from the spool and scan its header (submithdr.c) and the
 * Authentication-Results fields that claim our authserv-id.  On the loop:
 * every From and Sender mailbox must be one the user may send as (the
 * account store: own address, aliases, send-as list), else 550 5.7.1 and
 * nothing is queued; then the edits: Bcc / Resent-Bcc and forged
 * Authentication-Results fields out, From / Date / Message-ID in when
 * missing, and the address fields rewritten as rewrite.canonical and
 * rewrite.masquerade say for outbound mail (planned on the first worker
 * pass, after the check, which judges the fields as the user wrote them).
 * On a worker again: DKIM-sign the edited message (keys of the
 * first From domain, else of the envelope sender's domain; both passed the
 * check).  The spool applies every edit in its one rewrite before the
 * fsync.  Must not send replies itself: the outcome goes to done. */
#include "smtp/submit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/log.h"
#include "msgauth/authres.h"
#include "msgauth/dkimkeys.h"
#include "msgauth/dkimsign.h"
#include "rewrite/rwmsg.h"
#include "rewrite/state.h"
#include "smtp/submithdr.h"

#define SUBMIT_ADDED_MAX ((size_t)8 << 10)
#define SUBMIT_SIG_MAX ((size_t)1 << 20)

typedef struct submit_job {
	smtp_session *s;
	msgauth_done_fn *done;
	char *authserv_id;
	char *data_dir;
	bool sign;
	const rw_rules *rules;   /* the server's (read-only), or NULL */
	size_t from;             /* where the client's header starts */
	/* read back and scanned on the worker */
	char *msg;
	size_t len;
	bool read_failed;
	submithdr h;
	authres_range *forged;
	size_t n_forged;
	rw_plan rw;              /* header fields rewritten (rewrite.canonical,
	                          * rewrite.masquerade), planned on the worker */
	/* the edits, decided on the loop */
	size_t at;               /* where the client's header starts */
	buf added;               /* fields to put there */
	spool_edit *edits;       /* ranges to leave out or replace, ascending */
	size_t n_edits;
	strlist domains;         /* to sign for, the first with a key wins */
	/* signing, on the worker */
	buf sig;
	char *sign_err;
	const char *signed_for;
} submit_job;

static void job_free(submit_job *j)
{
	free(j->authserv_id);
	free(j->data_dir);
	free(j->msg);
	submithdr_free(&j->h);
	free(j->forged);
	buf_free(&j->added);
	free(j->edits); /* their texts belong to j->rw */
	rw_plan_free(&j->rw);
	strlist_free(&j->domains);
	buf_free(&j->sig);
	free(j->sign_err);
	free(j);
}

/* ---- the end ---- */

static void log_rewrite(const submit_job *j)
{
	if (j->rw.n == 0 && j->rw.skipped.n == 0)
		return;
	char *changed = rw_plan_list(&j->rw.changed), *skipped = rw_plan_list(&j->rw.skipped);
	log_event(LOG_LVL_INFO, "rewrite_header", "sid=%s qid=%s direction=outbound fields=%s skipped=%s", j->s->sid, j->s->txn.qid,
	          changed, skipped);
	free(changed);
	free(skipped);
}


static void finish(submit_job *j, smtp_reply_id refuse)
{
	smtp_session *s = j->s;
	msgauth_done_fn *done = j->done;
	if (refuse == RPL_COUNT) {
		spool *sp = s->txn.sp;
		if (j->sig.len > 0)
			spool_prepend(sp, j->sig.data, j->sig.len); /* above what it signed */
		if (j->added.len > 0) /* below our Received, above the client's fields */
			spool_replace(sp, j->at, j->at, j->added.data, j->added.len);
		for (size_t i = 0; i < j->n_edits; i++)
			spool_replace(sp, j->edits[i].start, j->edits[i].end, j->edits[i].text, j->edits[i].len);
		log_rewrite(j);
		log_event(LOG_LVL_INFO, "submit",
		          "sid=%s qid=%s user=%s from=%s added_from=%d added_date=%d added_message_id=%d "
		          "bcc_removed=%zu forged_authres_removed=%zu dkim=%s",
		          s->sid, s->txn.qid, s->auth_user, j->h.n_from > 0 ? j->h.authors.items[0] : s->txn.sender,
		          !j->h.has_from, !j->h.has_date, !j->h.has_message_id, j->h.n_bcc, j->n_forged,
		          j->signed_for ? j->signed_for : "unsigned");
		if (j->sign_err != NULL) /* not signed: the message still goes, as without a key */
			log_event(LOG_LVL_WARN, "dkim_sign", "sid=%s qid=%s result=unsigned error=%s", s->sid,
			          s->txn.qid, j->sign_err);
	}
	job_free(j);
	done(s, refuse);
}

/* ---- signing, on a worker ---- */

/* The message as it will be queued (without the signature): our Received
 * field, the added fields, then the spooled bytes with the edits (all of
 * them after j->at): what the signature covers is what is queued. */
static char *edited_message(const submit_job *j, size_t *len_r)
{
	size_t grow = 0;
	for (size_t i = 0; i < j->n_edits; i++)
		grow += j->edits[i].len;
	char *out = xmalloc(j->added.len + j->len + grow + 1);
	memcpy(out, j->msg, j->at);
	if (j->added.len > 0)
		memcpy(out + j->at, j->added.data, j->added.len);
	size_t n = j->at + j->added.len, at = j->at;
	for (size_t i = 0; i <= j->n_edits; i++) {
		size_t end = i < j->n_edits ? j->edits[i].start : j->len;
		memcpy(out + n, j->msg + at, end - at);
		n += end - at;
		if (i < j->n_edits && j->edits[i].len > 0)
			memcpy(out + n, j->edits[i].text, j->edits[i].len);
		n += i < j->n_edits ? j->edits[i].len : 0;
		at = i < j->n_edits ? j->edits[i].end : j->len;
	}
	out[n] = '\0';
	*len_r = n;
	return out;
}

/* The keys of one domain; true when it had any (signed, or sign_err set). */
static bool sign_for(submit_job *j, const char *domain, const char *msg, size_t len)
{
	dkim_keyset set = {0};
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(j->data_dir, domain, &set, &problems);
	for (size_t k = 0; k < problems.n; k++)
		log_event(LOG_LVL_WARN, "dkim_key", "domain=%s problem=%s", domain, problems.items[k]);
	strlist_free(&problems);
	const dkim_key *keys[2];
	size_t n = dkim_keys_pick(&set, domain, NULL, keys);
	dkim_sign_opts o = {.now = time(NULL), .crlf = false};
	if (n > 0 && dkim_sign(msg, len, keys, n, &o, &j->sig, &j->sign_err))
		j->signed_for = domain;
	else if (n > 0)
		buf_clear(&j->sig);
	dkim_keyset_free(&set);
	return n > 0;
}

static void sign_work(void *arg)
{
	submit_job *j = arg;
	size_t len;
	char *msg = edited_message(j, &len);
	for (size_t i = 0; i < j->domains.n; i++)
		if (sign_for(j, j->domains.items[i], msg, len))
			break;
	free(msg);
}

static void sign_done(void *arg)
{
	finish(arg, RPL_COUNT);
}

/* Has any domain a key?  (Without one, signing would be for nothing.) */
static bool any_keys(const char *data_dir)
{
	char *dir = xasprintf("%s/dkim", data_dir);
	struct stat st;
	bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink > 2;
	free(dir);
	return ok;
}

static void add_domain(strlist *l, const char *address)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;
	if (at == NULL || at[1] == '\0')
		return;
	char *d = xstrdup(at + 1);
	str_ascii_lower(d);
	if (strlist_contains(l, d))
		free(d);
	else
		strlist_add_owned(l, d);
}

/* ---- the check and the edits, on the loop ---- */

static const smtp_reply_id status_reply[] = {
	[SUBMITHDR_OK] = RPL_COUNT,
	[SUBMITHDR_FIELDS] = RPL_FROM_FIELDS,
	[SUBMITHDR_NO_MAILBOX] = RPL_FROM_NO_MAILBOX,
	[SUBMITHDR_NEEDS_SENDER] = RPL_FROM_NEEDS_SENDER,
};

static smtp_reply_id refuse(const submit_job *j, smtp_reply_id r, const char *address, const char *why)
{
	log_event(LOG_LVL_INFO, "submit_refused", "sid=%s qid=%s user=%s address=%s reason=%s", j->s->sid,
	          j->s->txn.qid, j->s->auth_user, address ? address : "-", why);
	return r;
}

/* May the user send as every From and Sender mailbox? */
static smtp_reply_id check_authors(const submit_job *j)
{
	static const char *const why[] = {
		[SUBMITHDR_FIELDS] = "more than one From or Sender field",
		[SUBMITHDR_NO_MAILBOX] = "a From or Sender field without a usable mailbox",
		[SUBMITHDR_NEEDS_SENDER] = "several From mailboxes and no Sender field",
	};
	if (j->h.status != SUBMITHDR_OK)
		return refuse(j, status_reply[j->h.status], NULL, why[j->h.status]);
	smtp_session *s = j->s;
	for (size_t i = 0; i < j->h.authors.n; i++) {
		const char *a = j->h.authors.items[i];
		accounts_status st = smtp_may_send_as(s, a);
		if (st == ACC_ERROR)
			return refuse(j, RPL_LOCAL_ERROR, a, accounts_last_error(s->srv->acc));
		if (st != ACC_OK)
			return refuse(j, i < j->h.n_from ? RPL_FROM_NOT_OWNED : RPL_SENDER_FIELD_NOT_OWNED, a,
			              i < j->h.n_from ? "From address not the user's" : "Sender address not the user's");
	}
	return RPL_COUNT;
}

static int edit_order(const void *a, const void *b)
{
	const spool_edit *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The Bcc fields and the forged Authentication-Results fields out, the
 * rewritten address fields in, in ascending order (all are whole header
 * fields of different names: they never overlap). */
static void plan_edits(submit_job *j)
{
	size_t n = 0;
	j->edits = xcalloc(j->h.n_bcc + j->n_forged + j->rw.n + 1, sizeof(*j->edits));
	for (size_t i = 0; i < j->h.n_bcc; i++)
		j->edits[n++] = (spool_edit){j->h.bcc[i][0], j->h.bcc[i][1], NULL, 0};
	for (size_t i = 0; i < j->n_forged; i++)
		j->edits[n++] = (spool_edit){j->forged[i].start, j->forged[i].end, NULL, 0};
	for (size_t i = 0; i < j->rw.n; i++)
		j->edits[n++] = (spool_edit){j->rw.e[i].start, j->rw.e[i].end, j->rw.e[i].text, j->rw.e[i].len};
	qsort(j->edits, n, sizeof(*j->edits), edit_order);
	j->n_edits = n;
}

static void scan_done(void *arg)
{
	submit_job *j = arg;
	smtp_session *s = j->s;
	if (j->read_failed) {
		log_event(LOG_LVL_ERROR, "submit", "sid=%s qid=%s error=\"the message could not be read back\"",
		          s->sid, s->txn.qid);
		finish(j, RPL_LOCAL_ERROR);
		return;
	}
	smtp_reply_id r = check_authors(j);
	const char *sender = s->txn.sender_rw ? s->txn.sender_rw : s->txn.sender;
	if (r == RPL_COUNT && !submithdr_missing_fields(&j->h, sender, s->srv->cfg->hostname,
	                                                s->txn.qid, time(NULL), &j->added))
		r = RPL_LOCAL_ERROR;
	if (r != RPL_COUNT) {
		finish(j, r);
		return;
	}
	plan_edits(j);
	j->at = s->txn.trace_len <= j->len ? s->txn.trace_len : 0;
	if (!j->sign || !any_keys(j->data_dir)) {
		finish(j, RPL_COUNT);
		return;
	}
	/* the domains as they will be queued: the From and sender rewritten */
	char *from_rw = j->h.n_from > 0 && j->rules ? rw_rules_apply(j->rules, RW_HDR_FROM, RW_OUTBOUND,
	                                                              j->h.authors.items[0]) : NULL;
	add_domain(&j->domains, from_rw ? from_rw : j->h.n_from > 0 ? j->h.authors.items[0] : NULL);
	add_domain(&j->domains, sender);
	free(from_rw);
	workers_submit_quick(s->srv->wk, sign_work, sign_done, j);
}

/* On a worker: keep the message and scan it. */
static void scan_work(void *arg, const char *msg, size_t len)
{
	submit_job *j = arg;
	if (msg == NULL) {
		j->read_failed = true;
		return;
	}
	j->msg = xmalloc(len + 1);
	memcpy(j->msg, msg, len);
	j->msg[len] = '\0';
	j->len = len;
	submithdr_scan(j->msg, j->len, &j->h);
	if (j->rules != NULL && rw_rules_touch_headers(j->rules, RW_OUTBOUND))
		rw_plan_header(j->rules, RW_OUTBOUND, j->msg, j->len, j->from <= len ? j->from : 0, &j->rw);
	j->forged = authres_find_ours(j->msg, j->len, j->authserv_id, &j->n_forged);
}

void submit_start(smtp_session *s, msgauth_done_fn *done)
{
	submit_job *j = xcalloc(1, sizeof(*j));
	const config *cfg = s->srv->cfg;
	j->s = s;
	j->done = done;
	j->authserv_id = xstrdup(msgauth_authserv_id(cfg));
	j->data_dir = xstrdup(cfg->data_dir);
	j->sign = cfg->msgauth.sign != 0;
	j->rules = s->srv->rewrite ? s->srv->rewrite->rules : NULL;
	j->from = s->txn.trace_len;
	buf_init(&j->added, SUBMIT_ADDED_MAX);
	buf_init(&j->sig, SUBMIT_SIG_MAX);
	strlist_init(&j->domains);
	spool_inspect(s->txn.sp, scan_work, scan_done, j);
}
