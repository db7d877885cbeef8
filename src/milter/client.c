/* client.c — one asynchronous connection to a milter (see client.h): the
 * connection, the negotiation, the commands of a stage sent in order with
 * the filter's answers awaited where it gives them, the timeouts, and the
 * end-of-message changes kept for the caller.  What the answers mean for
 * the SMTP session is decided by the caller (smtp/pol_milter.c). */
#include "milter/client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/buf.h"

/* The most bytes of changes one message may collect (a replaced body
 * included): far above any real filter's, and a bound for one that is not. */
#define MILTER_MAX_MODS (64u * 1024 * 1024)

typedef enum conn_state { C_CONNECTING, C_NEGOTIATING, C_READY, C_FAILED } conn_state;

typedef struct item {
	char cmd;                 /* SMFIC_*; SMFIC_MACRO: the macros of the next item */
	char *data;
	size_t len;
	uint32_t step, noreply;
	milter_macro_stage mst;   /* macros: the stage their list is for */
	strlist pairs;            /* macros: names and values */
} item;

struct milter_conn {
	struct event_base *base;
	const milter_def *def;
	char sid[24];
	struct bufferevent *bev;
	struct event *timer;
	milter_reader rd;
	conn_state state;
	uint32_t actions, protocol;
	char *symlist[SMFIM_COUNT];
	item *items;
	size_t n_items, cap_items, pos;
	char waiting;             /* the command whose answer we wait for, or 0 */
	bool running;
	bool body_skip;           /* SMFIR_SKIP: no more body chunks */
	milter_done_fn *done;
	void *arg;
	char *error;
	char *reply;
	milter_mod *mods;
	size_t n_mods, mods_bytes;
	bool *gone;               /* set when c is freed under read_input */
};

const char *milter_result_name(milter_result r)
{
	static const char *const names[] = {"continue", "accept", "reject", "tempfail", "replycode", "discard",
	                                    "failed"};
	return names[r];
}

static void clear_items(milter_conn *c)
{
	for (size_t i = 0; i < c->n_items; i++) {
		free(c->items[i].data);
		strlist_free(&c->items[i].pairs);
	}
	c->n_items = c->pos = 0;
}

static void arm(milter_conn *c, int seconds)
{
	struct timeval tv = {seconds, 0};
	evtimer_add(c->timer, &tv);
}

/* The stage is over: done is the last thing that touches c. */
static void finish(milter_conn *c, milter_result res)
{
	clear_items(c);
	c->waiting = 0;
	c->body_skip = false;
	if (c->state == C_READY)
		evtimer_del(c->timer);
	if (!c->running)
		return;
	c->running = false;
	c->done(c->arg, res);
}

static void fail(milter_conn *c, const char *why)
{
	if (c->state == C_FAILED)
		return;
	c->state = C_FAILED;
	free(c->error);
	c->error = xstrdup(why);
	evtimer_del(c->timer);
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	finish(c, MILTER_FAILED);
}

static void send_packet(milter_conn *c, char cmd, const void *data, size_t len)
{
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	milter_put(&out, cmd, data, len);
	bufferevent_write(c->bev, out.data, out.len);
	buf_free(&out);
}

static bool item_sent(const milter_conn *c, const item *it)
{
	if (it->step != 0 && (c->protocol & it->step))
		return false;
	return !(it->cmd == SMFIC_BODY && c->body_skip);
}

static bool item_answered(const milter_conn *c, const item *it)
{
	if (it->cmd == SMFIC_ABORT || it->cmd == SMFIC_MACRO || it->cmd == SMFIC_QUIT || it->cmd == SMFIC_QUIT_NC)
		return false;
	return !(it->noreply != 0 && (c->protocol & it->noreply));
}

