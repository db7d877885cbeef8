/* quota.c — the daily quotas in memory with a save every second (see
 * quota.h).  Owns the counts kept with each caller and the saving timer;
 * must not answer HTTP (messages.c maps QUOTA_OVER to 429). */
#include "api/quota.h"

#include <event2/event.h>
#include <stdlib.h>

#include "lib/log.h"
#include "lib/workers.h"

typedef struct save_job {
	apikeys *ks;
	char *key;              /* the key's name, for the log */
	int64_t id, day, n;
	char *err;
} save_job;

static void save_work(void *arg)
{
	save_job *j = arg;
	if (apikeys_daily_add(j->ks, j->id, j->day, j->n, &j->err) != APIKEYS_OK && j->err == NULL)
		j->err = xstrdup("unknown error");
}

static void save_done(void *arg)
{
	save_job *j = arg;
	if (j->err != NULL) /* lost: the key may send that many more today */
		log_event(LOG_LVL_WARN, "api_quota", "apikey=%s day=%lld error=\"%s\" result=\"%lld messages not counted\"",
		          j->key, (long long)j->day, j->err, (long long)j->n);
	free(j->err);
	free(j->key);
	free(j);
}

/* Hand c's unsaved count to a worker. */
static void save(api_state *a, api_caller *c)
{
	if (c->q_unsaved == 0)
		return;
	save_job *j = xcalloc(1, sizeof(*j));
	*j = (save_job){.ks = a->work_ks, .key = xstrdup(c->name), .id = c->id, .day = c->q_day, .n = c->q_unsaved};
	c->q_unsaved = 0;
	workers_submit(a->srv->wk, save_work, save_done, j);
}

static void on_save(evutil_socket_t fd, short what, void *arg)
{
	api_state *a = arg;
	for (api_caller *c = a->callers; c != NULL; c = c->next)
		save(a, c);
}

static void arm(api_state *a)
{
	if (a->quota_ev == NULL)
		a->quota_ev = evtimer_new(a->srv->base, on_save, a);
	if (!evtimer_pending(a->quota_ev, NULL)) {
		struct timeval tv = {QUOTA_SAVE_MS / 1000, (QUOTA_SAVE_MS % 1000) * 1000};
		evtimer_add(a->quota_ev, &tv);
	}
}

quota_result api_quota_take(api_state *a, api_caller *c, int64_t day, char **err_r)
{
	if (!c->q_loaded || c->q_day != day) {
		save(a, c); /* what was counted for the day before, with its day */
		int64_t stored;
		if (apikeys_daily_get(a->loop_ks, c->id, day, &stored, err_r) != APIKEYS_OK)
			return QUOTA_ERROR;
		c->q_loaded = true;
		c->q_day = day;
		c->q_count = stored;
	}
	if (c->q_count >= c->daily)
		return QUOTA_OVER;
	c->q_count++;
	c->q_unsaved++;
	arm(a);
	return QUOTA_TAKEN;
}

void api_quota_give_back(api_state *a, api_caller *c, int64_t day)
{
	if (c->q_loaded && c->q_day == day) {
		if (c->q_count > 0)
			c->q_count--;
		c->q_unsaved--;
		arm(a);
		return;
	}
	/* taken before midnight, given back after: straight to that day */
	save_job *j = xcalloc(1, sizeof(*j));
	*j = (save_job){.ks = a->work_ks, .key = xstrdup(c->name), .id = c->id, .day = day, .n = -1};
	workers_submit(a->srv->wk, save_work, save_done, j);
}

void api_quota_save_all(api_state *a)
{
	for (api_caller *c = a->callers; c != NULL; c = c->next) {
		if (c->q_unsaved == 0)
			continue;
		save_job j = {.ks = a->work_ks, .key = c->name, .id = c->id, .day = c->q_day, .n = c->q_unsaved};
		save_work(&j);
		if (j.err != NULL)
			log_event(LOG_LVL_WARN, "api_quota", "apikey=%s error=\"%s\" result=\"%lld messages not counted\"",
			          c->name, j.err, (long long)j.n);
		free(j.err);
		c->q_unsaved = 0;
	}
	if (a->quota_ev != NULL)
		event_free(a->quota_ev);
	a->quota_ev = NULL;
}
