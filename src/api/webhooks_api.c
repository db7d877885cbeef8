/* webhooks_api.c — /v1/webhooks (see webhooks_api.h): requests in,
 * api/whstore.h calls on a worker, JSON or problems out (the one place its
 * statuses become HTTP statuses).  It must not send webhooks, and logs no
 * secret. */
#include "api/webhooks_api.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/apireq.h"
#include "api/event.h"
#include "api/hooks.h"
#include "api/state.h"
#include "api/whstore.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/workers.h"
#include "net/server.h"
#include "policy/polconf.h"

typedef enum { WOP_LIST, WOP_ADD, WOP_DEL } wh_op;

typedef struct wh_job {
	http_req *r;
	sqlite3 *db;
	wh_op op;
	char *url;
	unsigned kinds;
	int64_t id, now;
	char *secret;
	whstore_status st;
	whstore_entry *v;
	size_t n;
	char *apikey;        /* the caller: its endpoints only */
} wh_job;

static json_t *kinds_json(unsigned kinds)
{
	json_t *a = json_array();
	for (int k = 0; k < AUDIT_KIND_COUNT; k++)
		if ((kinds & (1u << k)) && event_type_name((audit_kind)k) != NULL)
			json_array_append_new(a, json_string(event_type_name((audit_kind)k)));
	return a;
}

static json_t *entry_json(int64_t id, const char *url, unsigned kinds, const char *source, int64_t created)
{
	json_t *j = json_object();
	char *sid = id > 0 ? xasprintf("wh_%lld", (long long)id) : NULL;
	json_object_set_new(j, "id", sid ? json_string(sid) : json_null());
	json_object_set_new(j, "url", json_string(url));
	json_object_set_new(j, "events", kinds_json(kinds));
	json_object_set_new(j, "source", json_string(source));
	if (created > 0) {
		char t[32];
		event_time_format(created * 1000, t);
		json_object_set_new(j, "created", json_string(t));
	}
	free(sid);
	return j;
}

static void wh_work(void *arg)
{
	wh_job *j = arg;
	if (j->op == WOP_LIST)
		j->st = whstore_list(j->db, j->apikey, &j->v, &j->n);
	else if (j->op == WOP_ADD)
		j->st = whstore_add(j->db, j->apikey, j->url, j->kinds, j->now, &j->id, &j->secret);
	else
		j->st = whstore_del(j->db, j->apikey, j->id);
}

static const webhook_defs *configured(http_req *r)
{
	const policy_config *pc = http_req_server(r)->policy;
	return pc != NULL ? pc->webhooks : NULL;
}

/* The caller's endpoints (the configuration's are the administrator's,
 * not listed to keys). */
static void answer_list(wh_job *j)
{
	json_t *list = json_array();
	for (size_t i = 0; i < j->n; i++)
		json_array_append_new(list, entry_json(j->v[i].id, j->v[i].url, j->v[i].kinds, "api", j->v[i].created));
	http_reply_json(j->r, 200, json_pack("{s:o}", "webhooks", list));
}

