/* notify_cmd.c — NOTIFY (RFC 5465) for a session: the command, and the
 * responses it asks for, sent as soon as the change is seen, between
 * commands (never in the middle of one's responses):
 * - the selected mailbox (selected / selected-delayed): EXISTS, FETCH of
 *   flags, EXPUNGE or VANISHED (not with selected-delayed: those wait for a
 *   command that may report them), and MessageNew's FETCH attributes;
 * - other mailboxes of the account: a STATUS (MESSAGES UIDNEXT UNSEEN, and
 *   HIGHESTMODSEQ under CONDSTORE) when their counts change, watched through
 *   the server's folder watch (store/watch.h) and counted through the
 *   folder's shared view;
 * - MailboxName and SubscriptionChange: LIST responses when another session
 *   of the account creates, deletes, renames, subscribes or unsubscribes.
 * The grammar is notify.c's. */
#include "imap/session.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/fetch.h"
#include "imap/folders.h"
#include "imap/names.h"
#include "imap/notify.h"
#include "imap/status.h"

typedef struct notify_box notify_box;

struct imap_notify {
	imap_session *s;          /* NULL once the session let go */
	imap_notify_set set;
	notify_box **boxes;
	size_t nboxes;
	struct event *kick;       /* counts to start, outside the watch's callback */
	int counting;             /* counts in flight */
	char *tag;                /* NOTIFY SET STATUS: the tag, answered when all are counted */
	bool pending;             /* the selected folder changed while a command ran */
};

struct notify_box {
	imap_notify *n;
	char *name, *path;
	watch_sub *sub;
	bool dirty, busy, have_last, announce;
	imap_status_counts last;
};

static void notify_release(imap_notify *n)
{
	if (n->s != NULL || n->counting > 0)
		return;
	for (size_t i = 0; i < n->nboxes; i++) {
		free(n->boxes[i]->name);
		free(n->boxes[i]->path);
		free(n->boxes[i]);
	}
	free(n->boxes);
	if (n->kick != NULL)
		event_free(n->kick);
	imap_notify_set_free(&n->set);
	free(n->tag);
	free(n);
}

/* The session lets go of n: no more watching; freed when no count is left. */
static void notify_detach(imap_notify *n)
{
	if (n == NULL)
		return;
	folder_watch *w = n->s->srv->watch;
	for (size_t i = 0; i < n->nboxes; i++) {
		if (n->boxes[i]->sub != NULL)
			folder_watch_remove(w, n->boxes[i]->sub);
		n->boxes[i]->sub = NULL;
	}
	if (n->s->viewer != NULL && n->s->viewer->arg == n->s && n->s->idle_tag == NULL)
		n->s->viewer->changed = NULL;
	n->s->notify = NULL;
	n->s = NULL;
	free(n->tag);
	n->tag = NULL;
	notify_release(n);
}

void imap_notify_free(imap_session *s)
{
	notify_detach(s->notify);
}

/* ---- other mailboxes: STATUS ---- */

static bool same_counts(const imap_status_counts *a, const imap_status_counts *b)
{
	return a->messages == b->messages && a->uidnext == b->uidnext && a->unseen == b->unseen &&
	       a->uidvalidity == b->uidvalidity && a->highestmodseq == b->highestmodseq;
}

/* After counts: with the session gone, let n go; else the NOTIFY SET
 * STATUS reply once every count is in, or what was written goes out. */
static void settle(imap_notify *n)
{
	imap_session *s = n->s;
	if (s == NULL) {
		notify_release(n);
	} else if (n->counting == 0 && n->tag != NULL) {
		imap_tagged(s, n->tag, "OK", "NOTIFY completed");
		free(n->tag);
		n->tag = NULL;
		conn_resume(s->c); /* last: it may run the next command, or end the session and n */
	} else if (n->tag == NULL) {
		conn_flush(s->c);
	}
}

static void counted(void *arg, const imap_status_counts *c)
{
	notify_box *b = arg;
	imap_notify *n = b->n;
	b->busy = false;
	n->counting--;
	imap_session *s = n->s;
	bool selected = s != NULL && s->selected != NULL && strcmp(s->selected, b->name) == 0;
	if (s != NULL && c != NULL && !selected &&
	    (b->announce || (b->have_last && !same_counts(c, &b->last)))) {
		unsigned items = IMAP_STATUS_MESSAGES | IMAP_STATUS_UIDNEXT | IMAP_STATUS_UIDVALIDITY |
		                 IMAP_STATUS_UNSEEN;
		if (s->enabled & IMAP_ENABLED_CONDSTORE)
			items |= IMAP_STATUS_HIGHESTMODSEQ;
		imap_status_reply(s, b->name, items, c);
	}
	if (c != NULL) {
		b->last = *c;
		b->have_last = true;
	}
	b->announce = false;
	if (s != NULL && b->dirty)
		event_active(n->kick, 0, 0);
	settle(n);
}

/* Count the folders that changed.  A count may finish at once, inside
 * this loop: the extra reference keeps n until the loop is over. */
