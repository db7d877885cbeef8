/* pg_message.c — one message's page: what the trail recorded when it was
 * received (sender, subject, client, TLS, authentication verdicts), each
 * recipient's current state and last reply, and the whole timeline, every
 * record with all it carries.  Reads audit/audit.h on a worker; must not
 * change the message or the queue. */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "queue/qid.h"
#include "web/html.h"
#include "web/page.h"

#define TIMELINE_MAX 1000

typedef struct msg_job {
	web_job base;
	char *qid, *title;
	audit_records recs;
	json_t *state;
} msg_job;

static void work(web_job *j)
{
	msg_job *m = (msg_job *)j;
	audit_reader *rd = web_audit_open(j);
	if (rd == NULL)
		return;
	audit_filter f = {.qid = m->qid, .limit = TIMELINE_MAX};
	if (audit_query(rd, &f, &m->recs, &j->err) && m->recs.n > 0)
		m->state = audit_message_state(rd, m->qid, &j->err);
	audit_reader_close(&rd);
}

/* What the RECEIVED record says, as a definition list. */
static void summary(buf *out, const audit_record *rec)
{
	static const struct {
		const char *key, *label;
	} keys[] = {
		{"sender", "Sender"}, {"subject", "Subject"}, {"message_id", "Message-ID"}, {"size", "Size"},
		{"listener", "Received on"}, {"client_ip", "Client"}, {"client_name", "Client name"},
		{"helo", "HELO"}, {"tls_version", "TLS"}, {"tls_cipher", "Cipher"}, {"user", "Authenticated as"},
		{"app_password", "App password"},
		{"apikey", "API key"}, {"spf", "SPF"}, {"dkim", "DKIM"}, {"dmarc", "DMARC"},
	};
	BUF_PUTS(out, "<dl class=\"summary\"><dt>Received</dt><dd>");
	html_time(out, rec->time_ms / 1000);
	BUF_PUTS(out, " UTC</dd>");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(rec->data, keys[i].key);
		if (v == NULL)
			continue;
		html_printf(out, "<dt>%s</dt><dd class=\"mono\">", keys[i].label);
		if (json_is_integer(v))
			BUF_PRINTF(out, "%lld", (long long)json_integer_value(v));
		else if (json_is_string(v) && json_string_value(v)[0] == '\0')
			BUF_PUTS(out, "&lt;&gt;"); /* the null sender */
		else if (json_is_string(v))
			html_text(out, json_string_value(v));
		BUF_PUTS(out, "</dd>");
	}
	BUF_PUTS(out, "</dl>\n");
}

static void states(buf *out, json_t *state)
{
	if (!json_is_array(state) || json_array_size(state) == 0)
		return;
	BUF_PUTS(out, "<h2>Recipients</h2>\n<table class=\"rcpts\"><thead><tr><th>Recipient</th><th>State</th>"
	         "<th>Since (UTC)</th><th>Last reply</th></tr></thead><tbody>\n");
	size_t i;
	json_t *v;
	json_array_foreach(state, i, v) {
		const char *st = web_json_str(v, "state");
		html_printf(out, "<tr><td class=\"mono\">%s</td><td><span class=\"state %s\">%s</span></td><td class=\"mono\">",
		            web_json_str(v, "rcpt"), st ? st : "", st ? st : "");
		json_t *t = json_object_get(v, "time");
		if (json_is_integer(t))
			html_time(out, (long long)(json_integer_value(t) / 1000));
		html_printf(out, "</td><td class=\"reply\">%s</td></tr>\n", web_json_str(v, "reply"));
	}
	BUF_PUTS(out, "</tbody></table>\n");
}

/* Everything a record carries, key=value, for the timeline's last column. */
static void data(buf *out, json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		html_printf(out, "<div><span class=\"muted\">%s</span> ", key);
		if (json_is_string(v)) {
			html_text(out, json_string_value(v));
		} else {
			char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			html_text(out, s);
			free(s);
		}
		BUF_PUTS(out, "</div>");
	}
}

static void render(web_job *j, buf *out)
{
	msg_job *m = (msg_job *)j;
	if (m->recs.n == 0) {
		j->status = 404;
		html_printf(out, "<p class=\"error\">The audit trail knows no message %s.</p>\n", m->qid);
		return;
	}
	for (size_t i = 0; i < m->recs.n; i++)
		if (m->recs.v[i].kind == AUDIT_RECEIVED) {
			summary(out, &m->recs.v[i]);
			break;
		}
	states(out, m->state);
	BUF_PUTS(out, "<h2>Timeline</h2>\n<table class=\"timeline\"><thead><tr><th>Time (UTC)</th><th>Event</th>"
	         "<th>Recipient</th><th>Details</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < m->recs.n; i++) {
		const audit_record *rec = &m->recs.v[i];
		const char *kind = audit_kind_name(rec->kind);
		BUF_PUTS(out, "<tr><td class=\"mono\">");
		html_time(out, rec->time_ms / 1000);
		BUF_PRINTF(out, ".%03d", (int)(rec->time_ms % 1000));
		html_printf(out, "</td><td><span class=\"state %s\">%s</span></td><td class=\"mono\">%s</td><td class=\"mono\">",
		            kind, kind, rec->rcpt ? rec->rcpt : "");
		data(out, rec->data);
		BUF_PUTS(out, "</td></tr>\n");
	}
	BUF_PUTS(out, "</tbody></table>\n");
}

static void job_free(web_job *j)
{
	msg_job *m = (msg_job *)j;
	audit_records_free(&m->recs);
	json_decref(m->state);
	free(m->qid);
	free(m->title);
}

void web_get_message(http_req *r)
{
	const char *qid = http_req_param(r, "qid");
	if (qid == NULL || !qid_valid(qid)) {
		web_reply_message(r, 404, "No such message", "That is not a queue id.");
		return;
	}
	msg_job *m = xcalloc(1, sizeof(*m));
	m->qid = xstrdup(qid);
	m->base.work = work;
	m->base.render = render;
	m->base.free = job_free;
	m->title = xasprintf("Message %s", qid);
	web_job_start(&m->base, r, m->title, "/log");
}
