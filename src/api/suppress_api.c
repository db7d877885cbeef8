/* suppress_api.c — /v1/suppressions (see suppress_api.h): requests in,
 * api/suppress.h calls on a worker, JSON or problems out (the one place
 * where the list's statuses become HTTP statuses).  It must not decide
 * which bounces suppress (api/suppress.c) or touch other tables. */
#include "api/suppress_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/apireq.h"
#include "api/event.h"
#include "api/hooks.h"
#include "api/pagecursor.h"
#include "api/state.h"
#include "api/suppress.h"
#include "audit/audit.h"
#include "auth/accounts.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/workers.h"
#include "net/server.h"

#define SUP_LIMIT_DEFAULT 100
#define SUP_LIMIT_MAX 1000

typedef enum { OP_LIST, OP_GET, OP_ADD, OP_DEL } sup_op;

typedef struct sup_job {
	http_req *r;
	sqlite3 *db;
	sup_op op;
	char *address, *reason, *after;
	size_t limit;
	suppress_status st;
	suppress_entry e;
	suppress_entry *v;
	size_t n;
} sup_job;

static json_t *entry_json(const suppress_entry *e)
{
	char t[32];
	event_time_format(e->created * 1000, t);
	json_t *j = json_object();
	json_object_set_new(j, "address", json_string(e->address));
	json_object_set_new(j, "reason", json_string(e->reason));
	json_object_set_new(j, "source", json_string(e->source));
	json_object_set_new(j, "reply", e->reply ? json_string(e->reply) : json_null());
	json_object_set_new(j, "message_id", e->qid ? json_string(e->qid) : json_null());
	json_object_set_new(j, "created", json_string(t));
	return j;
}

static void sup_work(void *arg)
{
	sup_job *j = arg;
	switch (j->op) {
	case OP_LIST:
		j->st = suppress_list(j->db, j->after, j->limit, &j->v, &j->n);
		break;
	case OP_GET:
		j->st = suppress_get(j->db, j->address, &j->e);
		break;
	case OP_ADD:
		j->st = suppress_add(j->db, j->address, j->reason, "manual", NULL, NULL, (int64_t)time(NULL));
		if (j->st == SUP_OK || j->st == SUP_EXISTS)
			suppress_get(j->db, j->address, &j->e);
		break;
	case OP_DEL:
		j->st = suppress_del(j->db, j->address);
		break;
	}
}

static void answer_list(sup_job *j)
{
	json_t *list = json_array(), *next = json_null(), *link = json_null();
	for (size_t i = 0; i < j->n; i++)
		json_array_append_new(list, entry_json(&j->v[i]));
	if (j->n == j->limit && j->n > 0) {
		json_t *st = json_pack("{s:s, s:I}", "after", j->v[j->n - 1].address, "limit", (json_int_t)j->limit);
		char *c = pagecursor_encode(st);
		char *l = xasprintf("/v1/suppressions?cursor=%s", c);
		next = json_string(c);
		link = json_string(l);
		free(c);
		free(l);
		json_decref(st);
	}
	http_reply_json(j->r, 200, json_pack("{s:o, s:o, s:o}", "suppressions", list, "next_cursor", next, "next", link));
}

