/* queue.c — spool files, commit hand-off and start-up recovery (see
 * queue.h).  The loop thread only write()s to the page cache; every fsync
 * happens on a worker. */
#include "queue/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delivery/local.h"
#include "lib/buf.h"
#include "lib/fsutil.h"
#include "audit/audit.h"
#include "lib/log.h"
#include "lib/strutil.h"
#include "metrics/metrics.h"
#include "queue/commit.h"
#include "queue/qid.h"
#include "queue/space.h"

#define SPOOL_BUF (64 * 1024)
#define SPOOL_HEADER_MAX (4 * 1024 * 1024) /* envelope of 100k recipients */

struct queue {
	char *staging;
	char *active;
	char *corrupt;
	char *mail_root;
	char *hostname;
	workers *w;
	commit_dir *dir;
	queue_space *space;   /* the free-space reserve */
	queue_remote_fn *remote_fn;
	void *remote_arg;
	strlist local_retry;  /* files whose local delivery failed, for the next retry */
	strlist local_held;   /* held files with local recipients only (the metrics) */
	size_t local_busy;    /* local deliveries running (the metrics) */
	size_t local_max;     /* delivery.local_concurrency */
	struct delivery_job *wait_head, *wait_tail; /* deliveries waiting for a turn */
	size_t local_waiting; /* in that line */
	bool launching;       /* launch_waiting is running (see there) */
	queue_report_fn *report_fn;
	void *report_arg;
	struct quota_book *quota;  /* account quotas for local delivery; NULL: none */
	struct sieve_delivery *sieve; /* Sieve at local delivery; NULL: none */
	int lifetime;         /* delivery.lifetime: how long a full mailbox is waited for */
};

struct spool {
	queue *q;
	char id[QID_LEN + 1];
	char nonce[QFILE_NONCE_LEN + 1]; /* written again in the end record */
	char *staging_path;
	char *active_path;
	int fd;
	qfile_sum *sum;       /* checksum of every byte written so far */
	buf pending;          /* bytes not yet written */
	size_t header_len;    /* the records up to "body\n" */
	buf new_header;       /* spool_set_envelope: the records to write instead */
	bool header_changed;
	bool held;            /* spool_mark_hold */
	size_t body_len;
	size_t written;       /* the message bytes spool_write took */
	char *prepend;        /* header fields to put before the message, or NULL */
	size_t prepend_len;
	spool_edit *drops;    /* message byte ranges to leave out or replace */
	size_t n_drops;
	bool junk;
	/* spool_inspect */
	void (*inspect)(void *arg, const char *msg, size_t len);
	void (*inspected)(void *arg);
	void *inspect_arg;
	int error;            /* first errno seen, 0 if none */
	void (*done)(void *, int);
	void *arg;
};

typedef struct delivery_job {
	queue *q;
	struct delivery_job *next; /* in the queue's waiting line */
	char *path;
	bool recovering;
	bool parsed;
	local_outcome out;
} delivery_job;

static void purge_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, e->d_name);
		if (unlink(p) == 0)
			log_event(LOG_LVL_INFO, "queue_purge", "file=%s reason=%s", p, "never acknowledged");
		free(p);
	}
	closedir(d);
}

/* The queue gauges (metrics/metrics.h) for the files that local delivery
 * has: running now or waiting for a turn (active), waiting for the local retry (deferred), or
 * held with no remote recipient (files with remote recipients are the
 * outbound scheduler's to count).  Counts kept on the loop: no scan. */
static double queue_gauge(void *arg, metrics_gauge g)
{
	const queue *q = arg;
	return (double)(g == METRICS_QUEUE_ACTIVE ? q->local_busy + q->local_waiting
	                : g == METRICS_QUEUE_DEFERRED ? q->local_retry.n : q->local_held.n);
}

static const metrics_gauge queue_gauges[] = {METRICS_QUEUE_ACTIVE, METRICS_QUEUE_DEFERRED, METRICS_QUEUE_HELD};