static void start_counts(imap_notify *n)
{
	n->counting++;
	for (size_t i = 0; n->s != NULL && i < n->nboxes; i++) {
		notify_box *b = n->boxes[i];
		if (!b->dirty || b->busy)
			continue;
		b->dirty = false;
		b->busy = true;
		n->counting++;
		imap_status_count(n->s->srv->views, n->s->maildir, b->path, true, counted, b);
	}
	n->counting--;
	settle(n);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	start_counts(arg);
}

static void on_watch(void *arg, bool in_cur, const char *name, bool arrived)
{
	(void)in_cur;
	(void)name;
	(void)arrived;
	notify_box *b = arg;
	b->dirty = true;
	event_active(b->n->kick, 0, 0); /* views are opened from the loop, not from here */
}

/* Watch every folder of the account that a group with message events
 * takes; each is counted once now (silently, or told under STATUS). */
static void watch_boxes(imap_notify *n, bool announce)
{
	imap_session *s = n->s;
	strlist names, subs;
	strlist_init(&names);
	strlist_init(&subs);
	imap_folder_names(s, &names);
	bool all_subscribed = !imap_subscriptions_read(s, &subs);
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.items[i];
		bool subscribed = all_subscribed || strlist_contains(&subs, name);
		const imap_notify_group *g = imap_notify_for_mailbox(&n->set, name, subscribed);
		if (g == NULL || !(g->events & IMAP_NOTIFY_MESSAGE_EVENTS))
			continue;
		notify_box *b = xcalloc(1, sizeof(*b));
		*b = (notify_box){.n = n, .name = xstrdup(name), .path = imap_folder_path(s, name),
		                  .dirty = true, .announce = announce};
		if (b->path == NULL) {
			free(b->name);
			free(b);
			continue;
		}
		if (s->srv->watch != NULL)
			b->sub = folder_watch_add(s->srv->watch, b->path, on_watch, b);
		n->boxes = xrealloc(n->boxes, (n->nboxes + 1) * sizeof(*n->boxes));
		n->boxes[n->nboxes++] = b;
	}
	strlist_free(&names);
	strlist_free(&subs);
}

/* ---- the selected mailbox ---- */

