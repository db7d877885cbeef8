/* access.c — who calls the API: the state on srv->api (opened at start,
 * closed at stop), the Bearer-key check of every API route (see api.h),
 * the callers seen (one per key) with their per-minute rate buckets.  The
 * daily quota is counted by quota.c; what a caller may send is decided by
 * messages.c. */
#include "api/state.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/quota.h"
#include "delivery/connpool.h"
#include "lib/addrkey.h"
#include "lib/log.h"
#include "metrics/metrics.h"

/* last_used is written at most once a minute per key. */
#define TOUCH_EVERY 60
/* The most the loop waits for the key store's lock. */
#define LOOP_BUSY_MS 50

bool api_open(server *srv, char **err_r)
{
	api_state *a = xcalloc(1, sizeof(*a));
	a->srv = srv;
	a->work_ks = apikeys_open(srv->cfg, true, err_r);
	if (a->work_ks != NULL)
		a->loop_ks = apikeys_open(srv->cfg, false, err_r);
	if (a->loop_ks == NULL) {
		apikeys_close(&a->work_ks);
		free(a);
		return false;
	}
	/* a reader in WAL mode waits only in rare moments (a checkpoint's
	 * recovery); the loop must not wait long even then */
	apikeys_set_busy_timeout(a->loop_ks, LOOP_BUSY_MS);
	a->pool = connpool_new(srv->base, srv->cfg->api.sessions, srv->cfg->api.sessions_per_key);
	srv->api = a;
	return true;
}

void api_close(server *srv)
{
	api_state *a = srv->api;
	if (a == NULL)
		return;
	api_quota_save_all(a); /* before the callers with the counts go */
	while (a->callers != NULL) {
		api_caller *c = a->callers;
		a->callers = c->next;
		free(c->name);
		strlist_free(&c->domains);
		free(c);
	}
	connpool_free(&a->pool); /* after the requests: none holds a session */
	apikeys_close(&a->loop_ks);
	apikeys_close(&a->work_ks);
	free(a);
	srv->api = NULL;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The caller for k (taken over: its strings move into the caller). */
static api_caller *caller_for(api_state *a, apikey *k)
{
	api_caller *c = a->callers;
	while (c != NULL && c->id != k->id)
		c = c->next;
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->id = k->id;
		c->next = a->callers;
		a->callers = c;
		c->refilled = mono_now();
		c->tokens = (double)k->rate_per_min;
		strlist_init(&c->domains);
	}
	free(c->name);
	c->name = k->name;
	k->name = NULL;
	strlist_free(&c->domains);
	c->domains = k->domains;
	strlist_init(&k->domains);
	if (c->rate_per_min != k->rate_per_min && c->tokens > (double)k->rate_per_min)
		c->tokens = (double)k->rate_per_min;
	c->rate_per_min = k->rate_per_min;
	c->daily = k->daily;
	return c;
}

api_caller *api_caller_of(http_req *r)
{
	return http_req_principal_data(r);
}

/* ---- the per-minute rate: a token bucket of rate_per_min, refilled
 * continuously (rate_per_min a minute) ---- */

int api_rate_take(api_caller *c)
{
	if (c->rate_per_min <= 0)
		return 0;
	double now = mono_now(), per_s = (double)c->rate_per_min / 60.0;
	c->tokens += (now - c->refilled) * per_s;
	if (c->tokens > (double)c->rate_per_min)
		c->tokens = (double)c->rate_per_min;
	c->refilled = now;
	if (c->tokens >= 1.0) {
		c->tokens -= 1.0;
		return 0;
	}
	int wait = (int)((1.0 - c->tokens) / per_s) + 1;
	return wait;
}

void api_rate_give_back(api_caller *c)
{
	if (c->rate_per_min > 0 && c->tokens + 1.0 <= (double)c->rate_per_min)
		c->tokens += 1.0;
}

/* ---- last_used, on a worker ---- */

typedef struct touch_job {
	apikeys *ks;
	int64_t id, now;
} touch_job;

static void touch_work(void *arg)
{
	touch_job *t = arg;
	char *err = NULL;
	if (apikeys_touch(t->ks, t->id, t->now, &err) != APIKEYS_OK) {
		log_event(LOG_LVL_WARN, "apikey", "id=%lld error=\"%s\"", (long long)t->id, err);
		free(err);
	}
}

static void touch_done(void *arg)
{
	free(arg);
}

static void touch(api_state *a, api_caller *c, time_t now)
{
	if (now - c->touched < TOUCH_EVERY)
		return;
	c->touched = now;
	touch_job *t = xcalloc(1, sizeof(*t));
	*t = (touch_job){a->work_ks, c->id, now};
	workers_submit(a->srv->wk, touch_work, touch_done, t);
}

/* ---- refusals ---- */

