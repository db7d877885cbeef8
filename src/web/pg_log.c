/* pg_log.c — the delivery log page: the audit trail's records (received,
 * delivered, deferred, bounced, suppressed, DSNs) found by sender,
 * recipient, final status and time range, oldest first, a page at a time
 * (the cursor is the last record's id).  A search by sender, recipient or
 * status shows the whole timeline of each matching message.  Reads through
 * audit/audit.h on a worker; must not write to the trail. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "web/html.h"
#include "web/page.h"
#include "web/when.h"

#define LOG_PAGE 100
#define FIELD_MAX 320

static const char *const statuses[] = {"delivered", "deferred", "bounced", "removed"};

typedef struct log_job {
	web_job base;
	char *sender, *rcpt, *status, *since, *until;
	audit_filter f;
	audit_records recs;
	const char *invalid;   /* a field that does not parse: its sentence */
} log_job;

static void work(web_job *j)
{
	log_job *l = (log_job *)j;
	audit_reader *rd = web_audit_open(j);
	if (rd == NULL)
		return;
	if (!audit_query(rd, &l->f, &l->recs, &j->err))
		l->recs = (audit_records){0};
	audit_reader_close(&rd);
}

/* A record's recipients: its rcpt, or the message's list (received). */
static void recipients(buf *out, const audit_record *rec)
{
	if (rec->rcpt != NULL) {
		html_text(out, rec->rcpt);
		return;
	}
	json_t *rcpts = json_object_get(rec->data, "rcpts");
	size_t i;
	json_t *v;
	json_array_foreach(rcpts, i, v) {
		if (i > 0)
			BUF_PUTS(out, ", ");
		html_text(out, json_string_value(v));
	}
}

/* The record's most telling words: a reply, a subject, a DSN's action. */
static const char *detail(const audit_record *rec)
{
	static const char *const keys[] = {"reply", "reason", "text", "subject", "action", "decision"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = web_json_str(rec->data, keys[i]);
		if (v != NULL)
			return v;
	}
	return "";
}

void web_log_row(buf *out, const audit_record *rec, bool with_qid)
{
	const char *kind = audit_kind_name(rec->kind);
	BUF_PUTS(out, "<tr><td class=\"mono\">");
	html_time(out, rec->time_ms / 1000);
	html_printf(out, "</td><td><span class=\"state %s\">%s</span></td>", kind, kind);
	if (with_qid) {
		if (rec->qid != NULL)
			html_printf(out, "<td class=\"mono\"><a href=\"/message/%s\">%s</a></td>", rec->qid, rec->qid);
		else
			BUF_PUTS(out, "<td></td>");
	}
	const char *sender = web_json_str(rec->data, "sender");
	html_printf(out, "<td class=\"mono\">%s</td><td class=\"mono\">", sender ? (sender[0] ? sender : "<>") : "");
	recipients(out, rec);
	html_printf(out, "</td><td class=\"reply\">%s</td></tr>\n", detail(rec));
}

static void field(buf *out, const char *label, const char *name, const char *value, const char *ph)
{
	html_printf(out, "<label>%s<input type=\"text\" name=\"%s\" value=\"%s\" placeholder=\"%s\" "
	            "maxlength=\"320\"></label>", label, name, value ? value : "", ph);
}

static void form(buf *out, const log_job *l)
{
	BUF_PUTS(out, "<form class=\"search\" method=\"get\" action=\"/log\">");
	field(out, "Sender", "sender", l->sender, "alice@example.org");
	field(out, "Recipient", "rcpt", l->rcpt, "bob@example.net");
	BUF_PUTS(out, "<label>Status<select name=\"status\"><option value=\"\">any</option>");
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		html_printf(out, l->status && strcmp(l->status, statuses[i]) == 0
		                 ? "<option selected>%s</option>" : "<option>%s</option>", statuses[i]);
	BUF_PUTS(out, "</select></label>");
	field(out, "Since", "since", l->since, "2d, 2026-12-06T09:00");
	field(out, "Until", "until", l->until, "(now)");
	BUF_PUTS(out, "<button type=\"submit\" class=\"primary\">Search</button></form>\n"
	         "<p class=\"muted\">Times are UTC: a date, a date and time, or a time ago (30m, 6h, 2d, 1w).</p>\n");
}

