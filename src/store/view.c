/* view.c — open folders shared by sessions (see view.h): the registry, the
 * gate that orders work on a folder, the looks at the folder the watch
 * asks for, and each session's place in the history of changes.  The file
 * names our own jobs create or remove show up as watch events too; they are
 * told apart from other people's changes by comparing them with the view
 * after the job: a name that arrived and is in the view, or left and is not
 * in it, is ours. */
#include "store/view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "store/mdname.h"

#define VIEW_LINGER_SECS 60
#define VIEW_EVENTS_MAX 4096

struct store_views {
	struct event_base *base;
	workers *wk;
	folder_watch *watch;
	store_view *views;
	store_view *detached;   /* forgotten, still held by someone */
};

typedef struct view_job {
	struct view_job *next;
	store_view *v;
	store_access acc;
	workers_fn *work, *done;
	void *arg;
	/* a look at the folder */
	bool sync, full, fresh;
	uint32_t uidnext_before;
	uint64_t modseq_before;
	size_t gone_before;
} view_job;

typedef struct view_event {
	struct view_event *next;
	bool in_cur, arrived;
	char name[];
} view_event;

static void pump(store_view *v);
static void view_job_done(void *arg);

store_views *store_views_new(struct event_base *base, workers *wk, folder_watch *watch)
{
	store_views *r = xcalloc(1, sizeof(*r));
	*r = (store_views){.base = base, .wk = wk, .watch = watch};
	return r;
}

const char *store_view_path(const store_view *v)
{
	return v->mb != NULL ? v->mb->path : NULL;
}

static char *view_dir(const char *root, const char *key)
{
	return key[0] ? xasprintf("%s/%s", root, key) : xstrdup(root);
}

/* ---- what the watch saw ---- */

static void classify(store_view *v, bool in_cur, const char *name, bool arrived)
{
	if (name == NULL || v->mb == NULL) {
		v->dirty_new = v->dirty_cur = true;
	} else if (!in_cur) {
		v->dirty_new = v->dirty_new || arrived;
	} else {
		mdname n;
		bool have = false;
		if (!mdname_parse(name, &n))
			return; /* not a message */
		if (n.uid != 0) {
			long i = mbox_find(v->mb, n.uid);
			have = i >= 0 && strcmp(v->mb->msgs[i].file, name) == 0;
		}
		v->dirty_cur = v->dirty_cur || have != arrived;
	}
}

static void drain_events(store_view *v)
{
	while (v->events != NULL) {
		view_event *e = v->events;
		v->events = e->next;
		classify(v, e->in_cur, e->name, e->arrived);
		free(e);
	}
	v->n_events = 0;
}

