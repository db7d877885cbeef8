/* commands.c — the IMAP commands by state (RFC 3501 6, RFC 9051 6):
 * any state (CAPABILITY, NOOP, LOGOUT, ID), not authenticated (STARTTLS,
 * LOGIN, AUTHENTICATE PLAIN with SASL-IR), authenticated (ENABLE,
 * NAMESPACE, LIST, LSUB, SELECT, EXAMINE, STATUS, APPEND, CREATE, DELETE,
 * RENAME, SUBSCRIBE, UNSUBSCRIBE) and selected
 * (FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, CLOSE, UNSELECT, NOOP/CHECK telling
 * of changes, and the UID forms, UID EXPUNGE included).  No password before TLS on port 143
 * (LOGINDISABLED). */
#include "imap/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/login.h"
#include "auth/sasl.h"
#include "delivery/maildir.h"
#include "imap/args.h"
#include "imap/ctxupdate.h"
#include "imap/names.h"
#include "imap/qresync.h"
#include "lib/log.h"
#include "metrics/metrics.h"

/* IMAP4rev1 and IMAP4rev2 both: a session is served as IMAP4rev1 until
 * the client sends ENABLE IMAP4rev2, as RFC 9051 asks of a server that
 * offers both. */
#define CAPS_COMMON "IMAP4rev1 IMAP4rev2 SASL-IR ID ENABLE NAMESPACE UNSELECT UIDPLUS MOVE ESEARCH SEARCHRES IDLE CONDSTORE"
/* Before login LITERAL- ({n+} up to 4096 bytes, within the 8 KiB of a
 * command then), after it LITERAL+: never both (RFC 7888 3). */
#define CAPS_PREAUTH " LITERAL-"
#define CAPS_EXT2 " LITERAL+ QRESYNC MULTIAPPEND CATENATE NOTIFY"
#define CAPS_AUTHED " SPECIAL-USE LIST-EXTENDED LIST-STATUS CHILDREN STATUS=SIZE UTF8=ACCEPT BINARY QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE"
#define CAPS_SORT " SORT SORT=DISPLAY THREAD=REFERENCES THREAD=ORDEREDSUBJECT ESORT CONTEXT=SEARCH WITHIN SAVEDATE PREVIEW"

static const char *capabilities(const imap_session *s)
{
	if (s->state != IS_NOTAUTH)
		return CAPS_COMMON CAPS_AUTHED CAPS_SORT CAPS_EXT2;
	if (!conn_is_tls(s->c))
		return CAPS_COMMON CAPS_PREAUTH " STARTTLS LOGINDISABLED";
	return CAPS_COMMON CAPS_PREAUTH " AUTH=PLAIN";
}

void imap_greet(imap_session *s)
{
	imap_untagged(s, "OK [CAPABILITY %s] %s IMAP ready", capabilities(s), s->srv->cfg->hostname);
}

/* ---- logging in ---- */

typedef struct login_wait {
	imap_session *s;
	char *tag;
} login_wait;

/* IMAP sessions logged in as user now. */
static int sessions_of(server *srv, const char *user)
{
	int n = 0;
	for (session_link *l = srv->imap_sessions; l != NULL; l = l->next) {
		const imap_session *o = l->owner;
		n += o->account != NULL && strcmp(o->account, user) == 0;
	}
	return n;
}

