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
	cp_dest *d;               /* its slot is free once it is gone */
} cp_closing;

struct connpool {
	struct event_base *base;
	int max_total, max_dest;
	int total;
	cp_dest *dests;
	cp_idle *idle_old, *idle_new;
	cp_closing *closing;      /* saying QUIT */
	int n_closing;
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

static void kick(connpool *cp);

static void closing_gone(void *arg, smtpc_conn *conn)
{
	connpool *cp = arg;
	for (cp_closing **pp = &cp->closing; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->conn == conn) {
			cp_closing *x = *pp;
			*pp = x->next;
			x->d->open--;
			cp->total--;
			cp->n_closing--;
			free(x);
			kick(cp);
			return;
		}
	}
}

/* Say QUIT on a connection counted against d; the slot is free when the
 * connection is gone, so the limits hold for sockets, not just for work. */
static void close_conn(connpool *cp, cp_dest *d, smtpc_conn *conn)
{
	cp_closing *x = xcalloc(1, sizeof(*x));
	x->conn = conn;
	x->d = d;
	x->next = cp->closing;
	cp->closing = x;
	cp->n_closing++;
	smtpc_conn_quit(conn, closing_gone, cp);
}

void connpool_discard(connpool *cp, const char *dest, smtpc_conn *conn)
{
	cp_dest *d = dest_find(cp, dest);
	if (d == NULL)
		abort(); /* only a slot's holder discards */
	d->open++; /* until it is gone, beside the holder's next connection */
	cp->total++;
	close_conn(cp, d, conn);
}

static void close_idle(connpool *cp, cp_idle *e)
{
	idle_unlink(cp, e);
	close_conn(cp, e->d, e->conn);
	free(e);
}

static smtpc_conn *take_idle(connpool *cp, cp_dest *d)
{
	for (cp_idle *e = cp->idle_new; e != NULL; e = e->prev) {
		if (e->d == d) {
			smtpc_conn *conn = e->conn;
			idle_unlink(cp, e);
			free(e);
			return conn;
		}
	}
	return NULL;
}

/* A new connection for d, if the limits allow.  When all slots are taken
 * and may_steal, an idle connection of a destination that nobody waits for
 * makes room (its slot comes free when it is gone). */
static bool try_new(connpool *cp, cp_dest *d, bool may_steal)
{
	if (d->open >= cp->max_dest)
		return false;
	if (cp->total >= cp->max_total) {
		if (!may_steal)
			return false;
		for (cp_idle *e = cp->idle_old; e != NULL; e = e->next) {
			if (e->d->head == NULL) {
				close_idle(cp, e);
				break;
			}
		}
		return false;
	}
	d->open++;
	cp->total++;
	return true;
}

/* All slots are taken, d holds more than an even share, and some other
 * destination waits with less: d should give one up. */
static bool over_share(connpool *cp, const cp_dest *d)
{
	if (cp->total < cp->max_total)
		return false;
	int active = 0;
	for (const cp_dest *e = cp->dests; e != NULL; e = e->next)
		active += e->open > 0 || e->head != NULL;
	int fair = cp->max_total / (active > 0 ? active : 1);
	if (d->open <= fair)
		return false;
	for (const cp_dest *e = cp->dests; e != NULL; e = e->next)
		if (e != d && e->head != NULL && e->n_idle == 0 && e->open < fair && e->open < cp->max_dest)
			return true;
	return false;
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

/* Who gets the next slot: first a destination whose own idle connection
 * can serve it (reuse), unless it holds more than its share while another
 * destination starves (then that connection closes, for the other); then a
 * new connection, destinations taking turns. */
static cp_dest *pick(connpool *cp, smtpc_conn **idle)
{
	*idle = NULL;
	for (cp_dest *d = cp->dests; d != NULL; d = d->next) {
		if (d->head == NULL || d->n_idle == 0)
			continue;
		if (over_share(cp, d)) {
			close_conn(cp, d, take_idle(cp, d));
			continue;
		}
		*idle = take_idle(cp, d);
		return d;
	}
	/* close no more idle connections than there are destinations waiting
	 * for a new one */
	int starved = 0;
	for (cp_dest *d = cp->dests; d != NULL; d = d->next)
		starved += d->head != NULL && d->open < cp->max_dest;
	for (cp_dest *d = cp->dests; d != NULL; d = d->next)
		if (d->head != NULL && try_new(cp, d, cp->n_closing < starved))
			return d;
	return NULL;
}

/* Hand out what is free, one slot at a time; the destination served goes
 * to the back of the turn. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	connpool *cp = arg;
	smtpc_conn *idle;
	cp_dest *d;
	while ((d = pick(cp, &idle)) != NULL) {
		cp_wait *w = d->head;
		d->head = w->next;
		if (d->head == NULL)
			d->tail = NULL;
		dest_to_tail(cp, d);
		w->grant(w->arg, idle); /* may acquire or release: pick starts over */
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
}

size_t connpool_close_idle(connpool *cp)
{
	size_t n = 0;
	while (cp->idle_old != NULL) {
		close_idle(cp, cp->idle_old);
		n++;
	}
	return n;
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
	*idle = NULL;
	if (d->head == NULL && d->n_idle > 0) {
		*idle = take_idle(cp, d);
		return true;
	}
	if (d->head == NULL && try_new(cp, d, cp->n_closing == 0))
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
		close_conn(cp, d, conn); /* too old to reuse */
		return;
	}
	d->open--;
	cp->total--;
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
