/* store.c — the process-global trail of the server: audit_emit puts
 * records on a bounded in-memory queue; ONE writer thread takes what has
 * gathered and stores it in one transaction (db.c gives each record its
 * id and hash, in queue order), and prunes once a day.  Emitters never
 * touch the disk and never wait (the event loop is one of them); past
 * AUDIT_BACKLOG_MAX the trail says it is backlogged, and new mail waits
 * at the SMTP door instead, so no record is lost.  Must not know what the records say (the callers do) or read
 * them for users (query.c). */
#include "audit/audit_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define BATCH_MAX 2048          /* records per transaction */
#define PRUNE_EVERY_MS (86400 * 1000LL)
#define STOP_GRACE_MS 2000      /* at stop, how long a failing database is tried
                                 * before the records left are given up (logged) */
/* How long the writer lets records gather before a transaction: each
 * commit is an fsync on the disk the queue syncs to and writes every page
 * the batch touched (the tails of the tables and their indexes, the same
 * few pages again and again), so few records a commit cost acceptance.
 * Nothing waits for it: emitters never do, and a sync (audit_sync) or a
 * full batch does not wait for the gathering. */
#define GATHER_MS 1000

typedef struct pending {
	struct pending *next;
	audit_record rec;
} pending;

static struct trail {
	pthread_mutex_t mu;
	pthread_cond_t work, stored;
	pending *head, *tail;
	size_t n;                   /* queued or being written */
	uint64_t emitted, done;     /* records handed in / stored (or dropped as repeats) */
	unsigned syncing;           /* audit_sync callers waiting */
	bool stopping;
	int64_t stop_deadline_ms;   /* set with stopping */
	pthread_t thread;
	audit_db *db;
	int retention_days;
	int64_t next_prune_ms;
} T = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
       .stored = PTHREAD_COND_INITIALIZER};

static atomic_bool trail_open;

bool audit_is_open(void)
{
	return atomic_load(&trail_open);
}

static void record_clear(audit_record *rec)
{
	free(rec->qid);
	free(rec->rcpt);
	json_decref(rec->data);
}

static char *clean_dup(const char *s)
{
	if (s == NULL)
		return NULL;
	json_t *j = audit_str(s);
	char *c = xstrdup(json_string_value(j));
	json_decref(j);
	return c;
}

void audit_emit(audit_kind kind, const char *qid, const char *rcpt, json_t *data)
{
	if (!audit_is_open()) {
		json_decref(data);
		return;
	}
	pending *p = xcalloc(1, sizeof(*p));
	p->rec.time_ms = audit_now_ms();
	p->rec.kind = kind;
	p->rec.qid = clean_dup(qid);
	p->rec.rcpt = clean_dup(rcpt);
	if (data == NULL) {
		data = json_object();
	} else if (!json_is_object(data)) {
		json_t *o = json_object();
		json_object_set_new(o, "value", data);
		data = o;
	}
	p->rec.data = data;
	pthread_mutex_lock(&T.mu);
	/* the writer waits for the first record, then for a full batch or
	 * the end of its gathering time: only those wake it */
	bool wake = T.head == NULL || T.n + 1 == BATCH_MAX;
	if (T.tail != NULL)
		T.tail->next = p;
	else
		T.head = p;
	T.tail = p;
	T.n++;
	T.emitted++;
	if (wake)
		pthread_cond_signal(&T.work);
	pthread_mutex_unlock(&T.mu);
}

bool audit_backlogged(void)
{
	if (!audit_is_open())
		return false;
	pthread_mutex_lock(&T.mu);
	bool full = T.n >= AUDIT_BACKLOG_MAX;
	pthread_mutex_unlock(&T.mu);
	return full;
}

void audit_sync(void)
{
	if (!audit_is_open())
		return;
	pthread_mutex_lock(&T.mu);
	uint64_t target = T.emitted;
	T.syncing++;
	pthread_cond_signal(&T.work);
	while (T.done < target)
		pthread_cond_wait(&T.stored, &T.mu);
	T.syncing--;
	pthread_mutex_unlock(&T.mu);
}

/* One transaction for the batch; false (rolled back) on a database error.
 * The tip is read inside the transaction: a `yubin audit prune` run by
 * hand in between appended to the chain too. */
static bool write_batch(pending *batch, size_t *repeats_r)
{
	audit_db *db = T.db;
	audit_tip tip;
	char *err = NULL;
	*repeats_r = 0;
	if (!audit_db_exec(db, "BEGIN IMMEDIATE"))
		return false;
	bool ok = audit_db_tip(db, &tip, &err);
	for (pending *p = batch; ok && p != NULL; p = p->next) {
		bool stored;
		ok = audit_db_append(db, &p->rec, &tip, &stored);
		*repeats_r += ok && !stored;
	}
	if (ok && audit_db_exec(db, "COMMIT"))
		return true;
	if (err != NULL)
		log_event(LOG_LVL_ERROR, "audit", "error=\"%s\"", err);
	free(err);
	audit_db_exec(db, "ROLLBACK");
	return false;
}

