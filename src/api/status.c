/* status.c — GET /v1/messages/{id}: a message sent through the API, from
 * the audit trail (audit/audit.h): its recipients with their state and
 * last reply, and its timeline, oldest first.
 *
 * Who may read it: only the key that sent it (the trail's RECEIVED
 * record names the key).  Any other caller, another key of the same
 * domain included, gets 404, as for an id that does not exist: a key
 * learns nothing about other keys' mail, and an application that shares
 * a domain with another gets its own key.  Reading runs on a worker
 * (SQLite); nothing here writes. */
#include "api/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "lib/log.h"

typedef struct status_job {
	http_req *r;
	const config *cfg;
	char *qid;
	char *key_name;
	/* found */
	int status;
	json_t *answer;
	char *err;
} status_job;

static void status_free(status_job *j)
{
	free(j->qid);
	free(j->key_name);
	json_decref(j->answer);
	free(j->err);
	free(j);
}

/* RFC 3339 UTC with milliseconds. */
static json_t *time_json(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[40], out[48];
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof out, "%s.%03dZ", s, (int)(ms % 1000));
	return json_string(out);
}

/* The recipients' states with RFC 3339 times. */
static json_t *recipients(json_t *state)
{
	size_t i;
	json_t *o;
	json_array_foreach(state, i, o) {
		const char *keys[] = {"time", "read", "deleted"};
		for (size_t k = 0; k < 3; k++) {
			json_t *v = json_object_get(o, keys[k]);
			if (json_is_integer(v))
				json_object_set_new(o, keys[k], time_json(json_integer_value(v)));
		}
	}
	return state;
}

static void status_work(void *arg)
{
	status_job *j = arg;
	j->status = 404;
	audit_sync(); /* a send just answered: its records are stored */
	audit_reader *rd = audit_reader_open(j->cfg, &j->err);
	if (rd == NULL)
		return;
	audit_filter f = {.qid = j->qid, .limit = 1000};
	audit_records rs = {0};
	if (!audit_query(rd, &f, &rs, &j->err)) {
		j->status = 503;
		audit_reader_close(&rd);
		return;
	}
	const audit_record *received = NULL;
	for (size_t i = 0; i < rs.n && received == NULL; i++)
		if (rs.v[i].kind == AUDIT_RECEIVED)
			received = &rs.v[i];
	const char *by = received ? json_string_value(json_object_get(received->data, "apikey")) : NULL;
	json_t *state = by && strcmp(by, j->key_name) == 0 ? audit_message_state(rd, j->qid, &j->err) : NULL;
	if (state != NULL) {
		json_t *timeline = json_array();
		for (size_t i = 0; i < rs.n; i++) {
			json_t *e = json_pack("{s:I, s:o, s:s, s:O}", "id", (json_int_t)rs.v[i].id, "time",
			                      time_json(rs.v[i].time_ms), "kind", audit_kind_name(rs.v[i].kind), "data",
			                      rs.v[i].data);
			if (rs.v[i].rcpt != NULL)
				json_object_set_new(e, "rcpt", json_string(rs.v[i].rcpt));
			json_array_append_new(timeline, e);
		}
		json_t *d = received->data;
		j->answer = json_pack("{s:s, s:o, s:O?, s:O?, s:o, s:o}", "id", j->qid, "received_at",
		                      time_json(received->time_ms), "from", json_object_get(d, "sender"), "message_id",
		                      json_object_get(d, "message_id"), "recipients", recipients(state), "timeline",
		                      timeline);
		j->status = 200;
	}
	audit_records_free(&rs);
	audit_reader_close(&rd);
}

static void status_done(void *arg)
{
	status_job *j = arg;
	if (j->r == NULL) {
		status_free(j);
		return;
	}
	http_req_on_abort(j->r, NULL, NULL);
	if (j->status == 200) {
		http_reply_json(j->r, 200, j->answer);
		j->answer = NULL;
	} else if (j->status == 503) {
		log_event(LOG_LVL_ERROR, "api_status", "rid=%s error=\"%s\"", http_req_id(j->r), j->err);
		http_add_header(j->r, "Retry-After", "5");
		http_problem(j->r, 503, "unavailable", "The audit trail cannot be read now; try again later", NULL, NULL);
	} else {
		http_problem(j->r, 404, "not-found", "No message with this id was sent with this key", NULL, "id");
	}
	status_free(j);
}

static void status_abort(void *arg)
{
	status_job *j = arg;
	j->r = NULL; /* the worker's done frees it */
}

/* A queue id: letters and digits, at most 32. */
static bool valid_qid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
			return false;
	return true;
}

void api_messages_get(http_req *r)
{
	const char *id = http_req_param(r, "id");
	if (id == NULL || !valid_qid(id)) {
		http_problem(r, 404, "not-found", "No message with this id was sent with this key", NULL, "id");
		return;
	}
	server *srv = http_req_server(r);
	status_job *j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->cfg = srv->cfg;
	j->qid = xstrdup(id);
	j->key_name = xstrdup(api_caller_of(r)->name);
	http_req_on_abort(r, status_abort, j);
	workers_submit(srv->wk, status_work, status_done, j);
}