queue *queue_open(const config *cfg, workers *w, char **err_r)
{
	queue *q = xcalloc(1, sizeof(*q));
	strlist_init(&q->local_retry);
	char *root = config_path_queue(cfg);
	q->staging = xasprintf("%s/staging", root);
	q->active = xasprintf("%s/active", root);
	q->corrupt = xasprintf("%s/corrupt", root);
	free(root);
	q->mail_root = config_path_mail(cfg);
	q->hostname = xstrdup(cfg->hostname);
	q->lifetime = cfg->delivery.lifetime;
	q->w = w;
	q->local_max = (size_t)cfg->delivery.local_concurrency;
	const char *dirs[] = {q->staging, q->active, q->corrupt, q->mail_root};
	for (size_t i = 0; i < 4; i++) {
		if (!fs_mkdir_p(dirs[i], 0700)) {
			*err_r = xasprintf("cannot create %s: %s", dirs[i], strerror(errno));
			queue_close(&q);
			return NULL;
		}
	}
	purge_dir(q->staging);
	q->dir = commit_dir_new(q->active);
	q->space = queue_space_new(q->active, cfg);
	strlist_init(&q->local_held);
	for (size_t i = 0; i < sizeof queue_gauges / sizeof queue_gauges[0]; i++)
		metrics_gauge_register(queue_gauges[i], queue_gauge, q);
	return q;
}

void queue_close(queue **qp)
{
	queue *q = *qp;
	if (q == NULL)
		return;
	for (size_t i = 0; i < sizeof queue_gauges / sizeof queue_gauges[0]; i++)
		metrics_gauge_unregister(queue_gauges[i], queue_gauge, q);
	strlist_free(&q->local_held);
	while (q->wait_head != NULL) { /* not started: the files stay queued for the next start */
		delivery_job *j = q->wait_head;
		q->wait_head = j->next;
		free(j->path);
		free(j);
	}
	commit_dir_free(&q->dir);
	queue_space_free(&q->space);
	strlist_free(&q->local_retry);
	free(q->staging);
	free(q->active);
	free(q->corrupt);
	free(q->mail_root);
	free(q->hostname);
	free(q);
	*qp = NULL;
}

/* ---- local delivery hand-off ---- */

static void deliver_async(queue *q, char *path, bool recovering);
static void launch_waiting(queue *q);

static void delivery_work(void *arg)
{
	delivery_job *j = arg;
	local_ctx ctx = {.mail_root = j->q->mail_root, .hostname = j->q->hostname, .quota = j->q->quota,
	                 .lifetime = j->q->lifetime, .sieve = j->q->sieve};
	j->parsed = local_deliver(j->path, &ctx, j->recovering, &j->out);
	if (!j->parsed && j->out.refused != NULL)
		queue_quarantine(j->q, j->path, j->out.refused);
}

/* Append an administrator's record (rec, one line) to the queue file of
 * qid, synced; its path in *path_r.  NULL, or why not. */
static const char *append_admin_record(queue *q, const char *qid, const char *rec, char **path_r)
{
	if (!qid_valid(qid))
		return "not a queue id";
	char *path = xasprintf("%s/%s", q->active, qid);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	bool ok = fd >= 0 && fs_write_all(fd, rec, strlen(rec)) && fdatasync(fd) == 0;
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		free(path);
		return err == ENOENT ? "no such message in the queue" : "cannot update the queue file";
	}
	*path_r = path;
	return NULL;
}

const char *queue_release(queue *q, const char *qid)
{
	char *path = NULL;
	const char *why = append_admin_record(q, qid, "released\n", &path);
	if (why != NULL)
		return why;
	log_event(LOG_LVL_INFO, "queue_release", "qid=%s", qid);
	strlist_remove(&q->local_held, path);
	deliver_async(q, path, false);
	return NULL;
}

const char *queue_hold(queue *q, const char *qid)
{
	char *path = NULL;
	const char *why = append_admin_record(q, qid, "held\n", &path);
	if (why != NULL)
		return why;
	log_event(LOG_LVL_INFO, "queue_hold", "qid=%s", qid);
	free(path);
	return NULL;
}

void queue_quarantine(queue *q, const char *path, const char *reason)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *dst = xasprintf("%s/%s", q->corrupt, base);
	if (rename(path, dst) == 0)
		log_event(LOG_LVL_ERROR, "queue_quarantine", "qid=%s file=%s reason=%s", base, dst, reason);
	free(dst);
}