/* The one place statuses become answers. */
static void sup_done(void *arg)
{
	sup_job *j = arg;
	http_req *r = j->r;
	if (j->st == SUP_ERROR) {
		log_event(LOG_LVL_WARN, "suppress", "rid=%s error=%s", http_req_id(r), sqlite3_errmsg(j->db));
		http_add_header(r, "Retry-After", "5");
		http_problem(r, 503, "unavailable", "The suppression list cannot be used now", "try again shortly", NULL);
	} else if (j->op == OP_LIST) {
		answer_list(j);
	} else if (j->st == SUP_NOT_FOUND) {
		http_problem(r, 404, "not-found", "This address is not on the suppression list", j->address, "address");
	} else if (j->st == SUP_INVALID) {
		http_problem(r, 400, "invalid-field", "The address is not valid", "an address local@domain", "/address");
	} else if (j->op == OP_DEL) {
		log_event(LOG_LVL_INFO, "suppress_del", "rid=%s address=%s by=%s", http_req_id(r), j->address,
		          http_req_principal(r));
		http_reply(r, 204, NULL, NULL, 0);
	} else {
		if (j->op == OP_ADD && j->st == SUP_OK) {
			log_event(LOG_LVL_INFO, "suppress_add", "rid=%s address=%s source=manual reason=%s by=%s",
			          http_req_id(r), j->e.address, j->reason, http_req_principal(r));
			audit_emit(AUDIT_SUPPRESSED, NULL, j->e.address,
			           json_pack("{s:s, s:s, s:s, s:s}", "rcpt", j->e.address, "reason", j->reason, "source",
			                     "manual", "apikey", api_caller_of(r)->name));
			char *loc = xasprintf("/v1/suppressions/%s", j->e.address);
			http_add_header(r, "Location", loc);
			free(loc);
		}
		http_reply_json(r, j->op == OP_ADD && j->st == SUP_OK ? 201 : 200, entry_json(&j->e));
	}
	suppress_entry_free(&j->e);
	for (size_t i = 0; i < j->n; i++)
		suppress_entry_free(&j->v[i]);
	free(j->v);
	free(j->address);
	free(j->reason);
	free(j->after);
	free(j);
}

static sup_job *job_new(http_req *r, sup_op op)
{
	sup_job *j = xcalloc(1, sizeof(*j));
	j->r = r;
	j->op = op;
	j->db = hooks_db(http_req_server(r)->hooks);
	return j;
}

static void submit(sup_job *j)
{
	workers_submit(http_req_server(j->r)->wk, sup_work, sup_done, j);
}

void suppress_api_list(http_req *r)
{
	sup_job *j = job_new(r, OP_LIST);
	j->limit = SUP_LIMIT_DEFAULT;
	const char *c = http_req_query(r, "cursor"), *l = http_req_query(r, "limit");
	if (c != NULL) {
		json_t *st = pagecursor_decode(c);
		const char *after = json_string_value(json_object_get(st, "after"));
		json_int_t lim = json_integer_value(json_object_get(st, "limit"));
		if (after != NULL && lim >= 1 && lim <= SUP_LIMIT_MAX) {
			j->after = xstrdup(after);
			j->limit = (size_t)lim;
		}
		json_decref(st);
		if (j->after == NULL) {
			free(j);
			http_problem(r, 400, "invalid-parameter", "A query parameter is not valid",
			             "not a cursor this server gave out (pass next_cursor back as it is)", "cursor");
			return;
		}
	} else if (l != NULL) {
		char *end;
		long v = strtol(l, &end, 10);
		if (*l == '\0' || *end != '\0' || v < 1 || v > SUP_LIMIT_MAX) {
			free(j);
			http_problem(r, 400, "invalid-parameter", "A query parameter is not valid",
			             "limit is a whole number from 1 to 1000", "limit");
			return;
		}
		j->limit = (size_t)v;
	}
	submit(j);
}

void suppress_api_get(http_req *r)
{
	sup_job *j = job_new(r, OP_GET);
	j->address = xstrdup(http_req_param(r, "address"));
	submit(j);
}

void suppress_api_del(http_req *r)
{
	sup_job *j = job_new(r, OP_DEL);
	j->address = xstrdup(http_req_param(r, "address"));
	submit(j);
}

void suppress_api_add(http_req *r)
{
	json_t *in = apireq_object(r);
	if (in == NULL)
		return;
	const char *addr = json_string_value(json_object_get(in, "address"));
	json_t *reason = json_object_get(in, "reason");
	char *norm = addr != NULL ? accounts_normalize(addr) : NULL;
	bool reason_ok = reason == NULL || (json_is_string(reason) && json_string_length(reason) > 0 &&
	                                    json_string_length(reason) <= SUPPRESS_REASON_MAX);
	if (norm == NULL || !reason_ok) {
		if (norm == NULL)
			apireq_bad_field(r, "/address", "address must be a string local@domain");
		else
			apireq_bad_field(r, "/reason", "reason must be a string of 1 to 500 bytes");
		free(norm);
		json_decref(in);
		return;
	}
	sup_job *j = job_new(r, OP_ADD);
	j->address = norm;
	j->reason = xstrdup(reason != NULL ? json_string_value(reason) : "manual");
	json_decref(in);
	submit(j);
}