static void prune_daily(void)
{
	int64_t now = audit_now_ms();
	if (T.retention_days <= 0 || now < T.next_prune_ms)
		return;
	T.next_prune_ms = now + PRUNE_EVERY_MS;
	audit_tip tip;
	char *err = NULL;
	int64_t removed = -1;
	if (audit_db_exec(T.db, "BEGIN IMMEDIATE")) {
		if (audit_db_tip(T.db, &tip, &err))
			removed = audit_db_prune(T.db, now - (int64_t)T.retention_days * 86400000, &tip);
		if (removed < 0 || !audit_db_exec(T.db, "COMMIT")) {
			audit_db_exec(T.db, "ROLLBACK");
			removed = -1;
		}
	}
	if (removed < 0)
		log_event(LOG_LVL_ERROR, "audit_prune", "days=%d error=%s", T.retention_days,
		          err ? err : "database error");
	else if (removed > 0)
		log_event(LOG_LVL_INFO, "audit_prune", "days=%d removed=%lld", T.retention_days, (long long)removed);
	free(err);
}

/* Store one batch, retrying a failing database (a full disk, say) every
 * second; records are kept meanwhile, and past AUDIT_BACKLOG_MAX new mail
 * is refused for now.  At stop the database gets STOP_GRACE_MS in all:
 * the server must exit (a full disk must not hold it), so what is still
 * unstored then is given up, and the count said in the log. */
static void store_batch(pending *batch, size_t n)
{
	size_t repeats = 0;
	while (!write_batch(batch, &repeats)) {
		if (T.stopping && audit_now_ms() >= T.stop_deadline_ms) {
			log_event(LOG_LVL_ERROR, "audit", "records_lost=%zu reason=\"the database keeps failing at stop\"", n);
			break;
		}
		log_event(LOG_LVL_ERROR, "audit", "records=%zu result=retrying", n);
		usleep(T.stopping ? 200000 : 1000000);
	}
	while (batch != NULL) {
		pending *next = batch->next;
		record_clear(&batch->rec);
		free(batch);
		batch = next;
	}
}

/* With the lock held and a record queued: wait up to GATHER_MS for more. */
static void gather(void)
{
	int64_t end = audit_now_ms() + GATHER_MS;
	struct timespec until = {.tv_sec = (time_t)(end / 1000), .tv_nsec = (long)(end % 1000) * 1000000};
	while (T.n < BATCH_MAX && !T.stopping && T.syncing == 0 && audit_now_ms() < end)
		pthread_cond_timedwait(&T.work, &T.mu, &until);
}

static void *writer(void *arg)
{
	pthread_mutex_lock(&T.mu);
	for (;;) {
		while (T.head == NULL && !T.stopping) {
			struct timespec until = {.tv_sec = (time_t)(T.next_prune_ms / 1000) + 1};
			if (T.retention_days > 0 && audit_now_ms() >= T.next_prune_ms)
				break;
			if (T.retention_days > 0)
				pthread_cond_timedwait(&T.work, &T.mu, &until);
			else
				pthread_cond_wait(&T.work, &T.mu);
		}
		if (T.head == NULL && T.stopping)
			break;
		if (T.head != NULL)
			gather();
		pending *batch = T.head;
		size_t n = 0;
		pending *last = NULL;
		for (pending *p = T.head; p != NULL && n < BATCH_MAX; p = p->next, n++)
			last = p;
		if (last != NULL) {
			T.head = last->next;
			last->next = NULL;
			if (T.head == NULL)
				T.tail = NULL;
		}
		pthread_mutex_unlock(&T.mu);
		if (n > 0)
			store_batch(batch, n);
		prune_daily();
		pthread_mutex_lock(&T.mu);
		T.n -= n;
		T.done += n;
		pthread_cond_broadcast(&T.stored);
	}
	pthread_mutex_unlock(&T.mu);
	return NULL;
}

bool audit_open(const config *cfg, char **err_r)
{
	if (!audit_enabled(cfg) || audit_is_open())
		return true;
	T.db = audit_db_open_rw(cfg, err_r);
	if (T.db == NULL)
		return false;
	T.stopping = false;
	T.retention_days = cfg->audit.retention_days;
	T.next_prune_ms = audit_now_ms(); /* the first prune at start */
	if (pthread_create(&T.thread, NULL, writer, NULL) != 0) {
		*err_r = xstrdup("cannot start the audit trail's writer thread");
		audit_db_close(&T.db);
		return false;
	}
	atomic_store(&trail_open, true);
	return true;
}

void audit_close(void)
{
	if (!audit_is_open())
		return;
	pthread_mutex_lock(&T.mu);
	T.stopping = true;
	T.stop_deadline_ms = audit_now_ms() + STOP_GRACE_MS;
	pthread_cond_broadcast(&T.work);
	pthread_mutex_unlock(&T.mu);
	pthread_join(T.thread, NULL); /* it drains the queue first */
	atomic_store(&trail_open, false);
	audit_db_close(&T.db);
	log_event(LOG_LVL_INFO, "audit", "records=%llu result=closed", (unsigned long long)T.emitted);
	T.emitted = T.done = 0;
}