/* The link to the page after this one: the same search, after the last id. */
static void next_link(buf *out, const log_job *l)
{
	BUF_PUTS(out, "<p><a class=\"next\" href=\"/log?");
	const char *names[] = {"sender", "rcpt", "status", "since", "until"};
	const char *values[] = {l->sender, l->rcpt, l->status, l->since, l->until};
	for (size_t i = 0; i < 5; i++) {
		BUF_PRINTF(out, "%s=", names[i]);
		html_url_value(out, values[i] ? values[i] : "");
		BUF_PUTS(out, "&amp;");
	}
	BUF_PRINTF(out, "after=%lld\">Later records →</a></p>\n", (long long)l->recs.v[l->recs.n - 1].id);
}

static void render(web_job *j, buf *out)
{
	log_job *l = (log_job *)j;
	form(out, l);
	if (l->invalid != NULL) {
		html_printf(out, "<p class=\"error\">%s</p>\n", l->invalid);
		return;
	}
	if (l->recs.n == 0) {
		BUF_PUTS(out, "<p class=\"muted\">No record matches.</p>\n");
		return;
	}
	BUF_PUTS(out, "<table class=\"log\"><thead><tr><th>Time (UTC)</th><th>Event</th><th>Queue id</th>"
	         "<th>Sender</th><th>Recipient</th><th>Reply or subject</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < l->recs.n; i++)
		web_log_row(out, &l->recs.v[i], true);
	BUF_PUTS(out, "</tbody></table>\n");
	if (l->recs.n == LOG_PAGE)
		next_link(out, l);
}

static void job_free(web_job *j)
{
	log_job *l = (log_job *)j;
	audit_records_free(&l->recs);
	free(l->sender);
	free(l->rcpt);
	free(l->status);
	free(l->since);
	free(l->until);
}

/* A query field, trimmed; NULL when absent or empty. */
static char *query(http_req *r, const char *name)
{
	const char *v = http_req_query(r, name);
	while (v != NULL && *v == ' ')
		v++;
	if (v == NULL || *v == '\0')
		return NULL;
	size_t n = strlen(v);
	while (n > 0 && v[n - 1] == ' ')
		n--;
	return xstrndup(v, n);
}

static const char *check(log_job *l, http_req *r)
{
	time_t now = time(NULL), since, until;
	if ((l->sender && strlen(l->sender) > FIELD_MAX) || (l->rcpt && strlen(l->rcpt) > FIELD_MAX))
		return "An address is too long.";
	if (l->status != NULL) {
		bool known = false;
		for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			known |= strcmp(l->status, statuses[i]) == 0;
		if (!known)
			return "Status must be delivered, deferred or bounced.";
	}
	if (!web_when_parse(l->since ? l->since : "", now, &since))
		return "Since is not a time: give a date (2026-12-06), a date and time (2026-12-06T09:30) or a time ago (2d).";
	if (!web_when_parse(l->until ? l->until : "", now, &until))
		return "Until is not a time: give a date (2026-12-06), a date and time (2026-12-06T09:30) or a time ago (2d).";
	const char *after = http_req_query(r, "after");
	char *end = NULL;
	long long a = after ? strtoll(after, &end, 10) : 0;
	if (after != NULL && (end == after || *end != '\0' || a < 0))
		return "The page cursor is not a number.";
	l->f = (audit_filter){.sender = l->sender, .rcpt = l->rcpt, .status = l->status,
	                      .since_ms = (int64_t)since * 1000, .until_ms = (int64_t)until * 1000,
	                      .after_id = a, .limit = LOG_PAGE,
	                      .kinds = 1u << AUDIT_RECEIVED | 1u << AUDIT_DELIVERED | 1u << AUDIT_DEFERRED |
	                               1u << AUDIT_BOUNCED | 1u << AUDIT_SUPPRESSED | 1u << AUDIT_DSN |
	                               1u << AUDIT_REMOVED};
	return NULL;
}

static void no_work(web_job *j)
{
}

void web_get_log(http_req *r)
{
	log_job *l = xcalloc(1, sizeof(*l));
	l->sender = query(r, "sender");
	l->rcpt = query(r, "rcpt");
	l->status = query(r, "status");
	/* a first visit shows the last day; an emptied field means no bound */
	l->since = http_req_query(r, "since") ? query(r, "since") : xstrdup("1d");
	l->until = query(r, "until");
	l->invalid = check(l, r);
	l->base.work = l->invalid ? no_work : work;
	l->base.render = render;
	l->base.free = job_free;
	if (l->invalid)
		l->base.status = 400;
	web_job_start(&l->base, r, "Delivery log", "/log");
}
