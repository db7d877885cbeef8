/* watch.c — folder change notification over one inotify instance (see
 * watch.h).  Each watched directory (a folder's new/ or cur/) is one watch
 * descriptor with the list of subscriptions on it; the kernel gives the
 * same descriptor for the same directory, so a folder watched by a
 * thousand idle sessions costs two watches. */
#include "store/watch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "lib/strutil.h"

typedef struct watch_dir {
	struct watch_dir *next;
	int wd;
	int refs;
} watch_dir;

struct watch_sub {
	struct watch_sub *next;
	watch_dir *dirs[2];   /* new/ and cur/ */
	watch_fn *fn;
	void *arg;
};

struct folder_watch {
	int fd;
	struct event *ev;
	watch_dir *dirs;
	watch_sub *subs;
};

#define MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)

static watch_dir *dir_get(folder_watch *w, const char *path)
{
	int wd = inotify_add_watch(w->fd, path, MASK);
	if (wd < 0)
		return NULL;
	for (watch_dir *d = w->dirs; d != NULL; d = d->next) {
		if (d->wd == wd) {
			d->refs++;
			return d;
		}
	}
	watch_dir *d = xcalloc(1, sizeof(*d));
	*d = (watch_dir){.next = w->dirs, .wd = wd, .refs = 1};
	w->dirs = d;
	return d;
}

static void dir_put(folder_watch *w, watch_dir *d)
{
	if (d == NULL || --d->refs > 0)
		return;
	inotify_rm_watch(w->fd, d->wd);
	for (watch_dir **pp = &w->dirs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			free(d);
			return;
		}
	}
}

/* Tell every subscriber on directory wd (all of them when wd is -1, for
 * lost events). */
static void tell(folder_watch *w, int wd, const struct inotify_event *e)
{
	for (watch_sub *s = w->subs; s != NULL; s = s->next) {
		for (int k = 0; k < 2; k++) {
			if (s->dirs[k] == NULL || (wd != -1 && s->dirs[k]->wd != wd))
				continue;
			if (e == NULL)
				s->fn(s->arg, k == 1, NULL, false);
			else
				s->fn(s->arg, k == 1, e->name, (e->mask & (IN_CREATE | IN_MOVED_TO)) != 0);
			break;
		}
	}
}

static void on_events(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	folder_watch *w = arg;
	char b[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t r;
	while ((r = read(w->fd, b, sizeof b)) > 0) {
		for (char *p = b; p < b + r;) {
			struct inotify_event *e = (struct inotify_event *)p;
			if (e->mask & IN_Q_OVERFLOW)
				tell(w, -1, NULL);
			else if (e->len > 0)
				tell(w, e->wd, e);
			p += sizeof(struct inotify_event) + e->len;
		}
	}
}

void folder_watch_poll(folder_watch *w)
{
	if (w != NULL)
		on_events(w->fd, EV_READ, w);
}

folder_watch *folder_watch_new(struct event_base *base)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return NULL;
	folder_watch *w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_events, w);
	event_add(w->ev, NULL);
	return w;
}

void folder_watch_free(folder_watch **wp)
{
	folder_watch *w = *wp;
	if (w == NULL)
		return;
	while (w->subs != NULL)
		folder_watch_remove(w, w->subs);
	event_free(w->ev);
	close(w->fd);
	free(w);
	*wp = NULL;
}

watch_sub *folder_watch_add(folder_watch *w, const char *folder, watch_fn *fn, void *arg)
{
	if (w == NULL)
		return NULL;
	watch_sub *s = xcalloc(1, sizeof(*s));
	static const char *const subs[] = {"new", "cur"};
	for (int i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", folder, subs[i]);
		s->dirs[i] = dir_get(w, p);
		free(p);
	}
	if (s->dirs[0] == NULL && s->dirs[1] == NULL) {
		free(s);
		return NULL;
	}
	s->fn = fn;
	s->arg = arg;
	s->next = w->subs;
	w->subs = s;
	return s;
}

void folder_watch_remove(folder_watch *w, watch_sub *sub)
{
	if (w == NULL || sub == NULL)
		return;
	for (watch_sub **pp = &w->subs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			break;
		}
	}
	dir_put(w, sub->dirs[0]);
	dir_put(w, sub->dirs[1]);
	free(sub);
}
