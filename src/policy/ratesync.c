/* ratesync.c — keeps the rate-limit counters and their database in step
 * (see ratesync.h): the timer, the snapshot on the loop, the save on a
 * worker.  It counts nothing itself. */
#include "policy/ratesync.h"

#include <stdlib.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "policy/ratedb.h"

struct rate_sync {
	rate_table *table;
	ratedb *db;              /* NULL: could not be opened (logged); memory only */
	char *path;
	workers *wk;
	struct event *timer;
	bool saving;             /* a save is on a worker */
	bool save_all;           /* the last save failed: write every key next */
};

/* One save, handed to a worker. */
typedef struct rate_save {
	rate_sync *rs;
	rate_row *rows;
	size_t n;
	time_t now;
	char *err;               /* set by the worker on failure */
} rate_save;

static void log_db_error(const rate_sync *rs, const char *err)
{
	log_event(LOG_LVL_WARN, "ratelimit", "db=%s error=%s action=\"counting goes on in memory\"", rs->path, err);
}

static void save_work(void *arg)
{
	rate_save *job = arg;
	if (!ratedb_save(job->rs->db, job->rows, job->n, job->now, &job->err) && job->err == NULL)
		job->err = xstrdup("unknown error");
}

static void save_done(void *arg)
{
	rate_save *job = arg;
	rate_sync *rs = job->rs;
	rs->saving = false;
	if (job->err != NULL) {
		log_db_error(rs, job->err);
		rs->save_all = true;
	}
	free(job->err);
	rate_rows_free(job->rows, job->n);
	free(job);
}

void rate_sync_flush(rate_sync *rs)
{
	if (rs->db == NULL || rs->saving)
		return;
	rate_save *job = xcalloc(1, sizeof(*job));
	job->rs = rs;
	job->now = time(NULL);
	job->rows = rs->save_all ? rate_snapshot_all(rs->table, job->now, &job->n)
	                         : rate_snapshot(rs->table, job->now, &job->n);
	rs->save_all = false;
	rs->saving = true;
	workers_submit(rs->wk, save_work, save_done, job);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	rate_sync_flush(arg);
}

rate_sync *rate_sync_open(struct event_base *base, workers *w, const rate_rule *rules, size_t n,
                          const char *path)
{
	rate_sync *rs = xcalloc(1, sizeof(*rs));
	rs->table = rate_new(rules, n);
	rs->path = xstrdup(path);
	rs->wk = w;
	char *err = NULL;
	size_t restored = 0;
	rs->db = ratedb_open(path, &err);
	if (rs->db == NULL || !ratedb_load(rs->db, rs->table, time(NULL), &restored, &err)) {
		log_db_error(rs, err);
		free(err);
	}
	log_event(LOG_LVL_INFO, "ratelimit", "limits=%zu restored=%zu db=%s", n, restored, path);
	rs->timer = event_new(base, -1, EV_PERSIST, on_timer, rs);
	struct timeval every = {RATE_SYNC_SECONDS, 0};
	event_add(rs->timer, &every);
	return rs;
}

rate_table *rate_sync_table(rate_sync *rs)
{
	return rs->table;
}

void rate_sync_close(rate_sync **rsp)
{
	rate_sync *rs = *rsp;
	if (rs == NULL)
		return;
	if (rs->timer != NULL)
		event_free(rs->timer);
	if (rs->db != NULL) {
		time_t now = time(NULL);
		size_t n;
		rate_row *rows = rs->save_all ? rate_snapshot_all(rs->table, now, &n) : rate_snapshot(rs->table, now, &n);
		char *err = NULL;
		if (!ratedb_save(rs->db, rows, n, now, &err)) {
			log_db_error(rs, err);
			free(err);
		}
		rate_rows_free(rows, n);
		ratedb_close(&rs->db);
	}
	rate_free(&rs->table);
	free(rs->path);
	free(rs);
	*rsp = NULL;
}
