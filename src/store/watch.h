/* watch.h — telling sessions that a mailbox folder changed: one inotify
 * instance for the whole server (per-process inotify instances are few,
 * watches are many), a watch on the new/ and cur/ of each folder someone
 * waits on, shared by every subscriber of that folder.  Any change counts:
 * our own delivery, another session's flags or expunge, or a Maildir tool
 * outside the server. */
#ifndef YUBIN_STORE_WATCH_H
#define YUBIN_STORE_WATCH_H

#include <event2/event.h>

typedef struct folder_watch folder_watch;
typedef struct watch_sub watch_sub;
/* Something changed in the folder.  Must not add or remove subscriptions
 * (schedule work instead). */
typedef void watch_fn(void *arg);

/* NULL when inotify is not available (then nobody is told: callers fall
 * back to looking when asked). */
folder_watch *folder_watch_new(struct event_base *base);
void folder_watch_free(folder_watch **w);
/* Call fn(arg) when folder/new or folder/cur changes; NULL if the folder
 * cannot be watched. */
watch_sub *folder_watch_add(folder_watch *w, const char *folder, watch_fn *fn, void *arg);
void folder_watch_remove(folder_watch *w, watch_sub *sub);

#endif
