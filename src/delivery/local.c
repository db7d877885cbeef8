/* local.c — local delivery of one queue file (see local.h).  Owns the
 * Return-Path / Delivered-To lines and the Maildir file name; the Maildir
 * mechanics are in maildir.c, the file format in qfile.c. */
#include "delivery/local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/dsn.h"
#include "delivery/maildir.h"
#include "delivery/quotawarn.h"
#include "delivery/sievedeliver.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "audit/audit.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "store/folders.h"
#include "store/keywords.h"
#include "store/mdname.h"
#include "store/quotabook.h"

#define QFILE_MAX ((size_t)4 << 30)
#define REPORT_MAX ((size_t)64 << 20)

/* "<arrival>.Y<qid>R<index>.<host>": unique per queue entry and recipient,
 * and the same on every attempt, which is what makes redelivery detectable.
 * '/' and ':' in the host name are escaped as the Maildir convention asks. */
static char *unique_name(const qenvelope *env, size_t idx, const char *hostname)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%lld.Y%sR%zu.", (long long)env->time, env->id, idx);
	for (const char *p = hostname; *p; p++) {
		if (*p == '/')
			BUF_PUTS(&b, "\\057");
		else if (*p == ':')
			BUF_PUTS(&b, "\\072");
		else
			BUF_PUTC(&b, *p);
	}
	return buf_steal(&b);
}

bool local_file_qid(const char *file, char *qid_r)
{
	const char *y = strstr(file, ".Y");
	if (y == NULL || strlen(y + 2) < QID_LEN + 1 || y[2 + QID_LEN] != 'R')
		return false;
	memcpy(qid_r, y + 2, QID_LEN);
	qid_r[QID_LEN] = '\0';
	return qid_valid(qid_r);
}

static bool mark_done(int qfd, size_t idx)
{
	char line[48];
	int n = snprintf(line, sizeof line, "done %zu\n", idx);
	/* Not fsynced: this record guards against a second delivery after a
	 * process crash (the page cache survives that); after a power cut the
	 * Maildir name check of a recovering run does the same job. */
	return fs_write_all(qfd, line, (size_t)n);
}

/* What one recipient's run left: still pending, in its Maildir, or
 * failed for good now. */
typedef enum one_result { ONE_PENDING = 0, ONE_DONE, ONE_BOUNCED } one_result;

/* An account's quota as one delivery saw it. */
typedef struct quota_look {
	quota_limits l;
	unsigned warned;          /* ACC_QUOTA_WARNED_* bits stored */
	bool counted;             /* limited, and the usage below was read */
	uint64_t bytes, messages;
} quota_look;

/* Does a message of size bytes fit in the account to (INBOX Maildir
 * root)?  Yes when nothing is limited or the usage cannot be read (a
 * mailbox not made yet holds nothing; the write will tell otherwise). */
static bool quota_fits(const local_ctx *ctx, const char *to, const char *root, uint64_t size, uint64_t copies,
                       quota_look *ql)
{
	*ql = (quota_look){0};
	if (ctx->quota == NULL || root == NULL)
		return true;
	quota_book_limits(ctx->quota, to, &ql->l, &ql->warned);
	ql->counted = quota_limited(ql->l) && quota_book_usage(ctx->quota, root, &ql->bytes, &ql->messages);
	return !ql->counted || !quota_over(ql->l, ql->bytes, ql->messages, size * copies, copies);
}

/* The account now holds bytes / messages: the 90 % warning brought up
 * to date (quotawarn.c). */
static void quota_warn_update(const local_ctx *ctx, const char *to, const char *root, const quota_look *ql,
                              uint64_t bytes, uint64_t messages)
{
	quota_warn_settle(ctx->quota, ctx->hostname, to, root, ql->l, ql->warned, ql->counted, bytes, messages);
}

/* Append one state record to the queue file (not fsynced: see mark_done). */
static bool put_state(int qfd, const char *kind, size_t idx, const char *a, const char *b)
{
	buf rec;
	buf_init(&rec, 1024);
	bool ok = qfile_format_state(&rec, kind, idx, a, b) && fs_write_all(qfd, rec.data, rec.len);
	buf_free(&rec);
	return ok;
}

