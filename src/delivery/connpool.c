/* connpool.c — outbound connection slots and idle connections (see
 * connpool.h).  The numbers involved are small (slots are bounded by
 * delivery.max_connections), so plain lists do. */
#include "delivery/connpool.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

typedef struct cp_wait {
	struct cp_wait *next;
	connpool_grant_fn *grant;
	void *arg;
} cp_wait;

typedef struct cp_dest {
	struct cp_dest *next;
	char *name;
	int open;                 /* connections counted against it: busy + idle */
	int n_idle;
	cp_wait *head, *tail;     /* waiting for a slot */
} cp_dest;

typedef struct cp_idle {
	struct cp_idle *prev, *next;  /* oldest first */
	connpool *cp;
	cp_dest *d;
	smtpc_conn *conn;
	time_t since;
} cp_idle;

typedef struct cp_closing {
	struct cp_closing *next;
	smtpc_conn *conn;
} cp_closing;

struct connpool {
	struct event_base *base;
	int max_total, max_dest;
	int total;
	cp_dest *dests;
	cp_idle *idle_old, *idle_new;
	cp_closing *closing;      /* saying QUIT */
	struct event *kick;       /* hands out freed slots on the next loop turn */
	struct event *sweep;      /* closes connections idle too long */
};

static cp_dest *dest_find(connpool *cp, const char *name)
{
	for (cp_dest *d = cp->dests; d != NULL; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static cp_dest *dest_get(connpool *cp, const char *name)
{
	cp_dest *d = dest_find(cp, name);
	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->name = xstrdup(name);
		cp_dest **pp = &cp->dests;
		while (*pp != NULL)
			pp = &(*pp)->next;
		*pp = d;
	}
	return d;
}

/* Forget destinations with nothing open and nobody waiting. */
static void dest_gc(connpool *cp)
{
	for (cp_dest **pp = &cp->dests; *pp != NULL;) {
		cp_dest *d = *pp;
		if (d->open == 0 && d->head == NULL) {
			*pp = d->next;
			free(d->name);
			free(d);
		} else {
			pp = &d->next;
		}
	}
}

static void idle_unlink(connpool *cp, cp_idle *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		cp->idle_old = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		cp->idle_new = e->prev;
	e->d->n_idle--;
}

static void closing_gone(void *arg, smtpc_conn *conn)
{
	connpool *cp = arg;
	for (cp_closing **pp = &cp->closing; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->conn == conn) {
			cp_closing *x = *pp;
			*pp = x->next;
			free(x);
			return;
		}
	}
}

void connpool_discard(connpool *cp, smtpc_conn *conn)
{
	cp_closing *x = xcalloc(1, sizeof(*x));
	x->conn = conn;
	x->next = cp->closing;
	cp->closing = x;
	smtpc_conn_quit(conn, closing_gone, cp);
}

/* Close a connection politely; its slot is free at once. */
static void close_conn(connpool *cp, cp_dest *d, smtpc_conn *conn)
{
	d->open--;
	cp->total--;
	connpool_discard(cp, conn);
}

static void close_idle(connpool *cp, cp_idle *e)
{
	idle_unlink(cp, e);
	close_conn(cp, e->d, e->conn);
	free(e);
}

/* A slot for d if there is one: *idle gets its newest idle connection, or
 * NULL for a new connection. */
static bool try_grant(connpool *cp, cp_dest *d, smtpc_conn **idle)
{
	*idle = NULL;
	if (d->n_idle > 0) {
		for (cp_idle *e = cp->idle_new; e != NULL; e = e->prev) {
			if (e->d == d) {
				idle_unlink(cp, e);
				*idle = e->conn;
				free(e);
				return true;
			}
		}
	}
	if (d->open >= cp->max_dest)
		return false;
	if (cp->total >= cp->max_total && cp->idle_old != NULL)
		close_idle(cp, cp->idle_old); /* an idle connection elsewhere makes room */
	if (cp->total >= cp->max_total)
		return false;
	d->open++;
	cp->total++;
	return true;
}

/* Put d last, so that the other destinations go first next time. */
static void dest_to_tail(connpool *cp, cp_dest *d)
{
	cp_dest **pp = &cp->dests;
	while (*pp != d)
		pp = &(*pp)->next;
	*pp = d->next;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = d;
	d->next = NULL;
}