static void delivery_done(void *arg)
{
	delivery_job *j = arg;
	/* Report first: the delivery is durable, and the report is queued
	 * (committed on a worker) before anything else happens to the file.
	 * A crash between the delivery and this point loses the report, never
	 * the message (see docs/DESIGN.md). */
	if (j->out.report != NULL && j->q->report_fn != NULL)
		j->q->report_fn(j->q->report_arg, j->out.qid, j->out.report_to, j->out.report_kind,
		                j->out.report_rcpts, j->out.report, j->out.report_len, j->out.report_requiretls);
	for (size_t i = 0; i < j->out.queued.n; i++) /* what Sieve sent: committed already */
		deliver_async(j->q, xstrdup(j->out.queued.items[i]), false);
	if (j->parsed && j->out.remote > 0 && j->q->remote_fn != NULL)
		j->q->remote_fn(j->q->remote_arg, j->path, j->out.next_attempt);
	/* a local delivery that failed, or a file that could not be read (not
	 * a damaged one): try again later */
	bool again = j->parsed ? j->out.failed > 0 : j->out.refused == NULL;
	if (again && !strlist_contains(&j->q->local_retry, j->path))
		strlist_add(&j->q->local_retry, j->path);
	bool held = j->parsed && j->out.held > 0 && j->out.remote == 0;
	if (held && !strlist_contains(&j->q->local_held, j->path))
		strlist_add(&j->q->local_held, j->path);
	queue *q = j->q;
	q->local_busy--;
	local_outcome_free(&j->out);
	free(j->path);
	free(j);
	launch_waiting(q);
}

/* Start waiting deliveries while fewer than local_max run.  The worker
 * pool is shared with the jobs clients wait for (password checks, commits,
 * signing, the API's preparation): a burst of accepted mail must not put
 * thousands of Maildir writes ahead of them.  Iterative: while the pool
 * stops it runs a job and its done function at once, inside
 * workers_submit, and that done function comes back here. */
static void launch_waiting(queue *q)
{
	if (q->launching)
		return;
	q->launching = true;
	while (q->wait_head != NULL && q->local_busy < q->local_max) {
		delivery_job *j = q->wait_head;
		q->wait_head = j->next;
		if (q->wait_head == NULL)
			q->wait_tail = NULL;
		j->next = NULL;
		q->local_waiting--;
		q->local_busy++;
		workers_submit(q->w, delivery_work, delivery_done, j);
	}
	q->launching = false;
}

static void deliver_async(queue *q, char *path, bool recovering)
{
	delivery_job *j = xmalloc(sizeof(*j));
	*j = (delivery_job){.q = q, .path = path, .recovering = recovering};
	if (q->wait_tail != NULL)
		q->wait_tail->next = j;
	else
		q->wait_head = j;
	q->wait_tail = j;
	q->local_waiting++;
	launch_waiting(q);
}

void queue_recover(queue *q)
{
	DIR *d = opendir(q->active);
	if (d == NULL)
		return;
	struct dirent *e;
	size_t n = 0;
	while ((e = readdir(d)) != NULL) {
		if (!qid_valid(e->d_name))
			continue;
		deliver_async(q, xasprintf("%s/%s", q->active, e->d_name), true);
		n++;
	}
	closedir(d);
	log_event(LOG_LVL_INFO, "queue_recover", "messages=%zu", n);
}

size_t queue_retry_deferred(queue *q)
{
	/* only files whose local delivery failed: remote recipients are the
	 * outbound scheduler's, and it keeps their times itself */
	strlist todo = q->local_retry;
	strlist_init(&q->local_retry);
	for (size_t i = 0; i < q->local_held.n;) /* deleted meanwhile (`yubin queue delete`) */
		if (access(q->local_held.items[i], F_OK) != 0)
			strlist_remove(&q->local_held, q->local_held.items[i]);
		else
			i++;
	size_t n = 0;
	for (size_t i = 0; i < todo.n; i++)
		if (access(todo.items[i], F_OK) == 0) {
			deliver_async(q, xstrdup(todo.items[i]), true);
			n++;
		}
	strlist_free(&todo);
	return n;
}

bool queue_has_room(queue *q, uint64_t size)
{
	return queue_space_ok(q->space, size);
}

void queue_set_remote_handler(queue *q, queue_remote_fn *fn, void *arg)
{
	q->remote_fn = fn;
	q->remote_arg = arg;
}

void queue_set_sieve(queue *q, struct sieve_delivery *sd)
{
	q->sieve = sd;
}

void queue_set_quota(queue *q, struct quota_book *book)
{
	q->quota = book;
}

void queue_set_report_handler(queue *q, queue_report_fn *fn, void *arg)
{
	q->report_fn = fn;
	q->report_arg = arg;
}

/* A message of our own (a delivery report) is in the queue: its RECEIVED
 * record, so that its own delivery has a timeline too. */