/* Recipient idx's mailbox has no room: keep the message for it (4.2.2)
 * until the lifetime is over, then fail it (5.2.2). */
static one_result over_quota(const qenvelope *env, size_t idx, const local_ctx *ctx, const quota_look *ql,
                             int qfd, local_outcome *out)
{
	const char *to = env->rcpts[idx].address;
	bool expired = time(NULL) - env->time >= (time_t)ctx->lifetime;
	char *reply = xasprintf("%s <%s>: mailbox full", expired ? "552 5.2.2" : "452 4.2.2", to);
	/* one defer record while the reply stays the same: the file does not
	 * grow with every retry */
	const char *last = env->rcpts[idx].last_reply;
	bool recorded = expired                                 ? put_state(qfd, "fail", idx, "5.2.2", reply)
	                : last != NULL && strcmp(last, reply) == 0 ? true
	                                                        : put_state(qfd, "defer", idx, reply, NULL);
	expired = expired && recorded; /* a bounce not recorded would be sent again: wait for the next try */
	log_event(LOG_LVL_INFO, "deliver",
	          "qid=%s to=%s result=%s status=%s reason=\"mailbox full\" storage=%llu/%llu messages=%llu/%llu "
	          "delay=%llds",
	          env->id, to, expired ? "bounced" : "deferred", expired ? "5.2.2" : "4.2.2",
	          (unsigned long long)ql->bytes, (unsigned long long)ql->l.bytes, (unsigned long long)ql->messages,
	          (unsigned long long)ql->l.messages, (long long)(time(NULL) - env->time));
	audit_emit(expired ? AUDIT_BOUNCED : AUDIT_DEFERRED, env->id, to,
	           json_pack("{s:o, s:o, s:s}", "rcpt", audit_str(to), "reply", audit_str(reply), "status",
	                     expired ? "5.2.2" : "4.2.2"));
	free(reply);
	if (expired) {
		out->bounced++;
		metrics_bounced(METRICS_LOCAL);
		return ONE_BOUNCED;
	}
	out->failed++;
	metrics_deferred(METRICS_LOCAL);
	return ONE_PENDING;
}

/* The Maildir of recipient to: its INBOX (root), or its Junk folder for a
 * quarantined message.  malloc'd, NULL when it cannot be made. */
static char *target_folder(const qenvelope *env, const char *root)
{
	if (root == NULL || !env->junk)
		return root ? xstrdup(root) : NULL;
	char *junk = xasprintf("%s/.Junk", root);
	char *err = NULL;
	bool ok = store_make_maildir(junk, true, &err);
	free(err);
	if (!ok)
		free(junk);
	return ok ? junk : NULL;
}

/* Log and record what happened to recipient idx: ONE_DONE when every
 * copy the plan asked for is written and every message it sends queued
 * (wrote: copies written now; found: copies an earlier run wrote). */