/* The one place the store's statuses become answers. */
static void wh_done(void *arg)
{
	wh_job *j = arg;
	http_req *r = j->r;
	if (j->st == WHS_ERROR) {
		log_event(LOG_LVL_WARN, "webhooks", "rid=%s error=%s", http_req_id(r), sqlite3_errmsg(j->db));
		http_add_header(r, "Retry-After", "5");
		http_problem(r, 503, "unavailable", "The webhook endpoints cannot be used now", "try again shortly", NULL);
	} else if (j->st == WHS_NOT_FOUND) {
		http_problem(r, 404, "not-found", "No webhook endpoint has this id", NULL, "id");
	} else if (j->st == WHS_EXISTS) {
		http_problem(r, 409, "conflict", "An endpoint with this url is registered already", NULL, "/url");
	} else if (j->st == WHS_FULL) {
		http_problem(r, 409, "too-many-webhooks", "No more webhook endpoints can be registered",
		             "delete one first (at most 64)", NULL);
	} else if (j->op == WOP_LIST) {
		answer_list(j);
	} else if (j->op == WOP_DEL) {
		log_event(LOG_LVL_INFO, "webhook_del", "rid=%s id=wh_%lld by=%s", http_req_id(r), (long long)j->id,
		          http_req_principal(r));
		http_reply(r, 204, NULL, NULL, 0);
	} else {
		char *host = webhook_url_host(j->url);
		log_event(LOG_LVL_INFO, "webhook_add", "rid=%s id=wh_%lld host=%s by=%s", http_req_id(r), (long long)j->id,
		          host, http_req_principal(r));
		free(host);
		json_t *e = entry_json(j->id, j->url, j->kinds, "api", j->now);
		json_object_set_new(e, "secret", json_string(j->secret));
		char *loc = xasprintf("/v1/webhooks/wh_%lld", (long long)j->id);
		http_add_header(r, "Location", loc);
		free(loc);
		http_reply_json(r, 201, e);
	}
	for (size_t i = 0; i < j->n; i++)
		free(j->v[i].url);
	free(j->v);
	free(j->url);
	free(j->apikey);
	str_secure_free(j->secret);
	free(j);
}

static void submit(http_req *r, wh_job *j)
{
	j->r = r;
	j->apikey = xstrdup(api_caller_of(r)->name);
	j->db = hooks_db(http_req_server(r)->hooks);
	workers_submit(http_req_server(r)->wk, wh_work, wh_done, j);
}

void webhooks_api_list(http_req *r)
{
	wh_job *j = xcalloc(1, sizeof(*j));
	j->op = WOP_LIST;
	submit(r, j);
}

void webhooks_api_del(http_req *r)
{
	const char *id = http_req_param(r, "id");
	char *end = NULL;
	long long v = id != NULL && strncmp(id, "wh_", 3) == 0 ? strtoll(id + 3, &end, 10) : 0;
	if (v <= 0 || end == NULL || *end != '\0') {
		http_problem(r, 404, "not-found", "No webhook endpoint has this id", "ids are wh_<number>", "id");
		return;
	}
	wh_job *j = xcalloc(1, sizeof(*j));
	j->op = WOP_DEL;
	j->id = v;
	submit(r, j);
}

/* The events array into a kinds mask (absent: every type but received). */
static bool read_events(http_req *r, json_t *ev, unsigned *kinds_r)
{
	if (ev == NULL) {
		*kinds_r = event_kinds_all() & ~(1u << AUDIT_RECEIVED);
		return true;
	}
	*kinds_r = 0;
	size_t i;
	json_t *v;
	json_array_foreach(ev, i, v) {
		int k = event_type_parse(json_string_value(v));
		if (k < 0)
			break;
		*kinds_r |= 1u << k;
	}
	if (!json_is_array(ev) || json_array_size(ev) == 0 || i < json_array_size(ev)) {
		apireq_bad_field(r, "/events", "a list of received, delivered, deferred, bounced, suppressed");
		return false;
	}
	return true;
}

void webhooks_api_add(http_req *r)
{
	json_t *in = apireq_object(r);
	if (in == NULL)
		return;
	const char *url = json_string_value(json_object_get(in, "url"));
	char *host = url != NULL && strlen(url) <= WEBHOOK_URL_MAX ? webhook_url_host(url) : NULL;
	unsigned kinds = 0;
	if (host == NULL)
		apireq_bad_field(r, "/url", "an https:// URL with a host and no user information, at most 2000 bytes");
	else if (webhook_defs_find(configured(r), url) != NULL)
		http_problem(r, 409, "conflict", "This url is an endpoint of the configuration already", NULL, "/url");
	else if (read_events(r, json_object_get(in, "events"), &kinds)) {
		wh_job *j = xcalloc(1, sizeof(*j));
		*j = (wh_job){.op = WOP_ADD, .url = xstrdup(url), .kinds = kinds, .now = (int64_t)time(NULL)};
		submit(r, j);
	}
	free(host);
	json_decref(in);
}