static void inject_done(void *arg, int error)
{
	json_t *d = arg;
	if (error == 0) /* else commit_done has logged the failure */
		audit_emit(AUDIT_RECEIVED, json_string_value(json_object_get(d, "qid")), NULL, json_incref(d));
	json_decref(d);
}

static json_t *inject_facts(const qenvelope *env, size_t len)
{
	if (!audit_is_open())
		return NULL;
	json_t *rcpts = json_array();
	for (size_t i = 0; i < env->n_rcpts; i++)
		json_array_append_new(rcpts, audit_str(env->rcpts[i].address));
	json_t *d = json_object();
	json_object_set_new(d, "qid", audit_str(env->id));
	json_object_set_new(d, "listener", json_string("local"));
	json_object_set_new(d, "client_ip", audit_str(env->client));
	json_object_set_new(d, "sender", audit_str(env->sender));
	json_object_set_new(d, "rcpts", rcpts);
	json_object_set_new(d, "size", json_integer((json_int_t)len));
	return d;
}

bool queue_inject(queue *q, const qenvelope *env, const char *body, size_t len)
{
	spool *s = spool_begin(q, env);
	if (s == NULL) {
		log_event(LOG_LVL_ERROR, "queue_inject", "qid=%s error=%s", env->id, strerror(errno));
		return false;
	}
	spool_write(s, body, len);
	spool_commit(s, inject_done, inject_facts(env, len));
	log_event(LOG_LVL_INFO, "queue_inject", "qid=%s from=%s to=%s size=%zu", env->id, env->sender,
	          env->rcpts[0].address, len);
	return true;
}

/* ---- spooling ---- */

/* Write to the staging file through the checksum; errors are remembered. */
static bool spool_put(spool *s, const char *data, size_t n)
{
	if (s->error != 0)
		return false;
	qfile_sum_update(s->sum, data, n);
	if (!fs_write_all(s->fd, data, n)) {
		s->error = errno ? errno : EIO;
		return false;
	}
	return true;
}

static bool flush_pending(spool *s)
{
	if (!spool_put(s, s->pending.data, s->pending.len))
		return false;
	buf_clear(&s->pending);
	return true;
}

spool *spool_begin(queue *q, const qenvelope *env)
{
	spool *s = xcalloc(1, sizeof(*s));
	s->q = q;
	memcpy(s->id, env->id, QID_LEN + 1);
	s->staging_path = xasprintf("%s/%s", q->staging, env->id);
	s->active_path = xasprintf("%s/%s", q->active, env->id);
	buf_init(&s->pending, SPOOL_HEADER_MAX);
	s->sum = qfile_sum_new();
	s->fd = open(s->staging_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		int err = errno;
		spool_abort(&s);
		errno = err;
		return NULL;
	}
	qenvelope with_nonce = *env;
	qfile_new_nonce(&with_nonce);
	memcpy(s->nonce, with_nonce.nonce, sizeof s->nonce);
	if (!qfile_format_header(&with_nonce, &s->pending)) {
		spool_abort(&s);
		errno = E2BIG;
		return NULL;
	}
	s->header_len = s->pending.len;
	return s;
}

bool spool_write(spool *s, const char *data, size_t n)
{
	s->body_len += n;
	s->written += n;
	if (s->error != 0)
		return false;
	if (s->pending.len + n > SPOOL_BUF && !flush_pending(s))
		return false;
	if (n >= SPOOL_BUF)
		return spool_put(s, data, n);
	if (!buf_append(&s->pending, data, n)) {
		s->error = E2BIG; /* cannot happen: pending is flushed below SPOOL_BUF */
		return false;
	}
	return true;
}

int spool_error(const spool *s)
{
	return s->error;
}

size_t spool_size(const spool *s)
{
	return s->body_len;
}

/* Read len bytes at off from path (malloc'd), or NULL. */
static char *read_at(const char *path, off_t off, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *data = xmalloc(len + 1);
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, data + got, len - got, off + (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got < len) {
		free(data);
		return NULL;
	}
	return data;
}

static void inspect_work(void *arg)
{
	spool *s = arg;
	char *msg = s->error == 0 ? read_at(s->staging_path, (off_t)s->header_len, s->written) : NULL;
	s->inspect(s->inspect_arg, msg, msg ? s->written : 0);
	free(msg);
}

static void inspect_done(void *arg)
{
	spool *s = arg;
	s->inspected(s->inspect_arg);
}