static void login_done(void *arg, login_result r, const char *user, const char *app)
{
	login_wait *w = arg;
	imap_session *s = w->s;
	if (r == LOGIN_OK && sessions_of(s->srv, user) >= s->srv->cfg->limits.imap_sessions_per_user) {
		log_event(LOG_LVL_WARN, "imap", "sid=%s user=%s refused=%s", s->sid, user, "sessions per user");
		imap_tagged(s, w->tag, "NO", "[LIMIT] Too many IMAP sessions for this account");
	} else if (r == LOGIN_OK) {
		char *root = config_path_mail(s->srv->cfg);
		s->maildir = maildir_path(root, user);
		free(root);
		s->account = xstrdup(user);
		s->app = app != NULL ? xstrdup(app) : NULL;
		s->state = IS_AUTH;
		conn_set_deadline(s->c, 0);
		imap_reader_limits lim = imap_reader_default_limits();
		imap_reader_set_limits(s->rd, &lim); /* the large limits from the next command on */
		imap_tagged(s, w->tag, "OK", "[CAPABILITY %s] Logged in", capabilities(s));
	} else if (r == LOGIN_LOCKED) {
		metrics_auth_failed(METRICS_IMAP);
		imap_tagged(s, w->tag, "NO", "[UNAVAILABLE] Too many failed logins; try again later");
	} else {
		metrics_auth_failed(METRICS_IMAP);
		imap_tagged(s, w->tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	}
	free(w->tag);
	free(w);
	conn_resume(s->c);
}

/* Check user and password (both taken over); replies with tag when done. */
static void log_in(imap_session *s, const char *tag, char *user, char *password)
{
	login_wait *w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->tag = xstrdup(tag);
	conn_pause(s->c);
	login_req req = {.protocol = "imap", .sid = s->sid, .ip = s->ip};
	login_check(&s->srv->login, &req, user, password, login_done, w);
}

static bool may_log_in(imap_session *s, const char *tag)
{
	if (conn_is_tls(s->c))
		return true;
	imap_tagged(s, tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first; no password in the clear");
	return false;
}

static void cmd_login(imap_session *s, const imap_command *c)
{
	const char *user, *pass;
	size_t ul, pl;
	if (c->nargs != 2 || !imap_arg_astring(c->args, &user, &ul) ||
	    !imap_arg_astring(c->args->next, &pass, &pl)) {
		imap_tagged(s, c->tag, "BAD", "LOGIN needs a user name and a password");
		return;
	}
	if (!may_log_in(s, c->tag))
		return;
	log_in(s, c->tag, xstrndup(user, ul), xstrndup(pass, pl));
}

static void sasl_plain(imap_session *s, const char *tag, const char *b64)
{
	char *user, *pass;
	sasl_status st = sasl_plain_parse(b64, &user, &pass);
	if (st != SASL_OK) {
		imap_tagged(s, tag, st == SASL_BAD_BASE64 ? "BAD" : "NO",
		            st == SASL_BAD_BASE64 ? "Invalid base64" : "[AUTHENTICATIONFAILED] Authentication failed");
		return;
	}
	log_in(s, tag, user, pass);
}

static void cmd_authenticate(imap_session *s, const imap_command *c)
{
	if (c->nargs < 1 || c->nargs > 2 || c->args->type != IMAP_ARG_ATOM) {
		imap_tagged(s, c->tag, "BAD", "AUTHENTICATE needs a mechanism");
		return;
	}
	if (!imap_arg_atom_is(c->args, "PLAIN")) {
		imap_tagged(s, c->tag, "NO", "Unsupported authentication mechanism");
		return;
	}
	if (!may_log_in(s, c->tag))
		return;
	if (c->nargs == 2) { /* SASL-IR: the response right here ("=" if empty) */
		const imap_arg *ir = c->args->next;
		if (ir->type != IMAP_ARG_ATOM) {
			imap_tagged(s, c->tag, "BAD", "The initial response must be an atom");
			return;
		}
		sasl_plain(s, c->tag, strcmp(ir->str, "=") == 0 ? "" : ir->str);
		return;
	}
	s->sasl_tag = xstrdup(c->tag);
	conn_puts(s->c, "+ \r\n");
}

void imap_sasl_response(imap_session *s, char *line)
{
	char *tag = s->sasl_tag;
	s->sasl_tag = NULL;
	if (strcmp(line, "*") == 0)
		imap_tagged(s, tag, "BAD", "Authentication cancelled");
	else
		sasl_plain(s, tag, line);
	free(tag);
}

/* ---- any state ---- */

static void cmd_id(imap_session *s, const imap_command *c)
{
	if (c->nargs != 1 || (c->args->type != IMAP_ARG_NIL && c->args->type != IMAP_ARG_LIST)) {
		imap_tagged(s, c->tag, "BAD", "ID needs a parameter list or NIL");
		return;
	}
	imap_untagged(s, "ID (\"name\" \"yubin\")");
	imap_tagged(s, c->tag, "OK", "ID completed");
}

static void cmd_logout(imap_session *s, const imap_command *c)
{
	imap_untagged(s, "BYE Logging out");
	imap_tagged(s, c->tag, "OK", "LOGOUT completed");
	conn_close_after(s->c);
}

/* ---- authenticated ---- */

/* SELECT / EXAMINE mailbox [(params)] (RFC 4466 select parameters:
 * CONDSTORE, RFC 7162 3.1.8, and QRESYNC, 3.2.5; imap/qresync.c). */
static void cmd_select(imap_session *s, const imap_command *c, bool readonly)
{
	char *name = NULL;
	const char *err = NULL;
	imap_select_params p = {0};
	bool params_ok = c->nargs == 1 ||
	                 (c->nargs == 2 && imap_select_params_parse(c->args->next, s->enabled & IMAP_ENABLED_QRESYNC,
	                                                            &p, &err));
	if (!params_ok) {
		imap_tagged(s, c->tag, "BAD", "%s",
		            err ? err : c->nargs == 0 ? "SELECT needs a mailbox name" : "Unknown SELECT parameter");
		imap_select_params_free(&p);
		return;
	}
	if (!imap_name_arg(s, c->tag, c->args, &name)) {
		imap_select_params_free(&p);
		return;
	}
	imap_select(s, c->tag, name, readonly, &p);
	free(name);
}

/* ---- dispatch ---- */

enum { ANY = 7, NOTAUTH = 1, AUTH = 2, SELECTED = 4, AUTHED = AUTH | SELECTED };

static bool in_state(imap_session *s, const imap_command *c, unsigned states)
{
	if (states & (1u << s->state))
		return true;
	imap_tagged(s, c->tag, "BAD", "%s", s->state == IS_NOTAUTH ? "Log in first"
	                                     : s->state == IS_AUTH  ? "Select a mailbox first"
	                                                            : "Not in this state");
	return false;
}

static bool no_args(imap_session *s, const imap_command *c)
{
	if (c->nargs == 0)
		return true;
	imap_tagged(s, c->tag, "BAD", "%s takes no arguments", c->name);
	return false;
}

void imap_dispatch(imap_session *s, const imap_command *c)
{
	const char *n = c->name;
	if (strcmp(n, "SEARCH") == 0) {
		if (in_state(s, c, SELECTED))
			imap_search_cmd(s, c, s->raw, s->raw_len);
	} else if (strcmp(n, "SORT") == 0 || strcmp(n, "THREAD") == 0) {
		if (in_state(s, c, SELECTED))
			(n[0] == 'S' ? imap_sort_cmd : imap_thread_cmd)(s, c, s->raw, s->raw_len);
	} else if (strcmp(n, "CANCELUPDATE") == 0) {
		if (in_state(s, c, SELECTED))
			imap_ctx_cancel_cmd(s, c);
	} else if (strcmp(n, "CAPABILITY") == 0) {
		if (no_args(s, c)) {
			imap_untagged(s, "CAPABILITY %s", capabilities(s));
			imap_tagged(s, c->tag, "OK", "CAPABILITY completed");
		}
	} else if (strcmp(n, "NOOP") == 0 || strcmp(n, "CHECK") == 0) {
		if (!no_args(s, c) || (n[0] == 'C' && !in_state(s, c, SELECTED)))
			return;
		if (s->state == IS_SELECTED)
			imap_sync(s, c->tag, n[0] == 'C' ? "CHECK" : "NOOP");
		else
			imap_tagged(s, c->tag, "OK", "NOOP completed");
	} else if (strcmp(n, "LOGOUT") == 0) {
		if (no_args(s, c))
			cmd_logout(s, c);
	} else if (strcmp(n, "ID") == 0) {
		cmd_id(s, c);
	} else if (strcmp(n, "STARTTLS") == 0) {
		if (!in_state(s, c, NOTAUTH) || !no_args(s, c))
			return;
		if (conn_is_tls(s->c)) {
			imap_tagged(s, c->tag, "BAD", "Already using TLS");
			return;
		}
		imap_tagged(s, c->tag, "OK", "Begin TLS negotiation now");
		imap_reader_reset(s->rd);
		conn_start_tls(s->c);
	} else if (strcmp(n, "LOGIN") == 0) {
		if (in_state(s, c, NOTAUTH))
			cmd_login(s, c);
	} else if (strcmp(n, "AUTHENTICATE") == 0) {
		if (in_state(s, c, NOTAUTH))
			cmd_authenticate(s, c);
	} else if (strcmp(n, "ENABLE") == 0) {
		if (in_state(s, c, AUTH)) /* before any SELECT (RFC 5161 3.1) */
			imap_enable(s, c);
	} else if (strcmp(n, "NAMESPACE") == 0) {
		if (in_state(s, c, AUTHED) && no_args(s, c)) {
			imap_untagged(s, "NAMESPACE ((\"\" \".\")) NIL NIL");
			imap_tagged(s, c->tag, "OK", "NAMESPACE completed");
		}
	} else if (strcmp(n, "LIST") == 0 || strcmp(n, "LSUB") == 0) {
		if (in_state(s, c, AUTHED))
			imap_list(s, c, n[1] == 'S');
	} else if (strcmp(n, "SELECT") == 0 || strcmp(n, "EXAMINE") == 0) {
		if (in_state(s, c, AUTHED))
			cmd_select(s, c, n[0] == 'E');
	} else if (strcmp(n, "NOTIFY") == 0) {
		if (in_state(s, c, AUTHED))
			imap_notify_cmd(s, c);
	} else if (strcmp(n, "IDLE") == 0) {
		if (in_state(s, c, AUTHED))
			imap_idle_start(s, c);
	} else if (strcmp(n, "STATUS") == 0) {
		if (in_state(s, c, AUTHED))
			imap_status(s, c);
	} else if (strcmp(n, "APPEND") == 0) {
		if (in_state(s, c, AUTHED))
			imap_append(s, c);
	} else if (strcmp(n, "SUBSCRIBE") == 0 || strcmp(n, "UNSUBSCRIBE") == 0) {
		if (in_state(s, c, AUTHED))
			imap_subscribe(s, c, n[0] == 'S');
	} else if (strcmp(n, "RENAME") == 0) {
		if (in_state(s, c, AUTHED))
			imap_rename(s, c);
	} else if (strcmp(n, "CREATE") == 0 || strcmp(n, "DELETE") == 0) {
		if (in_state(s, c, AUTHED))
			imap_create_delete(s, c, n[0] == 'C');
	} else if (strcmp(n, "GETQUOTAROOT") == 0 || strcmp(n, "GETQUOTA") == 0 || strcmp(n, "SETQUOTA") == 0) {
		if (in_state(s, c, AUTHED))
			imap_quota_cmd(s, c);
	} else if (strcmp(n, "FETCH") == 0) {
		if (in_state(s, c, SELECTED))
			imap_fetch_cmd(s, c);
	} else if (strcmp(n, "STORE") == 0) {
		if (in_state(s, c, SELECTED))
			imap_store_cmd(s, c);
	} else if (strcmp(n, "COPY") == 0 || strcmp(n, "MOVE") == 0) {
		if (in_state(s, c, SELECTED))
			imap_copy(s, c, n[0] == 'M');
	} else if (strcmp(n, "EXPUNGE") == 0 && c->uid) {
		imap_seqset set;
		const char *err = NULL;
		if (!in_state(s, c, SELECTED))
			return;
		if (c->nargs != 1 || !imap_seqset_parse_arg(c->args, &set, &err)) {
			imap_tagged(s, c->tag, "BAD", "%s", err ? err : "UID EXPUNGE needs a UID set");
			return;
		}
		imap_expunge(s, c->tag, false, &set);
		imap_seqset_free(&set);
	} else if (strcmp(n, "EXPUNGE") == 0 || strcmp(n, "CLOSE") == 0) {
		if (in_state(s, c, SELECTED) && no_args(s, c))
			imap_expunge(s, c->tag, n[0] == 'C', NULL);
	} else if (strcmp(n, "UNSELECT") == 0) {
		if (in_state(s, c, SELECTED) && no_args(s, c)) {
			imap_unselect(s);
			imap_tagged(s, c->tag, "OK", "UNSELECT completed");
		}
	} else {
		imap_tagged(s, c->tag, "BAD", "Unknown or unsupported command %s", n);
	}
}
