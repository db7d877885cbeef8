/* pg_queue.c — the queue page: every message waiting in the queue (held,
 * deferred, or queued for its first attempt) with its sender, recipients,
 * age and last reply, and per message the operations of `yubin queue`
 * (retry, hold or release, bounce, delete) as POST buttons.  The list is
 * read from the queue folder on a worker (queue/qscan.h); the operations
 * are delivery/qadmin.h's, on the loop, as the control socket does them.
 * Must not change a queue file itself. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery/qadmin.h"
#include "delivery/routestate.h"
#include "lib/log.h"
#include "queue/qid.h"
#include "queue/qscan.h"
#include "web/html.h"
#include "web/page.h"

/* Messages shown; the page says how many more there are. */
#define QUEUE_SHOWN 200

typedef struct queue_job {
	web_job base;
	qenvelope *envs;
	size_t n, total;
	char *did;      /* the operation just done (?did=), or NULL */
	char *did_qid;
	char *route;    /* the outbound route now (delivery/routestate.h) */
} queue_job;

static bool pending(const qenvelope *env)
{
	for (size_t i = 0; i < env->n_rcpts; i++)
		if (!env->rcpts[i].done && !env->rcpts[i].failed)
			return true;
	return false;
}

/* Every file in active/ waits for something (a file goes when its last
 * recipient is done), so the count is the folder's; only the oldest
 * QUEUE_SHOWN are read. */
static void work(web_job *j)
{
	queue_job *q = (queue_job *)j;
	char *root = config_path_queue(j->srv->cfg);
	strlist ids;
	strlist_init(&ids);
	qscan_ids(root, "active", &ids);
	q->total = ids.n;
	q->route = routestate_describe(j->srv->cfg);
	q->envs = xcalloc(QUEUE_SHOWN, sizeof(*q->envs));
	for (size_t i = 0; i < ids.n && q->n < QUEUE_SHOWN; i++) {
		char *p = xasprintf("%s/active/%s", root, ids.items[i]);
		size_t len, body_len;
		char *data;
		qenvelope env;
		if (qscan_read(p, &len, &data, &env, &body_len) == NULL) {
			if (pending(&env))
				q->envs[q->n++] = env;
			else
				qenvelope_free(&env);
		}
		free(data);
		free(p);
	}
	strlist_free(&ids);
	free(root);
}

static const char *rcpt_state(const qenvelope *env, const qrcpt *r)
{
	return r->done ? "delivered" : r->failed ? "bounced" : env->held ? "held"
	       : r->last_reply ? "deferred" : "queued";
}

static void buttons(buf *out, const char *qid, bool held, const char *csrf)
{
	static const struct {
		qadmin_op op;
		const char *label, *css;
	} ops[] = {
		{QADMIN_RETRY, "Retry", NULL}, {QADMIN_HOLD, "Hold", NULL}, {QADMIN_RELEASE, "Release", NULL},
		{QADMIN_BOUNCE, "Bounce", "danger"}, {QADMIN_DELETE, "Delete", "danger"},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		/* a held message can be released, not retried or held again */
		bool for_held = ops[i].op == QADMIN_RELEASE;
		bool for_free = ops[i].op == QADMIN_RETRY || ops[i].op == QADMIN_HOLD;
		if ((held && for_free) || (!held && for_held))
			continue;
		char *action = xasprintf("/queue/%s/%s", qid, qadmin_op_name(ops[i].op));
		html_post_button(out, action, csrf, ops[i].label, ops[i].css);
		free(action);
	}
}

