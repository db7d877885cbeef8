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
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "audit/audit.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "store/folders.h"

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

/* Deliver recipient idx; true when it is in its Maildir now (written now,
 * or found there by a recovering run). */
static bool deliver_one(const qenvelope *env, size_t idx, const char *body, size_t body_len,
                        const char *mail_root, const char *hostname, bool recovering,
                        int qfd, local_outcome *out)
{
	const char *to = env->rcpts[idx].address;
	char *path = maildir_path(mail_root, to);
	if (path != NULL && env->junk) { /* quarantined (DMARC): the account's Junk folder */
		char *junk = xasprintf("%s/.Junk", path);
		char *err = NULL;
		free(path);
		path = store_make_maildir(junk, true, &err) ? junk : NULL;
		if (path == NULL)
			free(junk);
		free(err);
	}
	char *name = unique_name(env, idx, hostname);
	char *prefix = xasprintf("Return-Path: <%s>\nDelivered-To: %s\n", env->sender, to);
	const char *step = "";
	maildir_status st = MD_ERROR;
	if (path != NULL) {
		if (recovering && maildir_has(path, name))
			st = MD_ALREADY;
		else
			st = maildir_deliver(path, name, prefix, strlen(prefix), body, body_len, &step);
	}
	if (st == MD_ERROR) {
		out->failed++;
		int error = errno;
		metrics_deferred(METRICS_LOCAL);
		log_event(LOG_LVL_ERROR, "deliver", "qid=%s to=%s result=deferred step=%s error=%s",
		          env->id, to, step, strerror(error));
		audit_emit(AUDIT_DEFERRED, env->id, to,
		           json_pack("{s:o, s:o}", "rcpt", audit_str(to),
		                     "reply", audit_str(path ? strerror(error) : "the mailbox cannot be found")));
	} else {
		if (!mark_done(qfd, idx))
			log_event(LOG_LVL_WARN, "queue_mark", "qid=%s error=%s", env->id, strerror(errno));
		if (st == MD_OK) {
			out->delivered++;
			metrics_delivered(METRICS_LOCAL, env->time);
		} else {
			out->already++;
		}
		log_event(LOG_LVL_INFO, "deliver", "qid=%s to=%s result=%s mailbox=%s file=new/%s",
		          env->id, to, st == MD_OK ? "delivered" : "already-delivered", path, name);
		if (st == MD_OK)
			audit_emit(AUDIT_DELIVERED, env->id, to,
			           json_pack("{s:o, s:o, s:s, s:s}", "rcpt", audit_str(to), "mailbox", audit_str(to), "folder",
			                     env->junk ? "Junk" : "INBOX", "reply", "delivered to the mailbox"));
	}
	free(path);
	free(name);
	free(prefix);
	return st != MD_ERROR;
}

/* The success report for the recipients marked in now[] that asked for one
 * (NOTIFY=SUCCESS).  A recipient found delivered by a recovering run is
 * included: its done record was never written, so neither was its report
 * (a duplicate report is better than none).  Never for the null sender. */
static void success_report(const qenvelope *env, const bool *now, const char *body, size_t body_len,
                           const char *hostname, local_outcome *out)
{
	if (env->sender[0] == '\0')
		return;
	dsn_rcpt *dr = xcalloc(env->n_rcpts, sizeof(dsn_rcpt));
	size_t n = 0;
	time_t t = time(NULL);
	for (size_t i = 0; i < env->n_rcpts; i++)
		if (now[i] && dsnparam_wants(env->rcpts[i].notify, DSN_NOTIFY_SUCCESS))
			dr[n++] = (dsn_rcpt){.address = env->rcpts[i].address, .orig = env->rcpts[i].orcpt,
			                     .action = DSN_ACTION_DELIVERED, .status = "2.0.0", .last_attempt = t};
	dsn_info info = {.reporting_mta = hostname, .qid = env->id, .envid = env->envid,
	                 .sender = env->sender, .arrival = env->time, .now = t, .headers_only = true};
	buf msg;
	buf_init(&msg, REPORT_MAX);
	if (n > 0 && dsn_build(&info, dr, n, body, body_len, &msg)) {
		out->report_len = msg.len;
		out->report = buf_steal(&msg);
		out->report_rcpts = n;
		out->report_to = xstrdup(env->sender);
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
}

bool local_deliver(const char *qpath, const char *mail_root, const char *hostname,
                   bool recovering, local_outcome *out)
{
	memset(out, 0, sizeof(*out));
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
	bool *now = xcalloc(env.n_rcpts, sizeof(bool));
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
		} else if (!env.rcpts[i].done) {
			now[i] = deliver_one(&env, i, body, body_len, mail_root, hostname, recovering, qfd, out);
			if (!now[i])
				all_done = false;
		}
	}
	if (qfd >= 0)
		close(qfd);
	success_report(&env, now, body, body_len, hostname, out);
	free(now);
	out->qid = xstrdup(env.id);
	out->next_attempt = env.next_attempt;
	if (all_done && out->remote == 0) {
		if (unlink(qpath) == 0)
			out->removed = true;
		log_event(LOG_LVL_INFO, "queue_remove", "qid=%s result=%s", env.id,
		          out->removed ? "delivered" : strerror(errno));
	}
	qenvelope_free(&env);
	free(data);
	return true;
}
