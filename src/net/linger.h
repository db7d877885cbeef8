/* linger.h — a lingering close (RFC 9112 section 9.6) for sockets whose
 * owner is done with them: half-closed for writing, then read and thrown
 * away until the client closes or a bound is reached, so that the answer
 * already sent is not lost to a TCP reset.  Bounded in sockets, time and
 * bytes; everything closes at once when the set is freed. */
#ifndef YUBIN_NET_LINGER_H
#define YUBIN_NET_LINGER_H

#include <event2/event.h>
#include <stddef.h>

typedef struct linger_set linger_set;

/* A set on base: at most max_socks sockets at once, each for at most
 * timeout_ms milliseconds and max_bytes bytes read. */
linger_set *linger_set_new(struct event_base *base, int max_socks, int timeout_ms,
                           size_t max_bytes);
/* Take fd over (non-blocking, its own descriptor, e.g. a dup): shut it
 * for writing now (what was written before still leaves, then the FIN),
 * read and discard until end of file, an error, or a bound, then close.
 * Closed at once when the set is full or fd cannot be watched. */
void linger_set_add(linger_set *ls, int fd);
/* Sockets lingering now. */
int linger_set_count(const linger_set *ls);
/* Close every lingering socket at once and free the set; *ls_r = NULL. */
void linger_set_free(linger_set **ls_r);

#endif
