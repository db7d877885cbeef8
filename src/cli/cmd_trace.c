/* cmd_trace.c — `yubin trace QID` and `yubin trace --from ADDR --to ADDR
 * --since T --until T --status S [--json]`: messages' timelines from the
 * audit trail, one line per record (time, kind, the key facts), or JSON.
 * Reads the trail only (audit_query); must not write it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "lib/buf.h"

#define TRACE_RECORDS_MAX 200000 /* records one command prints at most */

/* The facts shown for each kind, in order: data key and label. */
typedef struct fact {
	const char *key, *label;
} fact;
static const fact facts_received[] = {
	{"sender", "from"}, {"rcpts", "to"}, {"listener", "via"}, {"client_ip", "client"},
	{"client_name", "client_name"}, {"helo", "helo"}, {"tls_version", "tls"}, {"tls_cipher", "cipher"},
	{"user", "user"}, {"app_password", "app"}, {"apikey", "apikey"}, {"size", "size"}, {"message_id", "message_id"},
	{"subject", "subject"}, {"spf", "spf"}, {"dkim", "dkim"}, {"dmarc", "dmarc"}, {NULL, NULL}};
static const fact facts_policy[] = {
	{"stage", "stage"}, {"decision", "decision"}, {"by", "by"}, {"matched", "matched"}, {"hold", "hold"},
	{"junk", "junk"}, {"rcpt", "to"}, {"code", "code"},
	{"status", "status"}, {"text", "text"}, {NULL, NULL}};
static const fact facts_attempt[] = {
	{"rcpts", "to"}, {"host", "host"}, {"ip", "ip"}, {"port", "port"}, {"relay", "relay"},
	{"tls_version", "tls"}, {"tls_cipher", "cipher"}, {"tls_verified", "verified"},
	{"duration_ms", "ms"}, {"reply", "reply"}, {NULL, NULL}};
static const fact facts_final[] = {
	{"rcpt", "to"}, {"mailbox", "mailbox"}, {"host", "host"}, {"status", "status"}, {"reply", "reply"},
	{"reason", "reason"}, {"next_try", "next_try"}, {NULL, NULL}};
static const fact facts_dsn[] = {{"action", "action"}, {"dsn_qid", "report"}, {"rcpts", "about"}, {NULL, NULL}};
static const fact facts_mailbox[] = {
	{"mailbox", "mailbox"}, {"protocol", "via"}, {"folder", "folder"}, {"user", "user"}, {"app_password", "app"},
	{NULL, NULL}};
static const fact facts_journal[] = {{"to", "to"}, {"journal_qid", "copy"}, {NULL, NULL}};
static const fact facts_pruned[] = {{"removed", "removed"}, {"first_id", "first_id"}, {NULL, NULL}};
static const fact facts_removed[] = {{"op", "by"}, {NULL, NULL}};

static const fact *const kind_facts[AUDIT_KIND_COUNT] = {
	[AUDIT_RECEIVED] = facts_received, [AUDIT_POLICY] = facts_policy,   [AUDIT_ATTEMPT] = facts_attempt,
	[AUDIT_DELIVERED] = facts_final,   [AUDIT_DEFERRED] = facts_final,  [AUDIT_BOUNCED] = facts_final,
	[AUDIT_SUPPRESSED] = facts_final,  [AUDIT_DSN] = facts_dsn,         [AUDIT_READ] = facts_mailbox,
	[AUDIT_DELETED] = facts_mailbox,   [AUDIT_JOURNALED] = facts_journal, [AUDIT_PRUNED] = facts_pruned,
	[AUDIT_REMOVED] = facts_removed,
};

/* A data value as text (arrays joined by commas); malloc'd or NULL. */
static char *value_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	if (!json_is_array(v))
		return NULL;
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		char *t = value_text(e);
		BUF_PRINTF(&b, "%s%s", i ? "," : "", t ? t : "");
		free(t);
	}
	return buf_steal(&b);
}

