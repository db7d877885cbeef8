/* hooks.c — the server's suppression, events and webhook state (see
 * hooks.h): start-up, the follower's timer and job, shutdown.  It must not
 * answer HTTP or send webhooks itself. */
#include "api/hooks.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/follow.h"
#include "api/hooksdb.h"
#include "api/whsend.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "lib/workers.h"
#include "net/server.h"

#define FOLLOW_INTERVAL_MS 1000
/* The most a look-up on the loop waits for the list's lock (a WAL reader
 * waits only in rare moments, such as a checkpoint's recovery). */
#define LOOKUP_BUSY_MS 50

struct hooks {
	server *srv;
	sqlite3 *db;            /* the list, for the handlers (on workers) */
	/* the send path's look-up (loop or worker) on a connection of its
	 * own, so that it never waits for a handler's write on db */
	sqlite3 *lookup_db;
	pthread_mutex_t lookup_lock;
	sqlite3_stmt *lookup_st;     /* ... prepared once */
	follower *fol;
	whsend *sender;
	struct event *tick;
	bool running;           /* a follower step is on a worker */
	bool more;              /* its batch was full */
	bool stopped;
	char *last_error;       /* the follower's, logged when it changes */
};

static void on_tick(evutil_socket_t fd, short what, void *arg);

static void arm(hooks *h, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(h->tick, &tv);
}

typedef struct step_job {
	hooks *h;
	bool ok, more;
	char *err;
} step_job;

static void step_work(void *arg)
{
	step_job *j = arg;
	j->ok = follow_step(j->h->fol, &j->more, &j->err);
}

static void step_done(void *arg)
{
	step_job *j = arg;
	hooks *h = j->h;
	h->running = false;
	if (!j->ok && (h->last_error == NULL || strcmp(h->last_error, j->err) != 0)) {
		log_event(LOG_LVL_WARN, "hooks_follow", "error=%s result=\"tried again every second\"", j->err);
		free(h->last_error);
		h->last_error = j->err;
		j->err = NULL;
	} else if (j->ok && h->last_error != NULL) {
		log_event(LOG_LVL_INFO, "hooks_follow", "result=\"following the audit trail again\"");
		free(h->last_error);
		h->last_error = NULL;
	}
	free(j->err);
	if (!h->stopped)
		arm(h, j->more ? 0 : FOLLOW_INTERVAL_MS);
	free(j);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	hooks *h = arg;
	if (h->running || h->stopped)
		return;
	h->running = true;
	step_job *j = xcalloc(1, sizeof(*j));
	j->h = h;
	workers_submit(h->srv->wk, step_work, step_done, j);
}

hooks *hooks_open(server *srv, const webhook_defs *defs, char **err_r)
{
	hooks *h = xcalloc(1, sizeof(*h));
	h->srv = srv;
	h->db = hooksdb_open(srv->cfg, err_r);
	if (h->db != NULL)
		h->lookup_db = hooksdb_open(srv->cfg, err_r);
	if (h->lookup_db == NULL || (h->sender = whsend_start(srv->cfg, defs, err_r)) == NULL) {
		hooksdb_close(&h->lookup_db);
		hooksdb_close(&h->db);
		free(h);
		return NULL;
	}
	sqlite3_busy_timeout(h->lookup_db, LOOKUP_BUSY_MS);
	pthread_mutex_init(&h->lookup_lock, NULL);
	h->fol = follower_new(srv->cfg, defs);
	h->tick = evtimer_new(srv->base, on_tick, h);
	arm(h, 0);
	log_event(LOG_LVL_INFO, "hooks", "webhook_endpoints=%zu suppressed=%lld", defs ? defs->n : 0,
	          (long long)suppress_count(h->db));
	if (!srv->cfg->audit.enabled)
		log_event(LOG_LVL_WARN, "hooks",
		          "result=\"audit.enabled is off: no events, no webhooks, no suppression after bounces\"");
	return h;
}

void hooks_stop(hooks *h)
{
	if (h == NULL)
		return;
	h->stopped = true;
	if (h->tick != NULL)
		evtimer_del(h->tick);
	whsend_stop(&h->sender);
}

void hooks_free(hooks **hp)
{
	hooks *h = *hp;
	if (h == NULL)
		return;
	hooks_stop(h);
	if (h->tick != NULL)
		event_free(h->tick);
	follower_free(&h->fol);
	sqlite3_finalize(h->lookup_st);
	pthread_mutex_destroy(&h->lookup_lock);
	hooksdb_close(&h->lookup_db);
	hooksdb_close(&h->db);
	free(h->last_error);
	free(h);
	*hp = NULL;
}

sqlite3 *hooks_db(hooks *h)
{
	return h->db;
}

bool hooks_suppressed(hooks *h, const char *address, bool *suppressed_r, suppress_entry *e_r, char **err_r)
{
	pthread_mutex_lock(&h->lookup_lock);
	bool ok = suppress_lookup(h->lookup_db, &h->lookup_st, address, suppressed_r, e_r, err_r);
	pthread_mutex_unlock(&h->lookup_lock);
	return ok;
}

int64_t hooks_webhook_backlog(const hooks *h)
{
	return h != NULL ? whsend_backlog(h->sender) : 0;
}
