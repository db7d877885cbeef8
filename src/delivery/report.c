/* report.c — addressing and queueing a delivery report (see report.h).
 * Owns who the report goes to; must not build reports (dsn.c) or decide
 * when one is due (outbound.c for remote results, local.c for local ones). */
#include "delivery/report.h"

#include <stdlib.h>

#include "audit/audit.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "queue/qid.h"

bool report_send(const report_ctx *ctx, const char *about_qid, const char *sender, const char *kind,
                 size_t recipients, const char *msg, size_t len)
{
	if (sender == NULL || sender[0] == '\0')
		return false; /* never report to the null sender (RFC 5321 4.5.5) */
	char id[QID_LEN + 1];
	qid_new(id);
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	accounts_status st = accounts_resolve(ctx->acc, sender, &local, &remote);
	qenvelope env = {.id = id, .time = time(NULL), .sender = (char *)"", .client = (char *)"127.0.0.1",
	                 .helo = (char *)ctx->hostname, .requiretls = ctx->requiretls};
	if (st == ACC_OK) {
		for (size_t i = 0; i < local.n; i++)
			qenvelope_add_rcpt(&env, local.items[i], 'L');
		for (size_t i = 0; i < remote.n; i++)
			qenvelope_add_rcpt(&env, remote.items[i], 'R');
	} else if (st == ACC_NO_DOMAIN) {
		qenvelope_add_rcpt(&env, sender, 'R');
	}
	bool ok = false;
	if (env.n_rcpts > 0) {
		ok = queue_inject(ctx->q, &env, msg, len);
		log_event(LOG_LVL_INFO, "dsn", "qid=%s dsn_qid=%s kind=%s to=%s recipients=%zu%s", about_qid, id,
		          kind, sender, recipients, ctx->requiretls ? " requiretls=yes" : "");
		if (ok)
			audit_emit(AUDIT_DSN, about_qid, NULL,
			           json_pack("{s:s, s:s, s:o, s:I}", "dsn_qid", id, "action", kind, "to", audit_str(sender),
			                     "recipients", (json_int_t)recipients));
	} else {
		log_event(LOG_LVL_WARN, "dsn", "qid=%s to=%s result=dropped reason=%s", about_qid, sender,
		          "sender cannot be resolved");
	}
	qenvelope_free_rcpts(&env);
	strlist_free(&local);
	strlist_free(&remote);
	return ok;
}

void report_on_queue(void *arg, const char *about_qid, const char *sender, const char *kind, size_t recipients,
                     const char *msg, size_t len, bool requiretls)
{
	report_ctx ctx = *(const report_ctx *)arg;
	ctx.requiretls = requiretls;
	report_send(&ctx, about_qid, sender, kind, recipients, msg, len);
}