static void print_record(const audit_record *r)
{
	time_t t = (time_t)(r->time_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%03dZ %-10s", when, (int)(r->time_ms % 1000), audit_kind_name(r->kind));
	const fact *f = (unsigned)r->kind < AUDIT_KIND_COUNT ? kind_facts[r->kind] : NULL;
	for (; f != NULL && f->key != NULL; f++) {
		char *v = value_text(json_object_get(r->data, f->key));
		cli_print_kv(f->label, v);
		free(v);
	}
	printf("\n");
}

typedef struct trace_opts {
	audit_filter f;
	bool json;
} trace_opts;

static int usage(void)
{
	fprintf(stderr, "usage: yubin trace QID [--json]\n"
	                "       yubin trace [--from ADDR] [--to ADDR] [--since T] [--until T]\n"
	                "                   [--status delivered|deferred|bounced|queued|removed] [--json]\n"
	                "T: an age (30m, 12h, 2d, 1w), a date (2026-12-01, 2026-12-01T10:30, UTC) or @UNIXSECONDS\n");
	return 2;
}

static bool parse_args(int argc, char **argv, trace_opts *o)
{
	int64_t now = audit_now_ms();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *err = NULL;
		if (strcmp(a, "--json") == 0) {
			o->json = true;
			continue;
		}
		if (a[0] != '-' && o->f.qid == NULL) {
			o->f.qid = a;
			continue;
		}
		if (v == NULL)
			return false;
		i++;
		if (strcmp(a, "--from") == 0) {
			o->f.sender = v;
		} else if (strcmp(a, "--to") == 0) {
			o->f.rcpt = v;
		} else if (strcmp(a, "--status") == 0) {
			if (!audit_status_valid(v)) {
				cli_error("--status must be delivered, deferred, bounced, queued or removed, not \"%s\"", v);
				return false;
			}
			o->f.status = v;
		} else if (strcmp(a, "--since") == 0 || strcmp(a, "--until") == 0) {
			int64_t *to = a[2] == 's' ? &o->f.since_ms : &o->f.until_ms;
			if (!audit_parse_when(v, now, to, &err)) {
				cli_error("%s %s", a, err);
				free(err);
				return false;
			}
		} else {
			return false;
		}
	}
	return o->f.qid != NULL || o->f.sender != NULL || o->f.rcpt != NULL || o->f.status != NULL ||
	       o->f.since_ms != 0 || o->f.until_ms != 0;
}

/* Every matching record, page by page (bounded). */
static bool fetch_all(audit_reader *r, audit_filter *f, audit_records *all)
{
	all->v = NULL;
	all->n = 0;
	f->limit = 1000;
	for (;;) {
		audit_records page;
		char *err = NULL;
		if (!audit_query(r, f, &page, &err)) {
			cli_error("%s", err);
			free(err);
			return false;
		}
		all->v = xrealloc(all->v, (all->n + page.n + 1) * sizeof(*all->v));
		if (page.n > 0)
			memcpy(all->v + all->n, page.v, page.n * sizeof(*page.v));
		all->n += page.n;
		free(page.v);
		if (page.n < f->limit)
			return true;
		if (all->n >= TRACE_RECORDS_MAX) {
			cli_error("more than %d records: narrow the search (--since, --until)", TRACE_RECORDS_MAX);
			return true;
		}
		f->after_id = all->v[all->n - 1].id;
	}
}

static json_t *record_json(const audit_record *r)
{
	json_t *o = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)r->id, "time", (json_int_t)r->time_ms, "kind",
	                      audit_kind_name(r->kind));
	if (r->rcpt)
		json_object_set_new(o, "rcpt", json_string(r->rcpt));
	json_object_set(o, "data", r->data);
	return o;
}

/* The messages in the order of their first record; records with no
 * message (a refusal before DATA) are left out of a search by message. */
static void print_grouped(audit_reader *rd, const audit_records *all, bool json)
{
	json_t *out = json_array();
	bool *done = xcalloc(all->n + 1, sizeof(bool));
	for (size_t i = 0; i < all->n; i++) {
		if (done[i] || all->v[i].qid == NULL)
			continue;
		const char *qid = all->v[i].qid;
		json_t *msg = json_pack("{s:s, s:[]}", "qid", qid, "records");
		if (!json)
			printf("%smessage %s\n", json_array_size(out) ? "\n" : "", qid);
		for (size_t k = i; k < all->n; k++) {
			if (done[k] || all->v[k].qid == NULL || strcmp(all->v[k].qid, qid) != 0)
				continue;
			done[k] = true;
			if (json)
				json_array_append_new(json_object_get(msg, "records"), record_json(&all->v[k]));
			else
				print_record(&all->v[k]);
		}
		char *err = NULL;
		json_t *state = audit_message_state(rd, qid, &err);
		free(err);
		json_object_set_new(msg, "recipients", state ? state : json_array());
		json_array_append_new(out, msg);
	}
	if (json) {
		char *s = json_dumps(out, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
	}
	json_decref(out);
	free(done);
}

int cmd_trace(cli_ctx *ctx, int argc, char **argv)
{
	trace_opts o = {0};
	if (!parse_args(argc, argv, &o))
		return usage();
	/* as the service user: SQLite's -wal and -shm files a reader may
	 * create must stay the server's */
	if (!cli_drop_privileges(ctx))
		return 1;
	char *err = NULL;
	audit_reader *r = audit_reader_open(ctx->cfg, &err);
	if (r == NULL) {
		cli_error("%s%s", err, audit_enabled(ctx->cfg) ? "" : " (audit.enabled is false)");
		free(err);
		return 1;
	}
	audit_records all;
	int rc = 1;
	if (fetch_all(r, &o.f, &all)) {
		if (all.n == 0 && !o.json)
			cli_error(o.f.qid ? "no record of %s in the audit trail" : "no message matches%s",
			          o.f.qid ? o.f.qid : "");
		else
			print_grouped(r, &all, o.json);
		rc = all.n > 0 || o.json ? 0 : 1;
		audit_records_free(&all);
	}
	audit_reader_close(&r);
	return rc;
}