void spool_inspect(spool *s, void (*work)(void *arg, const char *msg, size_t len),
                   void (*done)(void *arg), void *arg)
{
	s->inspect = work;
	s->inspected = done;
	s->inspect_arg = arg;
	flush_pending(s);
	/* a read of what was just written: in the page cache, ahead of the commits */
	workers_submit_quick(s->q->w, inspect_work, inspect_done, s);
}

void spool_prepend(spool *s, const char *text, size_t len)
{
	s->prepend = xrealloc(s->prepend, s->prepend_len + len + 1);
	memcpy(s->prepend + s->prepend_len, text, len);
	s->prepend_len += len;
	s->body_len += len;
}

static void free_edits(spool *s)
{
	for (size_t k = 0; k < s->n_drops; k++)
		free(s->drops[k].text);
	free(s->drops);
	s->drops = NULL;
	s->n_drops = 0;
}

void spool_replace(spool *s, size_t start, size_t end, const char *text, size_t len)
{
	if (end < start || end > s->written || (end == start && len == 0))
		return;
	/* kept in order of start (an insertion before a range that starts
	 * where it is), whoever gives them in whatever order; a range that
	 * overlaps one already given is left out: the first edit wins */
	size_t at = s->n_drops;
	while (at > 0 && (s->drops[at - 1].start > start ||
	                  (s->drops[at - 1].start == start && end == start && s->drops[at - 1].end > start)))
		at--;
	for (size_t k = 0; k < s->n_drops; k++) {
		const spool_edit *o = &s->drops[k];
		if (end > start && o->end > o->start && start < o->end && o->start < end)
			return;
		if (end > start && o->end == o->start && o->start > start && o->start < end)
			return; /* an insertion inside the range */
		if (end == start && o->end > o->start && start > o->start && start < o->end)
			return;
	}
	s->drops = xrealloc(s->drops, (s->n_drops + 1) * sizeof(*s->drops));
	memmove(s->drops + at + 1, s->drops + at, (s->n_drops - at) * sizeof(*s->drops));
	s->n_drops++;
	spool_edit *e = &s->drops[at];
	*e = (spool_edit){.start = start, .end = end, .text = len > 0 ? xmalloc(len) : NULL, .len = len};
	if (len > 0)
		memcpy(e->text, text, len);
	s->body_len += len;
	s->body_len -= end - start;
}

void spool_drop(spool *s, size_t start, size_t end)
{
	if (end > start)
		spool_replace(s, start, end, NULL, 0);
}

void spool_mark_junk(spool *s)
{
	s->junk = true;
}

void spool_mark_hold(spool *s)
{
	s->held = true;
}

void spool_set_envelope(spool *s, const qenvelope *env)
{
	qenvelope e = *env;
	memcpy(e.nonce, s->nonce, sizeof e.nonce);
	buf_free(&s->new_header);
	buf_init(&s->new_header, SPOOL_HEADER_MAX);
	if (!qfile_format_header(&e, &s->new_header) && s->error == 0)
		s->error = E2BIG;
	s->header_changed = true;
}

static bool put_summed(int fd, qfile_sum *sum, const char *data, size_t n)
{
	qfile_sum_update(sum, data, n);
	return fs_write_all(fd, data, n);
}

/* The file again: the header records, the prepended header fields, then
 * the message without the dropped ranges; sum sees every byte. */
static bool write_edited(spool *s, int fd, qfile_sum *sum, const char *data, size_t size)
{
	const char *msg = data + s->header_len;
	bool ok = (s->header_changed ? put_summed(fd, sum, s->new_header.data, s->new_header.len)
	                             : put_summed(fd, sum, data, s->header_len)) &&
	          put_summed(fd, sum, s->prepend ? s->prepend : "", s->prepend_len);
	size_t at = 0;
	for (size_t k = 0; ok && k < s->n_drops; k++) {
		const spool_edit *e = &s->drops[k];
		ok = put_summed(fd, sum, msg + at, e->start - at) &&
		     (e->len == 0 || put_summed(fd, sum, e->text, e->len));
		at = e->end;
	}
	return ok && put_summed(fd, sum, msg + at, size - s->header_len - at);
}

/* A new staging file with the edits (spool_prepend, spool_drop,
 * spool_replace) that replaces the old one; its fd, or -1.  Its checksum
 * replaces s->sum. */