/* A 401 waiting for the throttle's delay. */
typedef struct late_401 {
	http_req *r;
	struct event *ev;
	bool token_given;
} late_401;

static void answer_401(http_req *r, bool token_given)
{
	/* RFC 6750 3: a token that was given but is no good is invalid_token */
	http_add_header(r, "WWW-Authenticate",
	                token_given ? "Bearer realm=\"yubin\", error=\"invalid_token\"" : "Bearer realm=\"yubin\"");
	http_problem(r, 401, "unauthorized",
	             token_given ? "The API key is not valid" : "An API key is needed",
	             token_given ? "the key is unknown or revoked"
	                         : "send it as \"Authorization: Bearer KEY\" (yubin apikey add)",
	             "Authorization");
}

static void late_fire(evutil_socket_t fd, short what, void *arg)
{
	late_401 *l = arg;
	http_req_on_abort(l->r, NULL, NULL);
	answer_401(l->r, l->token_given);
	event_free(l->ev);
	free(l);
}

static void late_abort(void *arg)
{
	late_401 *l = arg;
	event_free(l->ev);
	free(l);
}

static void refuse(api_state *a, http_req *r, const char *addr, bool token_given, const char *why)
{
	server *srv = a->srv;
	int delay = throttle_failed(srv->thr, addr, NULL, time(NULL));
	metrics_auth_failed(METRICS_HTTPS);
	log_event(LOG_LVL_INFO, "api_auth", "rid=%s client=%s result=refused reason=\"%s\" delay_ms=%d",
	          http_req_id(r), http_req_ip(r), why, delay);
	if (delay <= 0) {
		answer_401(r, token_given);
		return;
	}
	late_401 *l = xcalloc(1, sizeof(*l));
	l->r = r;
	l->token_given = token_given;
	l->ev = evtimer_new(srv->base, late_fire, l);
	struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
	evtimer_add(l->ev, &tv);
	http_req_on_abort(r, late_abort, l);
}

/* The token of "Bearer TOKEN" (RFC 6750 2.1; the scheme in any case), or
 * NULL. */
static const char *bearer_token(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

bool api_key_access(http_req *r)
{
	api_state *a = http_req_server(r)->api;
	server *srv = http_req_server(r);
	char addr[ADDRKEY_MAX];
	addrkey_of(http_req_ip(r), addr);
	time_t now = time(NULL);
	if (throttle_refused(srv->thr, addr, NULL, now) != THROTTLE_NONE) {
		char secs[16];
		snprintf(secs, sizeof secs, "%d", srv->cfg->auth.lockout_seconds);
		http_add_header(r, "Retry-After", secs);
		metrics_auth_failed(METRICS_HTTPS);
		log_event(LOG_LVL_INFO, "api_auth", "rid=%s client=%s result=locked", http_req_id(r), http_req_ip(r));
		http_problem(r, 429, "too-many-failures", "Too many failed attempts from this address",
		             "this address gave wrong API keys too often; wait and try again", "Authorization");
		return false;
	}
	const char *token = bearer_token(http_req_header(r, "Authorization"));
	if (token == NULL) {
		refuse(a, r, addr, false, "no key");
		return false;
	}
	/* the caller as last read, while the store is unchanged */
	char hash[APIKEY_HASH_LEN + 1] = "";
	int64_t version = -1;
	char *err = NULL;
	if (strlen(token) == APIKEY_LEN) {
		apikeys_hash(token, hash);
		if (apikeys_version(a->loop_ks, &version, &err) != APIKEYS_OK) {
			free(err); /* the look-up below meets it too, and says so */
			err = NULL;
			version = -1;
		}
		for (api_caller *c = a->callers; c != NULL && version >= 0; c = c->next)
			if (c->version == version && strcmp(c->hash, hash) == 0) {
				touch(a, c, now);
				http_req_set_principal(r, "key", c->name, c);
				return true;
			}
	}
	apikey k;
	apikeys_status st = apikeys_find(a->loop_ks, token, &k, &err);
	if (st == APIKEYS_ERROR) {
		log_event(LOG_LVL_ERROR, "api_auth", "rid=%s error=\"%s\"", http_req_id(r), err);
		free(err);
		http_add_header(r, "Retry-After", "5");
		http_problem(r, 503, "unavailable", "The key store is not available; try again later", NULL, NULL);
		return false;
	}
	if (st != APIKEYS_OK) {
		char *why = st == APIKEYS_REVOKED ? xasprintf("revoked key %s", k.prefix) : xstrdup("unknown key");
		apikey_free(&k);
		refuse(a, r, addr, true, why);
		free(why);
		return false;
	}
	api_caller *c = caller_for(a, &k);
	apikey_free(&k);
	memcpy(c->hash, hash, sizeof c->hash);
	c->version = version;
	touch(a, c, now);
	http_req_set_principal(r, "key", c->name, c);
	return true;
}
