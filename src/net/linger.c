/* linger.c — the lingering close (linger.h): a list of sockets shut for
 * writing, each with one read event that throws input away, ended by the
 * client's end of file, an error, its time or its byte bound.  Knows
 * nothing of the protocol spoken before; never writes. */
#include "net/linger.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/strutil.h"

typedef struct lingerer {
	struct lingerer *prev, *next;
	struct linger_set *ls;
	struct event *ev;
	int fd;
	size_t bytes;
	struct timeval until;
} lingerer;

struct linger_set {
	struct event_base *base;
	lingerer *head;
	int n, max_socks, timeout_ms;
	size_t max_bytes;
};

linger_set *linger_set_new(struct event_base *base, int max_socks, int timeout_ms,
                           size_t max_bytes)
{
	linger_set *ls = xcalloc(1, sizeof *ls);
	ls->base = base;
	ls->max_socks = max_socks;
	ls->timeout_ms = timeout_ms;
	ls->max_bytes = max_bytes;
	return ls;
}

static void lingerer_end(lingerer *lg)
{
	linger_set *ls = lg->ls;
	if (lg->prev != NULL)
		lg->prev->next = lg->next;
	else
		ls->head = lg->next;
	if (lg->next != NULL)
		lg->next->prev = lg->prev;
	ls->n--;
	event_free(lg->ev);
	close(lg->fd);
	free(lg);
}

/* Read what is there; true when the socket is done with (end of file,
 * error, byte bound). */
static bool lingerer_drain(lingerer *lg)
{
	char sink[16384];
	for (;;) {
		ssize_t n = recv(lg->fd, sink, sizeof sink, 0);
		if (n == 0)
			return true;
		if (n < 0)
			return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
		lg->bytes += (size_t)n;
		if (lg->bytes >= lg->ls->max_bytes)
			return true;
	}
}

static void lingerer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	lingerer *lg = arg;
	if (what & EV_TIMEOUT) {
		lingerer_end(lg);
		return;
	}
	struct timeval now, left;
	event_base_gettimeofday_cached(lg->ls->base, &now);
	if (lingerer_drain(lg) || !evutil_timercmp(&now, &lg->until, <)) {
		lingerer_end(lg);
		return;
	}
	/* a read restarted the timeout: only what is left of the bound */
	evutil_timersub(&lg->until, &now, &left);
	if (event_add(lg->ev, &left) != 0)
		lingerer_end(lg);
}

void linger_set_add(linger_set *ls, int fd)
{
	if (fd < 0)
		return;
	shutdown(fd, SHUT_WR);
	if (ls == NULL || ls->n >= ls->max_socks) {
		close(fd);
		return;
	}
	lingerer *lg = xcalloc(1, sizeof *lg);
	lg->ls = ls;
	lg->fd = fd;
	lg->ev = event_new(ls->base, fd, EV_READ | EV_PERSIST, lingerer_cb, lg);
	struct timeval tv = { ls->timeout_ms / 1000, (ls->timeout_ms % 1000) * 1000 }, now;
	event_base_gettimeofday_cached(ls->base, &now);
	evutil_timeradd(&now, &tv, &lg->until);
	if (lg->ev == NULL || event_add(lg->ev, &tv) != 0) {
		if (lg->ev != NULL)
			event_free(lg->ev);
		close(fd);
		free(lg);
		return;
	}
	lg->next = ls->head;
	if (ls->head != NULL)
		ls->head->prev = lg;
	ls->head = lg;
	ls->n++;
}

int linger_set_count(const linger_set *ls)
{
	return ls ? ls->n : 0;
}

void linger_set_free(linger_set **ls_r)
{
	linger_set *ls = *ls_r;
	if (ls == NULL)
		return;
	while (ls->head != NULL)
		lingerer_end(ls->head);
	free(ls);
	*ls_r = NULL;
}