static int rewrite_edited(spool *s, int old_fd)
{
	struct stat st;
	bool stated = fstat(old_fd, &st) == 0;
	close(old_fd);
	if (!stated)
		return -1;
	size_t size = (size_t)st.st_size;
	char *data = read_at(s->staging_path, 0, size);
	char *tmp = xasprintf("%s.p", s->staging_path);
	int fd = data != NULL && size >= s->header_len + s->written
	                 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
	                 : -1;
	qfile_sum *sum = qfile_sum_new();
	bool ok = fd >= 0 && write_edited(s, fd, sum, data, size) && rename(tmp, s->staging_path) == 0;
	int err = errno;
	if (ok) {
		qfile_sum_free(&s->sum);
		s->sum = sum;
	} else {
		qfile_sum_free(&sum);
	}
	if (!ok && fd >= 0) {
		close(fd);
		fd = -1;
		unlink(tmp);
	}
	free(tmp);
	free(data);
	errno = err;
	return fd;
}

/* The end record (with the checksum of what is written) and the records
 * that go right after it. */
static bool write_trailer(spool *s, int fd)
{
	buf t;
	buf_init(&t, 512);
	bool ok = qfile_format_trailer(s->nonce, s->body_len, s->sum, &t) &&
	          (!s->junk || buf_puts(&t, "junk\n")) && (!s->held || buf_puts(&t, "held\n"));
	if (!ok)
		errno = E2BIG;
	ok = ok && fs_write_all(fd, t.data, t.len);
	buf_free(&t);
	return ok;
}

static void commit_work(void *arg)
{
	spool *s = arg;
	int fd = s->fd;
	s->fd = -1;
	if (s->error == 0 && (s->prepend != NULL || s->n_drops > 0 || s->header_changed) &&
	    (fd = rewrite_edited(s, fd)) < 0)
		s->error = errno ? errno : EIO;
	if (s->error == 0 && !write_trailer(s, fd))
		s->error = errno ? errno : EIO;
	if (s->error != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!commit_file(fd, s->staging_path, s->active_path, s->q->dir))
		s->error = errno ? errno : EIO;
}

static void spool_free(spool *s)
{
	free(s->staging_path);
	free(s->active_path);
	free(s->prepend);
	buf_free(&s->new_header);
	free_edits(s);
	qfile_sum_free(&s->sum);
	buf_free(&s->pending);
	free(s);
}

static void commit_done(void *arg)
{
	spool *s = arg;
	if (s->error != 0) {
		/* never acknowledged: no trace of it may stay, under either name */
		unlink(s->staging_path);
		unlink(s->active_path);
		log_event(LOG_LVL_ERROR, "queue_commit", "qid=%s result=failed error=%s", s->id,
		          strerror(s->error));
	}
	s->done(s->arg, s->error);
	if (s->error == 0) {
		deliver_async(s->q, s->active_path, false); /* takes the path */
		s->active_path = NULL;
	}
	spool_free(s);
}

char *queue_commit_now(queue *q, const qenvelope *env, const char *body, size_t len)
{
	spool *s = spool_begin(q, env);
	if (s == NULL) {
		log_event(LOG_LVL_ERROR, "queue_inject", "qid=%s error=%s", env->id, strerror(errno));
		return NULL;
	}
	spool_write(s, body, len);
	flush_pending(s);
	commit_work(s);
	char *path = NULL;
	if (s->error != 0) {
		unlink(s->staging_path);
		unlink(s->active_path);
		log_event(LOG_LVL_ERROR, "queue_commit", "qid=%s result=failed error=%s", s->id, strerror(s->error));
	} else {
		path = s->active_path;
		s->active_path = NULL;
		json_t *facts = inject_facts(env, len);
		if (facts != NULL)
			audit_emit(AUDIT_RECEIVED, env->id, NULL, facts);
		log_event(LOG_LVL_INFO, "queue_inject", "qid=%s from=%s to=%s size=%zu", env->id, env->sender,
		          env->rcpts[0].address, len);
	}
	spool_free(s);
	return path;
}

void spool_commit(spool *s, void (*done)(void *arg, int error), void *arg)
{
	s->done = done;
	s->arg = arg;
	flush_pending(s);
	workers_submit(s->q->w, commit_work, commit_done, s);
}

void spool_abort(spool **sp)
{
	spool *s = *sp;
	if (s == NULL)
		return;
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->staging_path);
	}
	spool_free(s);
	*sp = NULL;
}