/* Hand out free slots, one at a time, to the first destination in line
 * that can take one; it then goes to the back, so a destination with a
 * long line does not starve the others. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	connpool *cp = arg;
	for (;;) {
		smtpc_conn *idle = NULL;
		cp_dest *d = cp->dests;
		while (d != NULL && (d->head == NULL || !try_grant(cp, d, &idle)))
			d = d->next;
		if (d == NULL)
			break;
		cp_wait *w = d->head;
		d->head = w->next;
		if (d->head == NULL)
			d->tail = NULL;
		dest_to_tail(cp, d);
		w->grant(w->arg, idle); /* may acquire or release: the walk starts over */
		free(w);
	}
	dest_gc(cp);
}

static void kick(connpool *cp)
{
	event_active(cp->kick, 0, 0);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	connpool *cp = arg;
	time_t now = time(NULL);
	while (cp->idle_old != NULL && now - cp->idle_old->since >= CONNPOOL_IDLE)
		close_idle(cp, cp->idle_old);
	if (cp->idle_old != NULL) {
		struct timeval tv = {1, 0};
		evtimer_add(cp->sweep, &tv);
	}
	kick(cp);
}

/* The server closed an idle connection. */
static void idle_closed(void *arg, smtpc_conn *conn)
{
	cp_idle *e = arg;
	connpool *cp = e->cp;
	idle_unlink(cp, e);
	e->d->open--;
	cp->total--;
	free(e);
	kick(cp);
}

bool connpool_acquire(connpool *cp, const char *dest, connpool_grant_fn *grant, void *arg,
                      smtpc_conn **idle)
{
	cp_dest *d = dest_get(cp, dest);
	if (d->head == NULL && try_grant(cp, d, idle))
		return true;
	cp_wait *w = xcalloc(1, sizeof(*w));
	w->grant = grant;
	w->arg = arg;
	if (d->tail != NULL)
		d->tail->next = w;
	else
		d->head = w;
	d->tail = w;
	return false;
}

void connpool_release(connpool *cp, const char *dest, smtpc_conn *conn)
{
	cp_dest *d = dest_find(cp, dest);
	if (d == NULL)
		abort(); /* a release without an acquire */
	time_t now = time(NULL);
	if (conn != NULL && now - smtpc_conn_opened(conn) < CONNPOOL_REUSE) {
		cp_idle *e = xcalloc(1, sizeof(*e));
		if (smtpc_conn_park(conn, idle_closed, e)) {
			*e = (cp_idle){.prev = cp->idle_new, .cp = cp, .d = d, .conn = conn, .since = now};
			if (cp->idle_new != NULL)
				cp->idle_new->next = e;
			else
				cp->idle_old = e;
			cp->idle_new = e;
			d->n_idle++;
			if (!evtimer_pending(cp->sweep, NULL)) {
				struct timeval tv = {1, 0};
				evtimer_add(cp->sweep, &tv);
			}
			kick(cp);
			return;
		}
		free(e);
		smtpc_conn_free(conn); /* it died on the way back */
		conn = NULL;
	}
	if (conn != NULL) {
		close_conn(cp, d, conn);
	} else {
		d->open--;
		cp->total--;
	}
	kick(cp);
}

void connpool_cancel(connpool *cp, void *arg)
{
	for (cp_dest *d = cp->dests; d != NULL; d = d->next) {
		cp_wait *prev = NULL;
		for (cp_wait *w = d->head; w != NULL; prev = w, w = w->next) {
			if (w->arg != arg)
				continue;
			if (prev != NULL)
				prev->next = w->next;
			else
				d->head = w->next;
			if (d->tail == w)
				d->tail = prev;
			free(w);
			return;
		}
	}
}

connpool *connpool_new(struct event_base *base, int max_total, int max_per_dest)
{
	connpool *cp = xcalloc(1, sizeof(*cp));
	cp->base = base;
	cp->max_total = max_total;
	cp->max_dest = max_per_dest;
	cp->kick = event_new(base, -1, 0, on_kick, cp);
	cp->sweep = evtimer_new(base, on_sweep, cp);
	return cp;
}

void connpool_free(connpool **cpp)
{
	connpool *cp = *cpp;
	if (cp == NULL)
		return;
	while (cp->idle_old != NULL) {
		cp_idle *e = cp->idle_old;
		idle_unlink(cp, e);
		smtpc_conn_free(e->conn);
		free(e);
	}
	while (cp->closing != NULL) {
		cp_closing *x = cp->closing;
		cp->closing = x->next;
		smtpc_conn_free(x->conn);
		free(x);
	}
	while (cp->dests != NULL) {
		cp_dest *d = cp->dests;
		cp->dests = d->next;
		while (d->head != NULL) {
			cp_wait *w = d->head;
			d->head = w->next;
			free(w);
		}
		free(d->name);
		free(d);
	}
	event_free(cp->kick);
	event_free(cp->sweep);
	free(cp);
	*cpp = NULL;
}