static one_result finish_one(const qenvelope *env, size_t idx, maildir_status st, const sieve_plan *plan,
                             const char *name, const char *step, int qfd, local_outcome *out)
{
	const char *to = env->rcpts[idx].address;
	const char *did = plan->did.len ? plan->did.data : NULL, *why = plan->error.len ? plan->error.data : NULL;
	if (st == MD_ERROR) {
		out->failed++;
		int error = errno;
		metrics_deferred(METRICS_LOCAL);
		log_event(LOG_LVL_ERROR, "deliver", "qid=%s to=%s result=deferred step=%s error=%s sieve=%s sieve_error=%s",
		          env->id, to, step, strerror(error), did, why);
		audit_emit(AUDIT_DEFERRED, env->id, to,
		           json_pack("{s:o, s:o}", "rcpt", audit_str(to),
		                     "reply", audit_str(step[0] ? strerror(error) : "the mailbox cannot be found")));
		return ONE_PENDING;
	}
	if (!mark_done(qfd, idx))
		log_event(LOG_LVL_WARN, "queue_mark", "qid=%s error=%s", env->id, strerror(errno));
	if (st == MD_OK) {
		out->delivered++;
		metrics_delivered(METRICS_LOCAL, env->time);
	} else {
		out->already++;
	}
	buf folders;
	buf_init(&folders, BUF_UNBOUNDED); /* folder names of one plan */
	for (size_t i = 0; i < plan->n_stores; i++)
		BUF_PRINTF(&folders, "%s%s", i ? "," : "", plan->stores[i].name);
	const char *where = folders.len ? folders.data : "none";
	if (plan->ran)
		log_event(LOG_LVL_INFO, "deliver", "qid=%s to=%s result=%s mailbox=%s folder=%s file=%s sieve=%s sieve_error=%s",
		          env->id, to, st == MD_OK ? "delivered" : "already-delivered", to, where, name, did, why);
	else
		log_event(LOG_LVL_INFO, "deliver", "qid=%s to=%s result=%s mailbox=%s file=new/%s", env->id, to,
		          st == MD_OK ? "delivered" : "already-delivered", plan->n_stores ? plan->stores[0].folder : "-",
		          name);
	if (st == MD_OK)
		audit_emit(AUDIT_DELIVERED, env->id, to,
		           json_pack("{s:o, s:o, s:o, s:o}", "rcpt", audit_str(to), "mailbox", audit_str(to), "folder",
		                     audit_str(where), "reply",
		                     audit_str(plan->ran ? "delivered through the recipient's Sieve filter"
		                                         : "delivered to the mailbox")));
	buf_free(&folders);
	return ONE_DONE;
}

/* The name in cur/ of a copy delivered with the store's flags: name,
 * ":2," and the flag letters, keywords by their letter in the folder's
 * yubin-keywords (added there when new).  False when it would not fit. */
static bool flagged_name(const char *folder, const char *name, const sieve_store *st, char out[MDNAME_MAX + 1])
{
	mdname n = {.flags = st->flags};
	if (strlen(name) > MDNAME_MAX - 40)
		return false;
	strcpy(n.base, name);
	if (st->keywords.n > 0) {
		store_keywords kw;
		store_keywords_read(folder, &kw);
		bool changed = false;
		size_t k = 0;
		for (size_t i = 0; i < st->keywords.n; i++) {
			bool added = false;
			int letter = store_keywords_add(&kw, st->keywords.items[i], &added);
			changed = changed || added;
			if (letter >= 0 && strchr(n.other, 'a' + letter) == NULL && k < sizeof n.other - 1)
				n.other[k++] = (char)('a' + letter);
		}
		if (changed && !store_keywords_write(folder, &kw))
			k = 0; /* the letters would name nothing */
		n.other[k] = '\0';
		store_keywords_free(&kw);
		/* Maildir wants the info letters in ASCII order */
		for (size_t i = 1; i < k; i++)
			for (size_t j = i; j > 0 && n.other[j - 1] > n.other[j]; j--) {
				char t = n.other[j];
				n.other[j] = n.other[j - 1];
				n.other[j - 1] = t;
			}
	}
	return mdname_format(&n, out);
}

/* Write the plan's copies that are not there yet.  MD_OK when at least
 * one was written now, MD_ALREADY when all were there, MD_ERROR (errno,
 * *step_r) when one could not be written. */
static maildir_status write_copies(const sieve_plan *plan, const bool *there, const char *name, const char *prefix,
                                   const char *body, size_t body_len, const char **step_r)
{
	maildir_status all = MD_ALREADY;
	for (size_t i = 0; i < plan->n_stores; i++) {
		const sieve_store *st = &plan->stores[i];
		if (there[i])
			continue;
		char *err = NULL;
		if (st->create && !maildir_exists(st->folder) && !store_make_maildir(st->folder, true, &err)) {
			free(err);
			*step_r = "fileinto :create";
			return MD_ERROR;
		}
		char flagged[MDNAME_MAX + 1];
		bool with_flags = st->flags != 0 || st->keywords.n > 0;
		if (with_flags && !(maildir_create(st->folder) && flagged_name(st->folder, name, st, flagged))) {
			*step_r = "imap4flags";
			return MD_ERROR;
		}
		maildir_status m = maildir_deliver_as(st->folder, name, with_flags ? flagged : NULL, prefix, strlen(prefix),
		                                      body, body_len, step_r);
		if (m == MD_ERROR)
			return MD_ERROR;
		all = MD_OK;
	}
	return all;
}