static void write_new(imap_session *s, const imap_notify_group *g, uint32_t from_uid)
{
	size_t n;
	uint32_t *uids = store_viewer_uids(s->viewer, &n);
	buf lines;
	buf_init(&lines, BUF_UNBOUNDED);
	buf *out = &lines;
	for (size_t i = 0; i < n; i++) {
		long k = uids[i] >= from_uid ? mbox_find(s->view->mb, uids[i]) : -1;
		if (k < 0)
			continue;
		const mbox_msg *m = &s->view->mb->msgs[k];
		size_t mark = out->len;
		bool ok = buf_printf(out, "* %zu FETCH (UID %u", i + 1, m->uid);
		if (ok && (g->new_items & IMAP_FETCH_FLAGS)) {
			ok = buf_puts(out, " FLAGS ");
			imap_write_flags(out, s, s->view, m);
		}
		if (ok && (g->new_items & IMAP_FETCH_MODSEQ))
			ok = buf_printf(out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
		if (ok && (g->new_items & IMAP_FETCH_INTERNALDATE)) {
			char date[64];
			struct tm tm;
			gmtime_r(&m->internal, &tm);
			strftime(date, sizeof date, "%d-%b-%Y %H:%M:%S +0000", &tm);
			ok = buf_printf(out, " INTERNALDATE \"%s\"", date);
		}
		if (ok && (g->new_items & IMAP_FETCH_RFC822_SIZE))
			ok = buf_printf(out, " RFC822.SIZE %llu", (unsigned long long)m->vsize);
		if (!ok || !buf_puts(out, ")\r\n"))
			buf_truncate(out, mark);
	}
	conn_write(s->c, lines.data, lines.len);
	buf_free(&lines);
	free(uids);
}

static void on_selected_change(void *arg)
{
	imap_session *s = arg;
	const imap_notify_group *g = s->notify ? imap_notify_for_selected(&s->notify->set) : NULL;
	if (g != NULL && conn_is_busy(s->c))
		s->notify->pending = true; /* told once the command is over (imap_notify_pending) */
	if (g == NULL || conn_is_busy(s->c) || conn_is_closing(s->c) || s->idle_tag != NULL)
		return;
	uint32_t from = s->viewer->uidnext;
	imap_report(s, g->filter == IMAP_NOTIFY_SELECTED);
	if (g->new_items != 0)
		write_new(s, g, from);
	conn_flush(s->c);
}

static void catch_up(void *arg)
{
	imap_session *s = arg;
	const imap_notify_group *g = s->notify ? imap_notify_for_selected(&s->notify->set) : NULL;
	if (g != NULL && s->viewer != NULL) {
		uint32_t from = s->viewer->uidnext;
		imap_report(s, g->filter == IMAP_NOTIFY_SELECTED);
		if (g->new_items != 0)
			write_new(s, g, from);
	}
	conn_resume(s->c);
}

void imap_notify_pending(imap_session *s)
{
	if (s->notify == NULL || !s->notify->pending || s->view == NULL || conn_is_busy(s->c) ||
	    conn_is_closing(s->c) || s->idle_tag != NULL)
		return;
	s->notify->pending = false;
	/* the view is read on the loop only as a reader of its gate */
	conn_pause(s->c);
	store_view_run(s->view, STORE_READ, NULL, catch_up, s);
}

void imap_notify_arm(imap_session *s)
{
	if (s->viewer == NULL || s->idle_tag != NULL)
		return;
	const imap_notify_group *g = s->notify ? imap_notify_for_selected(&s->notify->set) : NULL;
	bool on = g != NULL && (g->events & IMAP_NOTIFY_MESSAGE_EVENTS);
	s->viewer->changed = on ? on_selected_change : NULL;
	s->viewer->arg = on ? s : NULL;
}

/* ---- mailbox names and subscriptions, from another session ---- */

static bool is_subscribed(const imap_session *s, const char *name)
{
	strlist subs;
	strlist_init(&subs);
	bool yes = !imap_subscriptions_read(s, &subs) || strlist_contains(&subs, name);
	strlist_free(&subs);
	return yes;
}

void imap_notify_mailbox(imap_session *from, unsigned event, const char *name, const char *old, bool on)
{
	for (session_link *l = from->srv->imap_sessions; l != NULL; l = l->next) {
		imap_session *s = l->owner;
		imap_notify *n = s->notify;
		if (s == from || n == NULL || s->account == NULL || strcmp(s->account, from->account) != 0)
			continue;
		/* the subscribed filter hears of every (un)subscription */
		bool subscribed = event == IMAP_NOTIFY_SUBSCRIPTION_CHANGE || is_subscribed(s, name);
		const imap_notify_group *g = imap_notify_for_mailbox(&n->set, name, subscribed);
		if (g == NULL && old != NULL)
			g = imap_notify_for_mailbox(&n->set, old, subscribed);
		if (g == NULL || !(g->events & event))
			continue;
		buf line;
		buf_init(&line, BUF_UNBOUNDED);
		buf *out = &line;
		bool gone = event == IMAP_NOTIFY_MAILBOX_NAME && !on;
		bool ok = buf_printf(out, "* LIST (%s) \".\" ",
		                     event == IMAP_NOTIFY_SUBSCRIPTION_CHANGE ? (on ? "\\Subscribed" : "")
		                     : gone ? "\\NonExistent" : "") &&
		          imap_name_out(s, out, name);
		if (ok && old != NULL)
			ok = buf_puts(out, " (\"OLDNAME\" (") && imap_name_out(s, out, old) && buf_puts(out, "))");
		if (ok && buf_puts(out, "\r\n"))
			conn_write(s->c, line.data, line.len);
		buf_free(&line);
		if (!conn_is_busy(s->c))
			conn_flush(s->c);
		if (event == IMAP_NOTIFY_MAILBOX_NAME && n->tag == NULL) {
			/* watch the folders as they are now: a new struct, the old one
			 * goes once its counts are in */
			imap_notify *fresh = xcalloc(1, sizeof(*fresh));
			fresh->s = s;
			fresh->set = n->set;
			memset(&n->set, 0, sizeof(n->set));
			fresh->kick = event_new(s->srv->base, -1, 0, on_kick, fresh);
			notify_detach(n);
			s->notify = fresh;
			watch_boxes(fresh, false);
			imap_notify_arm(s);
			start_counts(fresh);
		}
	}
}

/* ---- the command ---- */

static bool name_in(void *ctx, const imap_arg *a, char **name_r, const char **error_r)
{
	return imap_name_in(ctx, a, name_r, error_r);
}

void imap_notify_cmd(imap_session *s, const imap_command *c)
{
	imap_notify_set set;
	const char *err = NULL;
	imap_notify_status st = c->nargs == 0 ? IMAP_NOTIFY_BAD : imap_notify_parse(c->args, name_in, s, &set, &err);
	if (st != IMAP_NOTIFY_OK) {
		imap_tagged(s, c->tag, st == IMAP_NOTIFY_BADEVENT ? "NO" : "BAD", "%s",
		            err ? err : "NOTIFY SET or NOTIFY NONE");
		if (c->nargs > 0)
			imap_notify_set_free(&set);
		return;
	}
	notify_detach(s->notify);
	if (set.none) {
		imap_notify_set_free(&set);
		imap_notify_arm(s);
		imap_tagged(s, c->tag, "OK", "NOTIFY completed");
		return;
	}
	imap_notify *n = xcalloc(1, sizeof(*n));
	n->s = s;
	n->set = set;
	n->kick = event_new(s->srv->base, -1, 0, on_kick, n);
	s->notify = n;
	watch_boxes(n, set.status);
	imap_notify_arm(s);
	if (set.status && n->nboxes > 0) {
		n->tag = xstrdup(c->tag);
		conn_pause(s->c);
	} else {
		imap_tagged(s, c->tag, "OK", "NOTIFY completed");
	}
	start_counts(n);
}