static void send_macros(milter_conn *c, const item *m)
{
	const char *list = c->symlist[m->mst];
	const char **pairs = xcalloc(m->pairs.n + 1, sizeof(*pairs));
	size_t n = 0;
	for (size_t i = 0; i + 1 < m->pairs.n; i += 2)
		if (milter_macro_wanted(list, m->pairs.items[i])) {
			pairs[2 * n] = m->pairs.items[i];
			pairs[2 * n + 1] = m->pairs.items[i + 1];
			n++;
		}
	if (n > 0) {
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		milter_put_macros(&out, m->data[0], pairs, n);
		bufferevent_write(c->bev, out.data, out.len);
		buf_free(&out);
	}
	free(pairs);
}

/* Send queued items until one needs an answer; finish when none is left. */
static void pump(milter_conn *c)
{
	while (c->waiting == 0 && c->pos < c->n_items) {
		item *it = &c->items[c->pos++];
		if (it->cmd == SMFIC_MACRO) {
			if (c->pos < c->n_items && item_sent(c, &c->items[c->pos]))
				send_macros(c, it);
			continue;
		}
		if (!item_sent(c, it))
			continue;
		send_packet(c, it->cmd, it->data, it->len);
		if (item_answered(c, it)) {
			c->waiting = it->cmd;
			arm(c, c->def->timeout);
		}
	}
	if (c->waiting == 0)
		finish(c, MILTER_CONTINUE);
}

static void negotiated(milter_conn *c, const milter_reply *r)
{
	if (r->version < 2 || r->version > MILTER_VERSION) {
		fail(c, "the filter speaks a milter protocol version other than 2 to 6");
		return;
	}
	/* what a filter asks beyond our offer it does not get (as Postfix
	 * does): a change it then sends anyway breaks the protocol */
	c->actions = r->actions & MILTER_ACTIONS_OFFERED;
	c->protocol = r->protocol & MILTER_PROTO_OFFERED;
	for (int i = 0; i < SMFIM_COUNT; i++)
		c->symlist[i] = r->symlist[i] ? xstrdup(r->symlist[i]) : NULL;
	c->state = C_READY;
	evtimer_del(c->timer);
	if (c->running)
		pump(c);
}

/* The action flag a change needs. */
static uint32_t action_of(char cmd)
{
	switch (cmd) {
	case SMFIR_ADDHEADER: return SMFIF_ADDHDRS;
	case SMFIR_INSHEADER: return SMFIF_ADDHDRS;
	case SMFIR_CHGHEADER: return SMFIF_CHGHDRS;
	case SMFIR_REPLBODY: return SMFIF_CHGBODY;
	case SMFIR_ADDRCPT: return SMFIF_ADDRCPT;
	case SMFIR_ADDRCPT_PAR: return SMFIF_ADDRCPT_PAR;
	case SMFIR_DELRCPT: return SMFIF_DELRCPT;
	case SMFIR_CHGFROM: return SMFIF_CHGFROM;
	case SMFIR_QUARANTINE: return SMFIF_QUARANTINE;
	default: return 0;
	}
}

static void keep_mod(milter_conn *c, char cmd, const char *data, size_t len)
{
	if (c->waiting != SMFIC_BODYEOB) {
		fail(c, "the filter asked for a message change before the end of the message");
		return;
	}
	if ((c->actions & action_of(cmd)) == 0) {
		fail(c, "the filter asked for a message change it did not negotiate");
		return;
	}
	if (len > MILTER_MAX_MODS - c->mods_bytes) {
		fail(c, "the filter's message changes pass 64 MiB");
		return;
	}
	c->mods = xrealloc(c->mods, (c->n_mods + 1) * sizeof(*c->mods));
	milter_mod *m = &c->mods[c->n_mods++];
	m->cmd = cmd;
	m->len = len;
	m->data = xmalloc(len + 1);
	memcpy(m->data, data, len);
	m->data[len] = '\0';
	c->mods_bytes += len;
	arm(c, c->def->timeout);
}

