/* control.c — the control socket, both ends (see control.h).  The server
 * end reads one line per connection, answers one line and closes. */
#include "cli/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "delivery/qadmin.h"
#include "queue/qid.h"

#define REQUEST_MAX 256

struct control {
	struct evconnlistener *listener;
	outbound *ob;
	queue *q;
	char *path;
};

static char *socket_path(const config *cfg)
{
	return xasprintf("%s/control.sock", cfg->data_dir);
}

/* "flush" (every deferred message), or "<op> <qid>" with an operation of
 * delivery/qadmin.h ("flush <qid>" is retry). */
static void answer(control *c, const char *req, struct evbuffer *out)
{
	if (strcmp(req, "flush") == 0) { /* remote attempts, and local deliveries that wait */
		size_t n = outbound_flush(c->ob, NULL);
		evbuffer_add_printf(out, "ok %zu message(s) scheduled now\n", n + queue_retry_deferred(c->q));
		return;
	}
	if (strncmp(req, "tlsrpt-send ", 12) == 0) { /* TLS-RPT: `yubin tlsrpt send-now` */
		char *err = NULL;
		char *end = NULL;
		long long day = strtoll(req + 12, &end, 10);
		int n = *end == '\0' && day % 86400 == 0 ? outbound_tlsrpt_send(c->ob, (int64_t)day, &err) : -1;
		if (n < 0)
			evbuffer_add_printf(out, "error %s\n", err ? err : "bad day");
		else
			evbuffer_add_printf(out, "ok %d policy domain(s) to report on\n", n);
		free(err);
		return;
	}
	const char *sp = strchr(req, ' ');
	char name[16];
	int op = -1;
	if (sp != NULL && (size_t)(sp - req) < sizeof name && qid_valid(sp + 1)) {
		memcpy(name, req, (size_t)(sp - req));
		name[sp - req] = '\0';
		op = qadmin_op_parse(name);
	}
	if (op < 0) {
		evbuffer_add_printf(out, "error unknown request\n");
		return;
	}
	const char *qid = sp + 1;
	const char *why = qadmin_apply(c->ob, c->q, (qadmin_op)op, qid);
	if (why == NULL)
		evbuffer_add_printf(out, "ok %s %s\n", qid, qadmin_op_done((qadmin_op)op));
	else if (op == QADMIN_RETRY)
		evbuffer_add_printf(out, "error %s %s\n", qid, why);
	else
		evbuffer_add_printf(out, "error %s: %s\n", qid, why);
}

static void on_write_done(struct bufferevent *bev, void *arg)
{
	bufferevent_free(bev);
}

static void on_error(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	control *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > REQUEST_MAX)
			bufferevent_free(bev);
		return;
	}
	answer(c, line, bufferevent_get_output(bev));
	free(line);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, on_write_done, on_error, c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	                                                 BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, on_read, NULL, on_error, arg);
	struct timeval tv = {10, 0};
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

control *control_open(struct event_base *base, const config *cfg, outbound *ob, queue *q, char **err_r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *path = socket_path(cfg);
	if (strlen(path) >= sizeof sun.sun_path) {
		*err_r = xasprintf("the control socket path %s is too long", path);
		free(path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	unlink(path); /* left by an earlier run */
	mode_t old = umask(077);
	struct evconnlistener *l = evconnlistener_new_bind(
		base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
		(struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (l == NULL) {
		*err_r = xasprintf("cannot listen on %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	control *c = xcalloc(1, sizeof(*c));
	c->listener = l;
	c->ob = ob;
	c->q = q;
	c->path = path;
	evconnlistener_set_cb(l, on_accept, c);
	return c;
}

void control_close(control **cp)
{
	control *c = *cp;
	if (c == NULL)
		return;
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	free(c);
	*cp = NULL;
}

int control_request(const config *cfg, const char *request)
{
	int rc = control_try_request(cfg, request);
	if (rc == -1) {
		char *path = socket_path(cfg);
		cli_error("cannot reach the running server at %s: %s (is `yubin serve` running?)", path,
		          strerror(errno));
		free(path);
		rc = 1;
	}
	return rc;
}

int control_try_request(const config *cfg, const char *request)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char *path = socket_path(cfg);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	free(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		errno = err;
		return -1;
	}
	char req[REQUEST_MAX];
	int n = snprintf(req, sizeof req, "%s\n", request);
	char reply[512];
	size_t got = 0;
	if (write(fd, req, (size_t)n) == n) {
		ssize_t r;
		while (got + 1 < sizeof reply && (r = read(fd, reply + got, sizeof reply - 1 - got)) > 0)
			got += (size_t)r;
	}
	close(fd);
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, "ok", 2) == 0) {
		printf("%s\n", reply[2] == ' ' ? reply + 3 : "done");
		return 0;
	}
	cli_error("%s", strncmp(reply, "error ", 6) == 0 ? reply + 6 : "no answer from the server");
	return 1;
}