static void on_watch(void *arg, bool in_cur, const char *name, bool arrived)
{
	store_view *v = arg;
	if (!v->writer) {
		classify(v, in_cur, name, arrived);
	} else {
		if (v->n_events >= VIEW_EVENTS_MAX || name == NULL) {
			v->dirty_new = v->dirty_cur = true; /* too much to sort out: look at everything */
			return;
		}
		v->n_events++;
		size_t len = strlen(name);
		view_event *e = xmalloc(sizeof(*e) + len + 1);
		e->in_cur = in_cur;
		e->arrived = arrived;
		memcpy(e->name, name, len + 1);
		e->next = v->events;
		v->events = e;
		return;
	}
	/* not from inside the watch's callback: the jobs' done functions may
	 * open views (watch subscriptions) */
	if ((v->dirty_new || v->dirty_cur) && v->kick != NULL)
		event_active(v->kick, EV_TIMEOUT, 0);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

void store_view_check(store_view *v)
{
	if (v->sub != NULL)
		folder_watch_poll(v->reg->watch);
	else
		v->dirty_cur = true;
}

/* ---- a look at the folder (a writer job) ---- */

uint64_t store_view_next_modseq(store_view *v)
{
	v->highestmodseq = store_modseq_next(v->highestmodseq);
	return v->highestmodseq;
}

static void log_gone(store_view *v, const uint32_t *uids, size_t n, uint64_t modseq)
{
	if (n == 0)
		return;
	v->gone = xrealloc(v->gone, (v->ngone + n) * sizeof(store_gone));
	for (size_t k = 0; k < n; k++)
		v->gone[v->ngone++] = (store_gone){.uid = uids[k], .modseq = modseq};
}

bool store_view_save(store_view *v, const uint32_t *uids, size_t n)
{
	if (n == 0)
		return true;
	if (!store_index_begin(v->ix))
		return false;
	bool ok = true;
	for (size_t k = 0; ok && k < n; k++) {
		long i = mbox_find(v->mb, uids[k]);
		if (i >= 0)
			ok = store_index_set(v->ix, &v->mb->msgs[i], NULL);
	}
	ok = ok && store_index_set_highest(v->ix, v->mb->uidvalidity, v->highestmodseq);
	return store_index_commit(v->ix) && ok;
}

bool store_view_expunge(store_view *v, const uint32_t *uids, size_t n, char **err_r)
{
	if (n == 0)
		return true;
	size_t before = v->mb->n;
	bool ok = mbox_expunge(v->mb, uids, n, err_r);
	if (v->mb->n == before)
		return ok;
	uint32_t *gone = xcalloc(n, sizeof(uint32_t));
	size_t ng = 0;
	for (size_t k = 0; k < n; k++)
		if (mbox_find(v->mb, uids[k]) < 0)
			gone[ng++] = uids[k];
	uint64_t modseq = store_view_next_modseq(v);
	log_gone(v, gone, ng, modseq);
	/* rows left behind by a failure here are found gone by the next look */
	if (store_index_begin(v->ix)) {
		bool saved = true;
		for (size_t k = 0; saved && k < ng; k++)
			saved = store_index_expunged(v->ix, gone[k], modseq);
		if (saved)
			store_index_set_highest(v->ix, v->mb->uidvalidity, v->highestmodseq);
		store_index_commit(v->ix);
	}
	free(gone);
	return ok;
}

static bool look_all(store_view *v, char **err_r)
{
	if (!mbox_sync(v->mb, err_r))
		return false;
	store_keywords_free(&v->kw);
	store_keywords_read(v->mb->path, &v->kw);
	uint32_t *gone;
	size_t ng;
	if (!store_index_reconcile(v->ix, v->mb, &v->highestmodseq, &gone, &ng, err_r))
		return false;
	log_gone(v, gone, ng, v->highestmodseq);
	free(gone);
	return true;
}

/* Only new/: the new messages get a mod-sequence and an index row each. */
static bool look_new(store_view *v, char **err_r)
{
	size_t n0 = v->mb->n;
	bool full;
	if (!mbox_take_new(v->mb, &full, err_r))
		return false;
	if (full) /* the UID list was replaced: everything may have changed */
		return look_all(v, err_r);
	if (v->mb->n == n0)
		return true;
	if (!store_index_begin(v->ix)) {
		*err_r = xstrdup("cannot write the index");
		return false;
	}
	bool ok = true;
	for (size_t i = n0; ok && i < v->mb->n; i++) {
		v->mb->msgs[i].modseq = store_view_next_modseq(v);
		v->mb->msgs[i].savedate = time(NULL); /* saved in the folder now (RFC 8514) */
		char *path = mbox_msg_path(v->mb, i);
		ok = store_index_set(v->ix, &v->mb->msgs[i], path);
		free(path);
	}
	ok = ok && store_index_set_highest(v->ix, v->mb->uidvalidity, v->highestmodseq);
	ok = store_index_commit(v->ix) && ok;
	if (!ok)
		*err_r = xstrdup("cannot write the index");
	return ok;
}

/* The keyword letters of names, new ones added to the folder (*added_r). */
static uint32_t keyword_mask(store_view *v, const char *const *names, size_t n, bool *added_r)
{
	uint32_t mask = 0;
	for (size_t k = 0; k < n; k++) {
		bool added;
		int bit = store_keywords_add(&v->kw, names[k], &added);
		if (bit >= 0)
			mask |= 1u << bit;
		*added_r = *added_r || added;
	}
	return mask;
}

/* Move message k's file from tmp/ to new/ (back, when back is true). */
static bool move_new(const char *dir, const store_new_msg *m, bool back, char **err_r)
{
	char *tmp = xasprintf("%s/tmp/%s", dir, m->name);
	char *new = xasprintf("%s/new/%s", dir, m->name);
	bool ok = back ? rename(new, tmp) == 0 : rename(tmp, new) == 0;
	if (!ok && err_r != NULL)
		*err_r = xasprintf("cannot move %s: %s", tmp, strerror(errno));
	free(tmp);
	free(new);
	return ok;
}

bool store_view_add(store_view *v, store_new_msg *msgs, size_t n, char **err_r)
{
	const char *dir = v->mb->path;
	for (size_t k = 0; k < n; k++) {
		if (move_new(dir, &msgs[k], false, err_r))
			continue;
		/* all or none (MULTIAPPEND): those moved go back; nothing has
		 * looked at new/ meanwhile, since this is the folder's writer */
		while (k-- > 0)
			move_new(dir, &msgs[k], true, NULL);
		return false;
	}
	if (!look_new(v, err_r))
		return false;
	bool added = false;
	uint32_t *kw = xcalloc(n + 1, sizeof(uint32_t));
	for (size_t k = 0; k < n; k++)
		kw[k] = keyword_mask(v, msgs[k].keywords, msgs[k].n_keywords, &added);
	if (added && !store_keywords_write(dir, &v->kw)) {
		log_event(LOG_LVL_ERROR, "store", "folder=%s error=\"cannot write the keywords\"", dir);
		memset(kw, 0, (n + 1) * sizeof(uint32_t)); /* the messages go in without them */
	}
	uint32_t *changed = xcalloc(n + 1, sizeof(uint32_t));
	size_t n_changed = 0;
	/* the newest files are last: look from the end */
	for (size_t i = v->mb->n; i > 0; i--) {
		mbox_msg *m = &v->mb->msgs[i - 1];
		mdname name;
		if (!mdname_parse(m->file, &name))
			continue;
		for (size_t k = 0; k < n; k++) {
			if (msgs[k].uid != 0 || strcmp(name.base, msgs[k].name) != 0)
				continue;
			msgs[k].uid = m->uid;
			char *err = NULL;
			if ((msgs[k].flags != m->flags || kw[k] != m->kw) &&
			    mbox_set_flags(v->mb, i - 1, msgs[k].flags, kw[k], &err)) {
				m->modseq = store_view_next_modseq(v);
				changed[n_changed++] = m->uid;
			}
			free(err); /* the message is in, without its flags */
		}
	}
	store_view_save(v, changed, n_changed);
	free(changed);
	free(kw);
	return true;
}

/* Inside a writer, after a look: the \Recent claim line read from the
 * index (first look, new UIDVALIDITY) or written to it. */
static void recent_sync(store_view *v)
{
	if (v->recent_validity != v->mb->uidvalidity) {
		v->recent_floor = store_index_recent(v->ix); /* 1 after a new UIDVALIDITY */
		v->recent_validity = v->mb->uidvalidity;
		v->recent_dirty = false;
	} else if (v->recent_dirty) {
		v->recent_dirty = !store_index_set_recent(v->ix, v->recent_floor);
	}
}

static void sync_work(void *arg)
{
	view_job *j = arg;
	store_view *v = j->v;
	char *err = NULL;
	bool ok = true;
	/* both the folder and its index, or no look at all: an index that
	 * could not be opened last time (SQLite busy under load, say) is
	 * tried again here, never used as NULL */
	if (v->mb == NULL || v->ix == NULL) {
		if (v->mb == NULL) {
			char *dir = view_dir(v->root, v->key);
			v->mb = mbox_open(dir, &err);
			free(dir);
		}
		ok = v->mb != NULL;
		if (ok && v->ix == NULL)
			v->ix = store_index_open(v->root, v->key, &err);
		ok = ok && v->ix != NULL;
		j->full = true;
	}
	if (ok)
		ok = j->full ? look_all(v, &err) : look_new(v, &err);
	if (ok)
		recent_sync(v);
	free(v->err);
	v->err = ok ? NULL : err;
	if (ok)
		free(err);
}

static void start_sync(store_view *v)
{
	view_job *j = xcalloc(1, sizeof(*j));
	*j = (view_job){.v = v, .acc = STORE_WRITE, .sync = true, .full = v->dirty_cur,
	                .fresh = !v->opened};
	v->dirty_new = v->dirty_cur = false;
	v->opened = true;
	v->writer = true;
	workers_submit(v->reg->wk, sync_work, view_job_done, j);
}

/* ---- the gate ---- */

static void notify(store_view *v)
{
	for (store_viewer *w = v->viewers, *next; w != NULL; w = next) {
		next = w->next;
		if (w->changed != NULL)
			w->changed(w->arg);
	}
}

static void job_work(void *arg)
{
	view_job *j = arg;
	j->work(j->arg);
}

static void view_job_done(void *arg)
{
	view_job *j = arg;
	store_view *v = j->v;
	bool changed = false;
	if (j->acc == STORE_WRITE) {
		v->writer = false;
		/* the job's own renames are queued in the kernel by now: sort them
		 * out against the view as the job left it */
		bool was = v->pumping;
		v->pumping = true; /* no job may start before this one's done has run */
		if (v->sub != NULL)
			folder_watch_poll(v->reg->watch);
		drain_events(v);
		v->pumping = was;
		changed = v->mb != NULL && (v->highestmodseq != j->modseq_before || v->ngone != j->gone_before ||
		                            v->mb->uidnext != j->uidnext_before);
		if (!j->sync)
			changed = true; /* a session's own change: the others hear of it */
		if (v->err != NULL && j->sync)
			log_event(LOG_LVL_ERROR, "store", "folder=%s error=%s", v->root, v->err);
	} else {
		v->readers--;
	}
	if (j->done != NULL)
		j->done(j->arg);
	free(j);
	if (changed)
		notify(v);
	pump(v);
}

static void pump(store_view *v)
{
	if (v->pumping)
		return;
	v->pumping = true;
	while (!v->writer) {
		bool dirty = !v->opened || v->dirty_new || v->dirty_cur;
		if (dirty && (v->head != NULL || v->refs > 0)) {
			if (v->readers > 0)
				break;
			start_sync(v);
			continue; /* (ran already when the workers are stopping) */
		}
		view_job *j = v->head;
		if (j == NULL || (j->acc == STORE_WRITE && v->readers > 0))
			break;
		v->head = j->next;
		if (v->head == NULL)
			v->tail = &v->head;
		if (j->work == NULL) {
			j->done(j->arg);
			free(j);
			continue;
		}
		if (j->acc == STORE_WRITE) {
			v->writer = true;
			j->modseq_before = v->highestmodseq;
			j->gone_before = v->ngone;
			j->uidnext_before = v->mb ? v->mb->uidnext : 0;
		} else {
			v->readers++;
		}
		workers_submit(v->reg->wk, job_work, view_job_done, j);
	}
	v->pumping = false;
}

void store_view_run(store_view *v, store_access acc, workers_fn *work, workers_fn *done, void *arg)
{
	view_job *j = xcalloc(1, sizeof(*j));
	*j = (view_job){.v = v, .acc = acc, .work = work, .done = done, .arg = arg};
	*v->tail = j;
	v->tail = &j->next;
	pump(v);
}

/* ---- open and close ---- */

static void view_free_work(void *arg)
{
	store_view *v = arg;
	if (v->recent_dirty && v->mb != NULL && v->ix != NULL)
		store_index_set_recent(v->ix, v->recent_floor);
	mbox_free(&v->mb);
	store_index_close(&v->ix);
	store_keywords_free(&v->kw);
	while (v->events != NULL) {
		view_event *e = v->events;
		v->events = e->next;
		free(e);
	}
	free(v->gone);
	free(v->err);
	free(v->root);
	free(v->key);
	free(v);
}

static void unlink_view(store_view *v)
{
	store_view **list = v->detached ? &v->reg->detached : &v->reg->views;
	for (store_view **pp = list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	folder_watch_remove(v->reg->watch, v->sub);
	v->sub = NULL;
	event_free(v->linger);
	v->linger = NULL;
	event_free(v->kick);
	v->kick = NULL;
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	store_view *v = arg;
	if (v->refs > 0 || v->linger == NULL)
		return;
	if (v->head != NULL || v->writer || v->readers > 0) {
		struct timeval tv = {VIEW_LINGER_SECS, 0};
		evtimer_add(v->linger, &tv); /* still busy: later */
		return;
	}
	unlink_view(v);
	/* closing the index may write (the WAL's checkpoint): not on the loop */
	workers_submit(v->reg->wk, view_free_work, NULL, v);
}

store_view *store_view_open(store_views *r, const char *root, const char *key)
{
	for (store_view *v = r->views; v != NULL; v = v->next) {
		if (strcmp(v->root, root) == 0 && strcmp(v->key, key) == 0) {
			v->refs++;
			evtimer_del(v->linger);
			if (v->mb == NULL)
				v->opened = false; /* the last first look failed: try again */
			return v;
		}
	}
	store_view *v = xcalloc(1, sizeof(*v));
	v->reg = r;
	v->root = xstrdup(root);
	v->key = xstrdup(key);
	v->refs = 1;
	v->tail = &v->head;
	v->linger = evtimer_new(r->base, on_linger, v);
	v->kick = event_new(r->base, -1, 0, on_kick, v);
	char *dir = view_dir(root, key);
	/* watch from before the first look, so nothing falls between */
	v->sub = folder_watch_add(r->watch, dir, on_watch, v);
	free(dir);
	v->next = r->views;
	r->views = v;
	return v;
}

store_view *store_view_ref(store_view *v)
{
	v->refs++;
	evtimer_del(v->linger);
	return v;
}

/* Drop one holder; the last one starts the view's linger of secs. */
static void let_go(store_view **vp, int secs)
{
	store_view *v = *vp;
	if (v == NULL)
		return;
	*vp = NULL;
	if (--v->refs > 0)
		return;
	struct timeval tv = {v->detached ? 0 : secs, 0};
	evtimer_add(v->linger, &tv);
}

void store_view_close(store_view **vp)
{
	let_go(vp, VIEW_LINGER_SECS);
}

void store_view_release(store_view **vp)
{
	let_go(vp, 0);
}

void store_views_forget(store_views *r, const char *root, const char *key)
{
	size_t n = strlen(key);
	for (store_view **pp = &r->views; *pp != NULL;) {
		store_view *v = *pp;
		if (strcmp(v->root, root) != 0 || strncmp(v->key, key, n) != 0 ||
		    (v->key[n] != '\0' && v->key[n] != '.')) {
			pp = &v->next;
			continue;
		}
		*pp = v->next;     /* out of the registry: never handed out again */
		v->next = r->detached;
		r->detached = v;
		v->detached = true;
		if (v->refs == 0) {
			struct timeval now = {0, 0};
			evtimer_add(v->linger, &now);
		}
	}
}

void store_views_free(store_views **rp)
{
	store_views *r = *rp;
	if (r == NULL)
		return;
	while (r->views != NULL || r->detached != NULL) {
		store_view *v = r->views != NULL ? r->views : r->detached;
		unlink_view(v);
		while (v->head != NULL) {
			view_job *j = v->head;
			v->head = j->next;
			free(j);
		}
		view_free_work(v);
	}
	free(r);
	*rp = NULL;
}

/* ---- a session's place ---- */

store_viewer *store_viewer_new(store_view *v)
{
	store_viewer *w = xcalloc(1, sizeof(*w));
	w->v = v;
	w->uidnext = v->mb ? v->mb->uidnext : 1;
	w->flags_modseq = w->gone_modseq = v->highestmodseq;
	w->next = v->viewers;
	v->viewers = w;
	return w;
}

void store_viewer_free(store_viewer **wp)
{
	store_viewer *w = *wp;
	if (w == NULL)
		return;
	for (store_viewer **pp = &w->v->viewers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	store_view_trim(w->v);
	free(w);
	*wp = NULL;
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t *store_viewer_uids(const store_viewer *w, size_t *n_r)
{
	const store_view *v = w->v;
	const mbox *mb = v->mb;
	size_t nm = 0;
	while (nm < mb->n && mb->msgs[nm].uid < w->uidnext) /* usually all, or all but a few */
		nm++;
	size_t ng = 0;
	for (size_t k = 0; k < v->ngone; k++)
		ng += v->gone[k].modseq > w->gone_modseq && v->gone[k].uid < w->uidnext;
	uint32_t *out = xcalloc(nm + ng + 1, sizeof(uint32_t));
	size_t n = 0;
	for (size_t i = 0; i < nm; i++)
		out[n++] = mb->msgs[i].uid;
	for (size_t k = 0; k < v->ngone; k++)
		if (v->gone[k].modseq > w->gone_modseq && v->gone[k].uid < w->uidnext)
			out[n++] = v->gone[k].uid;
	if (ng > 0)
		qsort(out, n, sizeof(uint32_t), cmp_uid);
	*n_r = n;
	return out;
}

void store_view_trim(store_view *v)
{
	uint64_t low = UINT64_MAX;
	for (store_viewer *w = v->viewers; w != NULL; w = w->next)
		if (w->gone_modseq < low)
			low = w->gone_modseq;
	size_t keep = 0;
	for (size_t k = 0; k < v->ngone; k++)
		if (v->gone[k].modseq > low)
			v->gone[keep++] = v->gone[k];
	v->ngone = keep;
}