/* One whole packet from the filter. */
static void on_packet(milter_conn *c, char cmd, const char *data, size_t len)
{
	milter_reply r;
	const char *why;
	if (!milter_reply_parse(cmd, data, len, &r, &why)) {
		fail(c, why);
		return;
	}
	if (c->state == C_NEGOTIATING) {
		if (cmd == SMFIC_OPTNEG)
			negotiated(c, &r);
		else
			fail(c, "the filter did not answer the option negotiation");
		return;
	}
	if (c->waiting == 0) {
		fail(c, "the filter answered when no answer was due");
		return;
	}
	if (action_of(cmd) != 0) {
		keep_mod(c, cmd, data, len);
		return;
	}
	switch (cmd) {
	case SMFIR_PROGRESS:
		arm(c, c->def->timeout);
		return;
	case SMFIR_SKIP:
		if (c->waiting == SMFIC_BODY && (c->protocol & SMFIP_SKIP))
			c->body_skip = true;
		/* otherwise a skip is a continue */
		__attribute__((fallthrough));
	case SMFIR_CONTINUE:
		c->waiting = 0;
		evtimer_del(c->timer);
		pump(c);
		return;
	case SMFIR_ACCEPT: finish(c, MILTER_ACCEPT); return;
	case SMFIR_REJECT: finish(c, MILTER_REJECT); return;
	case SMFIR_TEMPFAIL: finish(c, MILTER_TEMPFAIL); return;
	case SMFIR_DISCARD: finish(c, MILTER_DISCARD); return;
	case SMFIR_REPLYCODE:
		free(c->reply);
		c->reply = xstrdup(r.text);
		finish(c, MILTER_REPLYCODE);
		return;
	case SMFIR_SHUTDOWN:
	case SMFIR_CONN_FAIL:
		fail(c, "the filter shut the connection down");
		return;
	default:
		fail(c, "the filter sent a reply that has no place here");
		return;
	}
}

/* Feed what arrived; stops at the first packet that ends a stage, since
 * done may free c (what is left is read at the next stage). */