static void row(buf *out, const qenvelope *env, time_t now, const char *csrf)
{
	const char *last = NULL, *state = env->held ? "held" : "queued";
	for (size_t i = 0; i < env->n_rcpts; i++)
		if (!env->rcpts[i].done && !env->rcpts[i].failed) {
			if (env->rcpts[i].last_reply)
				last = env->rcpts[i].last_reply;
			if (!env->held && env->rcpts[i].last_reply)
				state = "deferred";
		}
	html_printf(out, "<tr id=\"q-%s\"><td class=\"mono\"><a href=\"/message/%s\">%s</a></td>"
	            "<td><span class=\"state %s\">%s</span></td><td class=\"mono\">%s</td><td>", env->id,
	            env->id, env->id, state, state, env->sender[0] ? env->sender : "<>");
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const qrcpt *r = &env->rcpts[i];
		html_printf(out, "<div class=\"mono\">%s <span class=\"state %s\">%s</span></div>", r->address,
		            rcpt_state(env, r), rcpt_state(env, r));
	}
	BUF_PUTS(out, "</td><td>");
	html_age(out, (long long)(now - env->time));
	if (env->attempts > 0) {
		html_printf(out, "<div class=\"muted\">%d attempt%s", env->attempts, env->attempts == 1 ? "" : "s");
		if (!env->held && env->next_attempt > now) {
			BUF_PUTS(out, ", next in ");
			html_age(out, (long long)(env->next_attempt - now));
		}
		BUF_PUTS(out, "</div>");
	}
	html_printf(out, "</td><td class=\"reply\">%s</td><td class=\"actions\">", last ? last : "");
	buttons(out, env->id, env->held, csrf);
	BUF_PUTS(out, "</td></tr>\n");
}

static void render(web_job *j, buf *out)
{
	queue_job *q = (queue_job *)j;
	if (q->did != NULL)
		html_printf(out, "<p class=\"notice\" role=\"status\">%s %s.</p>\n", q->did_qid, q->did);
	html_printf(out, "<p class=\"route\" id=\"route\">Outbound route: %s</p>\n", q->route ? q->route : "unknown");
	if (q->n == 0) {
		BUF_PUTS(out, "<p class=\"muted\">The queue is empty: no message is waiting.</p>\n");
		return;
	}
	html_printf(out, "<p class=\"muted\">%zu message%s waiting", q->total, q->total == 1 ? "" : "s");
	if (q->total > q->n)
		html_printf(out, " (the oldest %zu shown)", q->n);
	BUF_PUTS(out, ".</p>\n<table class=\"queue\"><thead><tr><th>Queue id</th><th>State</th><th>Sender</th>"
	         "<th>Recipients</th><th>Age</th><th>Last reply</th><th>Actions</th></tr></thead><tbody>\n");
	time_t now = time(NULL);
	for (size_t i = 0; i < q->n; i++)
		row(out, &q->envs[i], now, j->csrf);
	BUF_PUTS(out, "</tbody></table>\n");
}

static void job_free(web_job *j)
{
	queue_job *q = (queue_job *)j;
	for (size_t i = 0; i < q->n; i++)
		qenvelope_free(&q->envs[i]);
	free(q->envs);
	free(q->did);
	free(q->did_qid);
	free(q->route);
}

void web_get_queue(http_req *r)
{
	queue_job *q = xcalloc(1, sizeof(*q));
	const char *did = http_req_query(r, "did"), *qid = http_req_query(r, "qid");
	int op = did ? qadmin_op_parse(did) : -1;
	if (op >= 0 && qid != NULL && qid_valid(qid)) {
		q->did = xstrdup(qadmin_op_done((qadmin_op)op));
		q->did_qid = xstrdup(qid);
	}
	q->base.work = work;
	q->base.render = render;
	q->base.free = job_free;
	web_job_start(&q->base, r, "Queue", "/queue");
}

void web_post_queue(http_req *r)
{
	server *srv = http_req_server(r);
	const char *qid = http_req_param(r, "qid"), *name = http_req_param(r, "op");
	int op = name ? qadmin_op_parse(name) : -1;
	if (qid == NULL || !qid_valid(qid) || op < 0 || strcmp(name, "flush") == 0) {
		web_reply_message(r, 404, "No such operation", "There is no such message or operation.");
		return;
	}
	const char *why = srv->outbound ? qadmin_apply(srv->outbound, srv->q, (qadmin_op)op, qid)
	                                : "remote delivery is not running";
	log_event(LOG_LVL_INFO, "web_queue", "req=%s by=%s qid=%s op=%s result=%s", http_req_id(r),
	          http_req_principal(r), qid, name, why ? why : "ok");
	if (why != NULL) {
		char *text = xasprintf("%s cannot be %s: %s.", qid, qadmin_op_done((qadmin_op)op), why);
		web_reply_message(r, 409, "Not done", text);
		free(text);
		return;
	}
	char *loc = xasprintf("/queue?did=%s&qid=%s", name, qid);
	web_security_headers(r);
	http_redirect(r, loc);
	free(loc);
}