/* Deliver recipient idx: ONE_DONE when it is in its Maildir now (written
 * now, or found there by a recovering run), or its Sieve script has
 * otherwise disposed of it.  The quota is checked before a write, never
 * for a copy an earlier attempt already wrote. */
static one_result deliver_one(const qenvelope *env, size_t idx, const char *body, size_t body_len,
                              const local_ctx *ctx, bool recovering, int qfd, local_outcome *out)
{
	const char *to = env->rcpts[idx].address;
	char *root = maildir_path(ctx->mail_root, to);
	char *keep = target_folder(env, root);
	char *name = unique_name(env, idx, ctx->hostname);
	char *prefix = xasprintf("Return-Path: <%s>\nDelivered-To: %s\n", env->sender, to);
	size_t size = strlen(prefix) + body_len;
	const char *step = "";
	maildir_status st = MD_ERROR;
	quota_look ql = {0};
	one_result res;
	sieve_plan plan;
	sieve_delivery_plan(ctx->sieve, env, idx, root, keep, body, body_len, &plan);
	if (!plan.ran && keep != NULL)
		sieve_plan_keep(&plan, keep, env->junk);
	bool *there = xcalloc(plan.n_stores + 1, sizeof(bool));
	uint64_t missing = 0;
	for (size_t i = 0; i < plan.n_stores; i++) {
		const char *f = plan.stores[i].folder;
		there[i] = maildir_in_new(f, name, size) || (recovering && maildir_has(f, name));
		missing += !there[i];
	}
	if (keep == NULL || plan.tempfail) {
		step = plan.tempfail ? "sieve" : "";
	} else if (missing > 0 && !quota_fits(ctx, to, root, size, missing, &ql)) {
		res = over_quota(env, idx, ctx, &ql, qfd, out);
		quota_warn_update(ctx, to, root, &ql, ql.bytes, ql.messages);
		goto out;
	} else {
		st = write_copies(&plan, there, name, prefix, body, body_len, &step);
		if (st != MD_ERROR && !sieve_delivery_send(ctx->sieve, env, idx, &plan, &out->queued)) {
			st = MD_ERROR;
			step = "sieve: queueing a message";
		}
		if (st == MD_ALREADY && plan.n_stores == 0)
			st = MD_OK; /* nothing to write (discard, reject, redirect): done now */
	}
	res = finish_one(env, idx, st, &plan, name, step, qfd, out);
	if (st == MD_OK && missing > 0)
		quota_warn_update(ctx, to, root, &ql, ql.bytes + size * missing, ql.messages + missing);
out:
	sieve_plan_free(&plan);
	free(there);
	free(root);
	free(keep);
	free(name);
	free(prefix);
	return res;
}

/* The report for the recipients of this run (now[]): those delivered
 * that asked for it (NOTIFY=SUCCESS) and those failed for good that did
 * not refuse it (NOTIFY=NEVER).  A recipient found delivered by a
 * recovering run is included: its done record was never written, so
 * neither was its report (a duplicate report is better than none).  Never
 * for the null sender. */