static void read_input(milter_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (c->state != C_FAILED && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		size_t used = 0;
		milter_read_status st = milter_reader_feed(&c->rd, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (st == MILTER_READ_TOO_BIG) {
			fail(c, "the filter sent a packet longer than 1 MiB");
			return;
		}
		if (st == MILTER_READ_EMPTY) {
			fail(c, "the filter sent an empty packet");
			return;
		}
		if (st != MILTER_READ_PACKET)
			continue;
		size_t len;
		const char *data = milter_reader_data(&c->rd, &len);
		bool was_running = c->running, gone = false;
		c->gone = &gone;
		on_packet(c, milter_reader_cmd(&c->rd), data, len);
		if (gone)
			return;
		c->gone = NULL;
		if (was_running && !c->running)
			return; /* the stage is over: the rest waits for the next */
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	read_input(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	milter_conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		/* The steps a filter asks no reply for (rspamd: all before the
		 * end of the message) go out as small writes that nothing answers;
		 * with Nagle on, each one after an unanswered one would wait for
		 * the filter's delayed ACK, 40 ms a message.  Best effort: a
		 * socket without the option only loses speed. */
		int one = 1;
		if (c->def->sa.ss_family == AF_INET || c->def->sa.ss_family == AF_INET6)
			(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->state = C_NEGOTIATING;
		buf out;
		buf_init(&out, BUF_UNBOUNDED);
		milter_put_optneg(&out, MILTER_ACTIONS_OFFERED, MILTER_PROTO_OFFERED);
		bufferevent_write(c->bev, out.data, out.len);
		buf_free(&out);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		fail(c, "the filter closed the connection");
		return;
	}
	char why[160];
	int e = EVUTIL_SOCKET_ERROR();
	snprintf(why, sizeof(why), "%s: %s", c->state == C_CONNECTING ? "cannot connect" : "connection failed",
	         e ? strerror(e) : "error");
	fail(c, why);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	milter_conn *c = arg;
	char why[120];
	if (c->state == C_READY)
		snprintf(why, sizeof(why), "the filter did not answer within %d s", c->def->timeout);
	else
		snprintf(why, sizeof(why), "cannot connect and negotiate within %d s", c->def->connect_timeout);
	fail(c, why);
}

milter_conn *milter_conn_open(struct event_base *base, const milter_def *def, const char *sid)
{
	milter_conn *c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->def = def;
	snprintf(c->sid, sizeof(c->sid), "%s", sid);
	milter_reader_init(&c->rd);
	c->timer = evtimer_new(base, on_timer, c);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm(c, def->connect_timeout);
	if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&def->sa, (int)def->sa_len) != 0) {
		char why[160];
		snprintf(why, sizeof(why), "cannot connect: %s", strerror(errno));
		fail(c, why);
	}
	return c;
}

void milter_conn_free(milter_conn **cp)
{
	milter_conn *c = *cp;
	if (c == NULL)
		return;
	if (c->gone != NULL)
		*c->gone = true;
	if (c->state == C_READY && c->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		/* goodbye, without waiting: five bytes fit any socket buffer */
		static const char quit[5] = {0, 0, 0, 1, SMFIC_QUIT};
		(void)!send(bufferevent_getfd(c->bev), quit, sizeof(quit), MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	event_free(c->timer);
	clear_items(c);
	free(c->items);
	milter_reader_free(&c->rd);
	for (int i = 0; i < SMFIM_COUNT; i++)
		free(c->symlist[i]);
	milter_conn_clear_mods(c);
	free(c->error);
	free(c->reply);
	free(c);
	*cp = NULL;
}

static item *add_item(milter_conn *c)
{
	if (c->n_items == c->cap_items) {
		c->cap_items = c->cap_items ? 2 * c->cap_items : 16;
		c->items = xrealloc(c->items, c->cap_items * sizeof(*c->items));
	}
	item *it = &c->items[c->n_items++];
	memset(it, 0, sizeof(*it));
	strlist_init(&it->pairs);
	return it;
}

void milter_stage_add(milter_conn *c, char cmd, const void *data, size_t len, uint32_t step, uint32_t noreply)
{
	if (c->state == C_FAILED)
		return;
	item *it = add_item(c);
	it->cmd = cmd;
	it->data = xmalloc(len + 1);
	if (len > 0)
		memcpy(it->data, data, len);
	it->len = len;
	it->step = step;
	it->noreply = noreply;
}

void milter_stage_macros(milter_conn *c, char cmd, milter_macro_stage st, const char *const *pairs, size_t n)
{
	if (c->state == C_FAILED)
		return;
	item *it = add_item(c);
	it->cmd = SMFIC_MACRO;
	it->data = xmalloc(2);
	it->data[0] = cmd;
	it->data[1] = '\0';
	it->mst = st;
	for (size_t i = 0; i < n; i++)
		if (pairs[2 * i + 1] != NULL) {
			strlist_add(&it->pairs, pairs[2 * i]);
			strlist_add(&it->pairs, pairs[2 * i + 1]);
		}
}

void milter_stage_run(milter_conn *c, milter_done_fn *done, void *arg)
{
	c->done = done;
	c->arg = arg;
	c->running = true;
	if (c->state == C_FAILED) {
		finish(c, MILTER_FAILED);
		return;
	}
	if (c->state == C_READY) {
		pump(c);
		if (c->running && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			read_input(c);
	}
}

uint32_t milter_conn_protocol(const milter_conn *c)
{
	return c->protocol;
}

uint32_t milter_conn_actions(const milter_conn *c)
{
	return c->actions;
}

const char *milter_conn_error(const milter_conn *c)
{
	return c->error;
}

const char *milter_conn_reply(const milter_conn *c)
{
	return c->reply;
}

const milter_mod *milter_conn_mods(const milter_conn *c, size_t *n_r)
{
	*n_r = c->n_mods;
	return c->mods;
}

void milter_conn_clear_mods(milter_conn *c)
{
	for (size_t i = 0; i < c->n_mods; i++)
		free(c->mods[i].data);
	free(c->mods);
	c->mods = NULL;
	c->n_mods = c->mods_bytes = 0;
}
