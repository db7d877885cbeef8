/* session.c — one SMTP session over its connection (net/conn.c): start
 * and end, the input loop that hands command lines to commands.c and data
 * to data.c, the limits on line length and errors, the timeouts, and the
 * replies.  Command meaning lives in commands.c and data.c. */
#include "smtp/session.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "net/roles.h"
#include "smtp/pol_steps.h"

static bool on_input(void *arg, struct evbuffer *in);
static void after_input(void *arg);
static void on_timeout(void *arg);
static void on_deadline(void *arg);
static void on_gone(void *arg);

static const conn_handler handler = {
	.input = on_input, .after_input = after_input, .timeout = on_timeout, .gone = on_gone,
	.deadline = on_deadline};

static void session_free(smtp_session *s)
{
	txn_reset(s);
	pol_milter_session_end(s);
	pol_greet_cancel(s);
	free(s->pol.client_name);
	pol_dnsbl_free(s);
	policy_verdict_free(&s->pol.conn_actions);
	strlist_free(&s->txn.rcpt_cmds);
	free(s->helo);
	free(s->auth_user);
	free(s->auth_app);
	str_secure_free(s->auth_login_user);
	if (s->api != NULL) {
		free(s->api->listener);
		free(s->api->apikey);
		strlist_free(&s->api->domains);
		free(s->api);
	}
	conn_free(s->c);
	server_session_closed(s->srv, &s->srv->smtp_sessions, &s->link, s->sid, s->ip);
	free(s);
}

static void on_gone(void *arg)
{
	session_free(arg);
}

static void after_input(void *arg)
{
	smtp_session *s = arg;
	const config_limits *l = &s->srv->cfg->limits;
	bool data = s->phase == PH_DATA || s->phase == PH_BDAT;
	conn_set_timeout(s->c, data ? l->data_timeout : l->command_timeout);
}

static void on_timeout(void *arg)
{
	session_close_with(arg, RPL_TIMEOUT);
}

static void on_deadline(void *arg)
{
	session_close_with(arg, RPL_LOGIN_DEADLINE);
}

void smtp_session_start(server *srv, const config_listener *lst, int fd, const char *ip)
{
	smtp_session *s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->lst = lst;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	server_session_opened(srv, &srv->smtp_sessions, &s->link, s, lst, ip, s->sid);
	strlist_init(&s->txn.rcpt_cmds);
	s->c = conn_new(srv->base, srv->tls, fd, server_role_implicit_tls(lst->role), s->sid, ip, &handler, s);
	if (s->c == NULL) {
		session_free(s);
		return;
	}
	after_input(s);
	/* submission: a connection that has not logged in within the deadline
	 * goes, however busily it trickles (port 25 has no login) */
	if (lst->role != ROLE_SMTP)
		conn_set_deadline(s->c, srv->cfg->limits.login_deadline);
	session_open(s);
	conn_flush(s->c);
}

/* The internal sessions' listener: the submission role, so that they get
 * its policy (rules, milters, rate limits) exactly as SMTP submission. */
static const config_listener internal_listener = {.role = ROLE_SUBMISSION, .address = "internal"};

void smtp_session_start_internal(server *srv, struct bufferevent *bev, const char *ip, const smtp_identity *id)
{
	smtp_session *s = xcalloc(1, sizeof(*s));
	s->srv = srv;
	s->lst = &internal_listener;
	snprintf(s->ip, sizeof s->ip, "%s", ip);
	s->api = xcalloc(1, sizeof(*s->api));
	s->api->listener = xstrdup(id->listener);
	s->api->apikey = xstrdup(id->apikey);
	strlist_init(&s->api->domains);
	for (size_t i = 0; i < id->domains.n; i++)
		strlist_add(&s->api->domains, id->domains.items[i]);
	s->auth_user = xasprintf("apikey:%s", id->apikey);
	server_session_opened(srv, &srv->smtp_sessions, &s->link, s, s->lst, ip, s->sid);
	strlist_init(&s->txn.rcpt_cmds);
	s->c = conn_new_paired(srv->base, bev, s->sid, ip, &handler, s);
	log_event(LOG_LVL_INFO, "login", "sid=%s user=%s listener=%s", s->sid, s->auth_user, s->api->listener);
	after_input(s);
	session_open(s);
	conn_flush(s->c);
}

