/* watch.h — telling sessions that a mailbox folder changed: one inotify
 * instance for the whole server (per-process inotify instances are few,
 * watches are many), a watch on the new/ and cur/ of each folder someone
 * waits on, shared by every subscriber of that folder.  Any change counts:
 * our own delivery, another session's flags or expunge, or a Maildir tool
 * outside the server. */
#ifndef YUBIN_STORE_WATCH_H
#define YUBIN_STORE_WATCH_H

#include <event2/event.h>
#include <stdbool.h>

typedef struct folder_watch folder_watch;
typedef struct watch_sub watch_sub;
/* Something changed in the folder: name (a file name) in new/ (in_cur
 * false) or cur/ was created, moved in (arrived true) or moved out or
 * removed (arrived false).  name NULL: events were lost; anything may have
 * changed.  Must not add or remove subscriptions (schedule work instead). */
typedef void watch_fn(void *arg, bool in_cur, const char *name, bool arrived);

/* NULL when inotify is not available (then nobody is told: callers fall
 * back to looking when asked). */
folder_watch *folder_watch_new(struct event_base *base);
void folder_watch_free(folder_watch **w);
/* Call fn(arg) when folder/new or folder/cur changes; NULL if the folder
 * cannot be watched. */
watch_sub *folder_watch_add(folder_watch *w, const char *folder, watch_fn *fn, void *arg);
void folder_watch_remove(folder_watch *w, watch_sub *sub);
/* Read the events the kernel has queued now, without waiting for the loop
 * (a client asking "anything new?" must see a change made before it asked). */
void folder_watch_poll(folder_watch *w);

#endif
