/* view.h — a mailbox folder open in the server: one message list
 * (mailbox.h) shared by every session that has the folder selected, kept
 * current by the folder watch, with a mod-sequence per message (RFC 7162,
 * kept in the account's index, index.h), the folder's keywords, and the log
 * of the messages expunged while it is open.  A session keeps only where it
 * is in that history (store_viewer): what it has been told.
 *
 * Work on the folder runs through a gate: many readers at once or one
 * writer, in the order asked; a look at the folder (a sync) runs as a
 * writer before the next job whenever the watch saw a change the view does
 * not know of.  The loop may read the view only outside writers: in a
 * job's done function, or in a job without work (store_view_run with work
 * NULL).  The last close keeps the view a while, so that a session coming
 * back finds it ready. */
#ifndef YUBIN_STORE_VIEW_H
#define YUBIN_STORE_VIEW_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/workers.h"
#include "store/index.h"
#include "store/keywords.h"
#include "store/mailbox.h"
#include "store/watch.h"

typedef struct store_views store_views;
typedef struct store_view store_view;

typedef struct store_gone {
	uint32_t uid;
	uint64_t modseq;        /* when it went */
} store_gone;

/* What one session has been told of a view. */
typedef struct store_viewer {
	struct store_viewer *next;
	store_view *v;
	uint32_t uidnext;       /* UIDs from here on are not announced yet */
	uint64_t flags_modseq;  /* flag changes up to here are told */
	uint64_t gone_modseq;   /* expunges up to here are told */
	/* called (on the loop, outside writers) after a look at the folder
	 * found changes; NULL: not interested */
	void (*changed)(void *arg);
	void *arg;
} store_viewer;

struct store_view {
	mbox *mb;               /* ascending UID; mbox_msg.modseq set */
	uint64_t highestmodseq;
	store_keywords kw;
	store_gone *gone;       /* ascending modseq */
	size_t ngone;
	store_index *ix;
	char *err;              /* why the last look failed, or NULL */
	/* \Recent (RFC 3501 2.3.2): UIDs from recent_floor on were claimed by no
	 * IMAP session yet.  Moved on by the loop outside writers (recent_dirty
	 * then), kept in the index by the next look and when the view goes. */
	uint32_t recent_floor;
	bool recent_dirty;
	uint32_t recent_validity;      /* the UIDVALIDITY recent_floor belongs to */
	/* the rest is view.c's */
	store_views *reg;
	struct store_view *next;
	char *root, *key;
	int refs;
	store_viewer *viewers;
	watch_sub *sub;
	bool opened, dirty_new, dirty_cur, pumping;
	bool detached;                 /* forgotten: freed when the last holder lets go */
	int readers;
	bool writer;
	struct view_job *head, **tail;
	struct view_event *events;     /* seen while a writer ran */
	size_t n_events;
	struct event *linger;
	struct event *kick;            /* a look asked for from the watch callback */
};

store_views *store_views_new(struct event_base *base, workers *wk, folder_watch *watch);
/* At shutdown, after the workers are done. */
void store_views_free(store_views **r);

/* The view of the folder at root/key (key "" is INBOX, ".Sent" a
 * subfolder), shared when open already.  Ready for jobs at once: the first
 * one runs after the folder is read.  Release with store_view_close. */
store_view *store_view_open(store_views *r, const char *root, const char *key);
void store_view_close(store_view **v);
/* Close, and when that was the last holder free the view at once instead of
 * keeping it a while: for a folder opened for one look (LIST-STATUS opens
 * every folder of the account; a thousand kept views would hold their
 * message lists and index handles for a minute). */
void store_view_release(store_view **v);
/* One more holder of v (released with store_view_close). */
store_view *store_view_ref(store_view *v);
/* The folder root/key and those below it (key "a" takes "a.b") were
 * deleted or renamed: their views are not handed out again (sessions that
 * hold one keep it until they let go). */
void store_views_forget(store_views *r, const char *root, const char *key);
/* The folder's path. */
const char *store_view_path(const store_view *v);

typedef enum { STORE_READ, STORE_WRITE } store_access;
/* Run work(arg) on a worker under the gate, then done(arg) on the loop.
 * work NULL: done runs on the loop as soon as a reader could. */
void store_view_run(store_view *v, store_access acc, workers_fn *work, workers_fn *done, void *arg);
/* Someone asks whether anything changed: take in what the watch has queued
 * (or, without a watch, look at the whole folder before the next job). */
void store_view_check(store_view *v);

/* Inside a writer: the mod-sequence for the next change. */
uint64_t store_view_next_modseq(store_view *v);
/* Inside a writer: write the index rows of these messages (their flags and
 * mod-sequences) and the folder's highest mod-sequence, in one
 * transaction.  False when the index cannot be written (the files, which
 * hold the flags, are right either way). */
bool store_view_save(store_view *v, const uint32_t *uids, size_t n);
/* A message for store_view_add: a file the caller made in the folder's
 * tmp/ (its modification time is the arrival time), with the flags and
 * keywords it should have. */
typedef struct store_new_msg {
	const char *name;           /* in tmp/ */
	unsigned flags;             /* MDF_* */
	const char *const *keywords;
	size_t n_keywords;
	uint32_t uid;               /* out: the UID it got, 0 if it got none */
} store_new_msg;

/* Inside a writer: bring these files into the folder (through new/, as
 * delivery does), give them UIDs, flags and keywords (a keyword for which
 * the folder has no letter left is dropped).  False with *err_r when the
 * folder could not take them in; when a file cannot be moved to new/, none
 * is taken in (the files stay in tmp/, the caller's to remove). */
bool store_view_add(store_view *v, store_new_msg *msgs, size_t n, char **err_r);
/* Inside a writer: remove the messages with these UIDs (files, index rows),
 * logged as expunged at one new mod-sequence.  False with *err_r if any
 * could not be removed; those that were are gone either way. */
bool store_view_expunge(store_view *v, const uint32_t *uids, size_t n, char **err_r);

/* A session's place in the view, told of everything now. */
store_viewer *store_viewer_new(store_view *v);
void store_viewer_free(store_viewer **w);
/* The UIDs of the session's messages by sequence number: the view's
 * messages it was told of and those expunged since that it was not told
 * of, ascending (malloc'd; *n_r of them).  Outside writers. */
uint32_t *store_viewer_uids(const store_viewer *w, size_t *n_r);
/* Drop expunges every viewer has been told of. */
void store_view_trim(store_view *v);

#endif