accounts_status smtp_may_send_as(smtp_session *s, const char *address)
{
	if (s->api == NULL)
		return accounts_user_may_send_as(s->srv->acc, s->auth_user, address);
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return ACC_NOT_FOUND;
	for (size_t i = 0; i < s->api->domains.n; i++)
		if (str_ascii_ieq(at + 1, s->api->domains.items[i]))
			return ACC_OK;
	return ACC_NOT_FOUND;
}

void session_reply_text(smtp_session *s, int code, const char *esc, const char *text)
{
	buf b;
	buf_init(&b, REPLY_TEXT_MAX);
	reply_append_text(&b, code, esc, text);
	conn_write(s->c, b.data, b.len);
	buf_free(&b);
	if (code >= 400)
		s->errors++;
}

void session_reply(smtp_session *s, smtp_reply_id id)
{
	const smtp_reply *r = reply_get(id);
	session_reply_text(s, r->code, r->esc, r->text);
}

void session_flush(smtp_session *s)
{
	conn_flush(s->c);
}

void session_close_with(smtp_session *s, smtp_reply_id id)
{
	session_reply(s, id);
	conn_close_after(s->c);
}

void session_pause(smtp_session *s)
{
	conn_pause(s->c);
}

void session_resume(smtp_session *s)
{
	conn_resume(s->c);
}

const char *session_tls_version(smtp_session *s)
{
	return conn_tls_version(s->c);
}

const char *session_tls_cipher(smtp_session *s)
{
	return conn_tls_cipher(s->c);
}

void session_start_tls(smtp_session *s)
{
	conn_start_tls(s->c);
}

/* One unit of input: a command line, a SASL response, or DATA/BDAT bytes. */
static bool on_input(void *arg, struct evbuffer *in)
{
	smtp_session *s = arg;
	if (s->phase == PH_DATA || s->phase == PH_BDAT)
		return data_consume(s, in);
	if (s->srv->stopping) {
		/* a command after the stop began (pipelined, or sent after a 250
		 * that finished the transaction in flight): nothing new starts */
		session_close_with(s, RPL_SHUTDOWN);
		return false;
	}
	char *line = NULL;
	int r = conn_read_line(s->c, in, (size_t)s->srv->cfg->limits.line_length, &line);
	if (r == 0)
		return false;
	if (r < 0) {
		session_close_with(s, RPL_LINE_TOO_LONG);
		return false;
	}
	if (r == 2) {
		if (s->phase == PH_AUTH) {
			s->phase = PH_COMMAND;
			s->auth = AUTH_NONE;
		}
		session_reply(s, RPL_BARE_EOL_CMD);
	} else if (s->phase == PH_AUTH) {
		cmd_auth_response(s, line);
	} else {
		cmd_dispatch(s, line);
	}
	explicit_bzero(line, strlen(line)); /* may have held a password */
	free(line);
	if (!conn_is_closing(s->c) && s->errors >= s->srv->cfg->limits.errors)
		session_close_with(s, RPL_TOO_MANY_ERRORS);
	return true;
}

void smtp_sessions_drain(server *srv, bool force)
{
	for (session_link *l = srv->smtp_sessions; l != NULL; l = l->next) {
		smtp_session *s = l->owner;
		bool boundary = s->phase == PH_COMMAND || s->phase == PH_AUTH;
		if (!conn_is_closing(s->c) && !conn_is_busy(s->c) && (boundary || force))
			session_close_with(s, RPL_SHUTDOWN);
	}
}

void smtp_sessions_free(server *srv)
{
	while (srv->smtp_sessions != NULL)
		session_free(srv->smtp_sessions->owner);
}
