/* events.c — GET /v1/events (see events.h): parameters and cursor in, a
 * trail query on a worker, events out.  It must not write anything. */
#include "api/events.h"

#include <stdlib.h>
#include <string.h>

#include "api/event.h"
#include "api/pagecursor.h"
#include "api/state.h"
#include "audit/audit.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/workers.h"
#include "net/server.h"

#define EVENTS_LIMIT_DEFAULT 100
#define EVENTS_LIMIT_MAX 1000
#define EVENTS_FILTER_MAX 320 /* bytes of a recipient or message id */

typedef struct events_job {
	http_req *r;
	const config *cfg;
	json_t *state;       /* the query: "after", "types", "rcpt", "qid", "since", "until", "limit" */
	json_t *answer;      /* built on the worker */
	char *err;
	char *apikey;        /* the caller: the events of its messages only */
} events_job;

/* ?type=a,b into a kinds mask; false when one is not an event type. */
static bool parse_types(const char *s, unsigned *kinds_r)
{
	*kinds_r = 0;
	char *copy = xstrdup(s), *save = NULL;
	bool ok = true;
	for (char *t = strtok_r(copy, ",", &save); t != NULL && ok; t = strtok_r(NULL, ",", &save)) {
		int k = event_type_parse(t);
		ok = k >= 0;
		if (ok)
			*kinds_r |= 1u << k;
	}
	free(copy);
	return ok && *kinds_r != 0;
}

static bool bad(http_req *r, const char *field, const char *detail)
{
	http_problem(r, 400, "invalid-parameter", "A query parameter is not valid", detail, field);
	return false;
}

/* The query's state from the parameters; false after answering 400. */
static bool state_from_params(http_req *r, json_t *st)
{
	const char *v;
	unsigned kinds = event_kinds_all();
	if ((v = http_req_query(r, "type")) != NULL && !parse_types(v, &kinds))
		return bad(r, "type", "type is a comma-separated list of received, delivered, deferred, bounced, suppressed");
	json_object_set_new(st, "types", json_integer(kinds));
	const char *names[][2] = {{"recipient", "rcpt"}, {"message_id", "qid"}};
	for (size_t i = 0; i < 2; i++)
		if ((v = http_req_query(r, names[i][0])) != NULL) {
			json_t *s = *v != '\0' && strlen(v) <= EVENTS_FILTER_MAX ? json_string(v) : NULL;
			if (s == NULL)
				return bad(r, names[i][0], "must be 1 to 320 bytes of UTF-8");
			json_object_set_new(st, names[i][1], s);
		}
	const char *times[] = {"since", "until"};
	for (size_t i = 0; i < 2; i++) {
		int64_t ms;
		if ((v = http_req_query(r, times[i])) == NULL)
			continue;
		if (!event_time_parse(v, &ms))
			return bad(r, times[i], "an RFC 3339 date-time (2026-12-06T09:00:00Z) or unix seconds");
		json_object_set_new(st, times[i], json_integer(ms));
	}
	long limit = EVENTS_LIMIT_DEFAULT;
	if ((v = http_req_query(r, "limit")) != NULL) {
		char *end;
		limit = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || limit < 1 || limit > EVENTS_LIMIT_MAX)
			return bad(r, "limit", "limit is a whole number from 1 to 1000");
	}
	json_object_set_new(st, "limit", json_integer(limit));
	json_object_set_new(st, "after", json_integer(0));
	return true;
}

/* The state a cursor carries, checked; NULL when it is not ours. */
static json_t *state_from_cursor(const char *c)
{
	json_t *st = pagecursor_decode(c);
	json_int_t limit = json_integer_value(json_object_get(st, "limit"));
	if (st == NULL || !json_is_integer(json_object_get(st, "after")) ||
	    !json_is_integer(json_object_get(st, "types")) || limit < 1 || limit > EVENTS_LIMIT_MAX) {
		json_decref(st);
		return NULL;
	}
	return st;
}

static const char *sget(json_t *st, const char *k)
{
	return json_string_value(json_object_get(st, k));
}

/* Query the trail; build the answer. */
static void events_work(void *arg)
{
	events_job *j = arg;
	audit_reader *tr = audit_reader_open(j->cfg, &j->err);
	if (tr == NULL)
		return;
	json_t *st = j->state;
	const char *rcpt = sget(st, "rcpt");
	int64_t since = json_integer_value(json_object_get(st, "since"));
	int64_t until = json_integer_value(json_object_get(st, "until"));
	/* the trail applies since/until to a recipient's messages' receipt:
	 * with a recipient, they are applied to each record here instead */
	audit_filter f = {.qid = sget(st, "qid"), .rcpt = rcpt, .apikey = j->apikey,
	                  .since_ms = rcpt ? 0 : since, .until_ms = rcpt ? 0 : until,
	                  .kinds = (unsigned)json_integer_value(json_object_get(st, "types")),
	                  .after_id = json_integer_value(json_object_get(st, "after")),
	                  .limit = (size_t)json_integer_value(json_object_get(st, "limit"))};
	audit_records rs = {0};
	if (audit_query(tr, &f, &rs, &j->err)) {
		json_t *list = json_array();
		for (size_t i = 0; i < rs.n; i++) {
			const audit_record *rec = &rs.v[i];
			/* a recipient filter returns whole timelines: keep that recipient's */
			if (!(f.kinds & (1u << rec->kind)) || (since && rec->time_ms < since) ||
			    (until && rec->time_ms >= until) ||
			    (rcpt != NULL && rec->kind != AUDIT_RECEIVED && (rec->rcpt == NULL || !str_ascii_ieq(rec->rcpt, rcpt))))
				continue;
			json_t *ev = event_json(rec);
			if (ev != NULL)
				json_array_append_new(list, ev);
		}
		json_t *next = json_null(), *link = json_null();
		if (rs.n == f.limit) {
			json_object_set_new(st, "after", json_integer(rs.v[rs.n - 1].id));
			char *c = pagecursor_encode(st);
			next = json_string(c);
			char *l = xasprintf("/v1/events?cursor=%s", c);
			link = json_string(l);
			free(l);
			free(c);
		}
		j->answer = json_pack("{s:o, s:o, s:o}", "events", list, "next_cursor", next, "next", link);
	}
	audit_records_free(&rs);
	audit_reader_close(&tr);
}

static void events_done(void *arg)
{
	events_job *j = arg;
	if (j->answer != NULL) {
		http_reply_json(j->r, 200, j->answer);
	} else {
		log_event(LOG_LVL_WARN, "events", "rid=%s error=%s", http_req_id(j->r), j->err);
		http_add_header(j->r, "Retry-After", "5");
		http_problem(j->r, 503, "unavailable", "The delivery log cannot be read now", "try again shortly", NULL);
	}
	json_decref(j->state);
	free(j->err);
	free(j->apikey);
	free(j);
}

void events_get(http_req *r)
{
	json_t *st;
	const char *c = http_req_query(r, "cursor");
	if (c != NULL) {
		if ((st = state_from_cursor(c)) == NULL) {
			bad(r, "cursor", "not a cursor this server gave out (pass next_cursor back as it is)");
			return;
		}
	} else {
		st = json_object();
		if (!state_from_params(r, st)) {
			json_decref(st);
			return;
		}
	}
	events_job *j = xcalloc(1, sizeof(*j));
	*j = (events_job){.r = r, .cfg = http_req_server(r)->cfg, .state = st,
	                  .apikey = xstrdup(api_caller_of(r)->name)};
	workers_submit(http_req_server(r)->wk, events_work, events_done, j);
}