static void run_report(const qenvelope *env, const one_result *now, const char *body, size_t body_len,
                       const char *hostname, local_outcome *out)
{
	if (env->sender[0] == '\0')
		return;
	dsn_rcpt *dr = xcalloc(env->n_rcpts, sizeof(dsn_rcpt));
	size_t n = 0;
	bool failures = false;
	time_t t = time(NULL);
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const qrcpt *r = &env->rcpts[i];
		if (now[i] == ONE_DONE && dsnparam_wants(r->notify, DSN_NOTIFY_SUCCESS)) {
			dr[n++] = (dsn_rcpt){.address = r->address, .orig = r->orcpt, .action = DSN_ACTION_DELIVERED,
			                     .status = "2.0.0", .last_attempt = t};
		} else if (now[i] == ONE_BOUNCED && dsnparam_wants(r->notify, DSN_NOTIFY_FAILURE)) {
			dr[n++] = (dsn_rcpt){.address = r->address, .orig = r->orcpt, .action = DSN_ACTION_FAILED,
			                     .status = "5.2.2", .last_attempt = t,
			                     .reason = "the mailbox is full, and it stayed full for as long as this "
			                               "server keeps a message waiting"};
			failures = true;
		}
	}
	/* RFC 3461 4.3: the whole message comes back only with RET=FULL, and
	 * only in a report about a failure; never about a REQUIRETLS message
	 * (RFC 8689 5: as if RET=HDRS) */
	dsn_info info = {.reporting_mta = hostname, .qid = env->id, .envid = env->envid,
	                 .sender = env->sender, .arrival = env->time, .now = t,
	                 .headers_only = !failures || env->ret != DSN_RET_FULL || env->requiretls};
	buf msg;
	buf_init(&msg, REPORT_MAX);
	if (n > 0 && dsn_build(&info, dr, n, body, body_len, &msg)) {
		out->report_len = msg.len;
		out->report = buf_steal(&msg);
		out->report_rcpts = n;
		out->report_to = xstrdup(env->sender);
		out->report_kind = failures ? "failed" : "delivered";
		out->report_requiretls = env->requiretls; /* RFC 8689 5 */
	}
	buf_free(&msg);
	free(dr);
}

void local_outcome_free(local_outcome *out)
{
	free(out->report);
	free(out->report_to);
	free(out->qid);
	out->report = out->report_to = out->qid = NULL;
	strlist_free(&out->queued);
}

bool local_deliver(const char *qpath, const local_ctx *ctx, bool recovering, local_outcome *out)
{
	memset(out, 0, sizeof(*out));
	strlist_init(&out->queued);
	size_t len;
	char *data = fs_read_file(qpath, QFILE_MAX, &len);
	if (data == NULL) {
		log_event(LOG_LVL_ERROR, "deliver", "file=%s result=deferred error=%s", qpath, strerror(errno));
		return false;
	}
	qenvelope env;
	const char *body, *err;
	size_t body_len;
	if (!qfile_parse(data, len, &env, &body, &body_len, &err)) {
		log_event(LOG_LVL_ERROR, "deliver", "file=%s result=refused error=%s", qpath, err);
		out->refused = err;
		free(data);
		return false;
	}
	int qfd = open(qpath, O_WRONLY | O_APPEND | O_CLOEXEC);
	bool all_done = qfd >= 0;
	one_result *now = xcalloc(env.n_rcpts, sizeof(one_result));
	for (size_t i = 0; qfd >= 0 && i < env.n_rcpts; i++) {
		if (env.held && !env.rcpts[i].done) {
			/* held by a policy: nobody gets it until `yubin queue release` */
			out->held++;
			if (env.rcpts[i].kind == 'R' && !env.rcpts[i].failed)
				out->remote++;
			all_done = false;
		} else if (env.rcpts[i].kind == 'R') {
			if (!env.rcpts[i].done && !env.rcpts[i].failed)
				out->remote++;
		} else if (!env.rcpts[i].done && !env.rcpts[i].failed) {
			now[i] = deliver_one(&env, i, body, body_len, ctx, recovering, qfd, out);
			if (now[i] == ONE_PENDING)
				all_done = false;
		}
	}
	if (qfd >= 0)
		close(qfd);
	run_report(&env, now, body, body_len, ctx->hostname, out);
	free(now);
	out->qid = xstrdup(env.id);
	out->next_attempt = env.next_attempt;
	if (all_done && out->remote == 0) {
		if (unlink(qpath) == 0)
			out->removed = true;
		log_event(LOG_LVL_INFO, "queue_remove", "qid=%s result=%s", env.id,
		          !out->removed ? strerror(errno) : out->bounced > 0 ? "bounced" : "delivered");
	}
	qenvelope_free(&env);
	free(data);
	return true;
}
