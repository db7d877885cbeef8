/* commands.c — the ManageSieve command table (RFC 5804 §2) and the
 * commands that are not about scripts: CAPABILITY, STARTTLS, AUTHENTICATE
 * (PLAIN and LOGIN, as POP3 and IMAP: auth/sasl.h, auth/login.h with its
 * throttle and log line; never before TLS), LOGOUT, NOOP, UNAUTHENTICATE.
 * Before login only CAPABILITY, STARTTLS, AUTHENTICATE, LOGOUT and NOOP
 * are served. */
#include "managesieve/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/login.h"
#include "auth/sasl.h"
#include "delivery/maildir.h"
#include "lib/log.h"
#include "store/sievestore.h"
#include "metrics/metrics.h"

#define IMPLEMENTATION "yubin"
/* The Sieve extensions of src/sieve (RFC 5804 §1.7: the "require" names). */
#define SIEVE_EXTENSIONS                                                                           \
	"fileinto reject ereject envelope vacation imap4flags copy mailbox variables body relational " \
	"comparator-i;ascii-numeric subaddress date index include encoded-character"
#define MAXREDIRECTS "4"

static void cap_line(msieve_session *s, const char *name, const char *value)
{
	msieve_put_string(s->c, name, strlen(name));
	if (value != NULL) {
		conn_puts(s->c, " ");
		msieve_put_string(s->c, value, strlen(value));
	}
	conn_puts(s->c, "\r\n");
}

void msieve_capabilities(msieve_session *s)
{
	bool tls = conn_is_tls(s->c);
	cap_line(s, "IMPLEMENTATION", IMPLEMENTATION);
	/* no password in the clear: no mechanism is offered before TLS */
	cap_line(s, "SASL", tls ? "PLAIN LOGIN" : "");
	cap_line(s, "SIEVE", SIEVE_EXTENSIONS);
	if (!tls)
		cap_line(s, "STARTTLS", NULL);
	cap_line(s, "MAXREDIRECTS", MAXREDIRECTS);
	if (s->state == MS_AUTH)
		cap_line(s, "OWNER", s->account);
	cap_line(s, "VERSION", "1.0");
}

void msieve_greet(msieve_session *s)
{
	msieve_capabilities(s);
	char text[300];
	snprintf(text, sizeof text, "%s ManageSieve ready", s->srv->cfg->hostname);
	msieve_ok(s, NULL, text);
}

char *msieve_name_arg(msieve_session *s, const msieve_arg *a)
{
	const char *why;
	if (a->type != MSIEVE_ARG_STRING) {
		msieve_bad(s, "A script name is a string");
		return NULL;
	}
	if (!sievestore_name_valid(a->str, a->len, &why)) {
		msieve_no(s, NULL, why);
		return NULL;
	}
	return xstrndup(a->str, a->len);
}

/* ---- any state ---- */

static void cmd_capability(msieve_session *s, msieve_cmd *cmd)
{
	msieve_capabilities(s);
	msieve_ok(s, NULL, "Capability completed");
}

static void cmd_logout(msieve_session *s, msieve_cmd *cmd)
{
	/* RFC 5804 §2.3 with erratum 7825: OK, then the server closes */
	msieve_ok(s, NULL, "Logout completed");
	conn_close_after(s->c);
}

static void cmd_noop(msieve_session *s, msieve_cmd *cmd)
{
	if (cmd->nargs > 1 || (cmd->nargs == 1 && cmd->args[0].type != MSIEVE_ARG_STRING)) {
		msieve_bad(s, "NOOP takes at most one string");
		return;
	}
	if (cmd->nargs == 0) {
		msieve_ok(s, NULL, "Done");
		return;
	}
	conn_puts(s->c, "OK (TAG ");
	msieve_put_string(s->c, cmd->args[0].str, cmd->args[0].len);
	conn_puts(s->c, ") \"Done\"\r\n");
}

static void cmd_starttls(msieve_session *s, msieve_cmd *cmd)
{
	if (conn_is_tls(s->c)) {
		msieve_bad(s, "TLS is already active");
		return;
	}
	if (s->state != MS_NOTAUTH) {
		msieve_bad(s, "STARTTLS only before authentication");
		return;
	}
	msieve_ok(s, NULL, "Begin TLS negotiation now");
	conn_start_tls(s->c);
	s->caps_after_tls = true;
}

/* ---- logging in ---- */

static void login_done(void *arg, login_result r, const char *user, const char *app)
{
	msieve_session *s = arg;
	if (r == LOGIN_OK) {
		char *root = config_path_mail(s->srv->cfg);
		char *maildir = maildir_path(root, user);
		s->dir = sievestore_dir(maildir);
		free(maildir);
		free(root);
		s->account = xstrdup(user);
		s->state = MS_AUTH;
		conn_set_deadline(s->c, 0);
		/* the larger bounds from the next command on */
		msieve_reader_set_limits(&s->rd, MSIEVE_LINE_MAX,
		                         (size_t)s->srv->cfg->managesieve.max_script_size);
		msieve_ok(s, NULL, "Logged in");
	} else {
		metrics_auth_failed(METRICS_MANAGESIEVE);
		s->errors++;
		if (r == LOGIN_LOCKED)
			msieve_no(s, "TRYLATER", "Too many failed logins; try again later");
		else
			msieve_no(s, NULL, "Authentication failed");
	}
	conn_resume(s->c);
}

/* Check user and password (both taken over). */
static void log_in(msieve_session *s, char *user, char *password)
{
	s->sasl = MS_SASL_NONE;
	conn_pause(s->c);
	login_req req = {.protocol = "managesieve", .sid = s->sid, .ip = s->ip};
	login_check(&s->srv->login, &req, user, password, login_done, s);
}

static void sasl_plain(msieve_session *s, const msieve_arg *a)
{
	char *b64 = xstrndup(a->str, a->len);
	char *user, *pass;
	sasl_status st = sasl_plain_parse(b64, &user, &pass);
	str_secure_free(b64);
	if (st != SASL_OK) {
		s->sasl = MS_SASL_NONE;
		msieve_bad(s, st == SASL_BAD_BASE64 ? "Invalid base64" : "Authentication failed");
		return;
	}
	log_in(s, user, pass);
}

/* LOGIN: the user name (then the password is asked for) or the password. */
static void sasl_login(msieve_session *s, const msieve_arg *a)
{
	char *b64 = xstrndup(a->str, a->len);
	char *field;
	sasl_status st = sasl_login_field(b64, &field);
	str_secure_free(b64);
	if (st != SASL_OK) {
		s->sasl = MS_SASL_NONE;
		str_secure_free(s->sasl_user);
		s->sasl_user = NULL;
		msieve_bad(s, "Invalid base64");
		return;
	}
	if (s->sasl != MS_SASL_LOGIN_PASS) {
		str_secure_free(s->sasl_user);
		s->sasl_user = field;
		s->sasl = MS_SASL_LOGIN_PASS;
		conn_puts(s->c, "\"UGFzc3dvcmQ6\"\r\n"); /* "Password:" */
		return;
	}
	char *user = s->sasl_user;
	s->sasl_user = NULL;
	log_in(s, user, field);
}

static void cmd_authenticate(msieve_session *s, msieve_cmd *cmd)
{
	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != MSIEVE_ARG_STRING ||
	    (cmd->nargs == 2 && cmd->args[1].type != MSIEVE_ARG_STRING)) {
		msieve_bad(s, "AUTHENTICATE needs a mechanism and may have an initial response");
		return;
	}
	const msieve_arg *mech = &cmd->args[0];
	bool plain = mech->len == 5 && strncasecmp(mech->str, "PLAIN", 5) == 0;
	bool login = mech->len == 5 && strncasecmp(mech->str, "LOGIN", 5) == 0;
	if (!plain && !login) {
		msieve_bad(s, "Unsupported authentication mechanism");
		return;
	}
	if (!conn_is_tls(s->c)) {
		msieve_no(s, "ENCRYPT-NEEDED", "Use STARTTLS first; no password in the clear");
		s->errors++;
		return;
	}
	s->sasl = plain ? MS_SASL_PLAIN : MS_SASL_LOGIN_USER;
	if (cmd->nargs == 2) {
		if (plain)
			sasl_plain(s, &cmd->args[1]);
		else
			sasl_login(s, &cmd->args[1]);
		return;
	}
	conn_puts(s->c, plain ? "\"\"\r\n" : "\"VXNlcm5hbWU6\"\r\n"); /* "Username:" */
}

void msieve_sasl_response(msieve_session *s, msieve_cmd *resp)
{
	const msieve_arg *a = &resp->args[0];
	if (a->len == 1 && a->str[0] == '*' && !a->literal) {
		s->sasl = MS_SASL_NONE;
		str_secure_free(s->sasl_user);
		s->sasl_user = NULL;
		msieve_bad(s, "Authentication cancelled");
		return;
	}
	if (s->sasl == MS_SASL_PLAIN)
		sasl_plain(s, a);
	else
		sasl_login(s, a);
}

static void cmd_unauthenticate(msieve_session *s, msieve_cmd *cmd)
{
	free(s->account);
	free(s->dir);
	s->account = s->dir = NULL;
	s->state = MS_NOTAUTH;
	msieve_reader_set_limits(&s->rd, MSIEVE_PREAUTH_LINE_MAX, MSIEVE_PREAUTH_LITERAL_MAX);
	conn_set_deadline(s->c, s->srv->cfg->limits.login_deadline);
	msieve_ok(s, NULL, "Back to the non-authenticated state");
}

/* ---- dispatch ---- */

typedef struct command {
	const char *name;
	int min_args, max_args;
	bool before_login;   /* allowed before authentication */
	bool after_login;    /* allowed after */
	void (*run)(msieve_session *s, msieve_cmd *cmd);
} command;

static const command commands[] = {
	{"CAPABILITY", 0, 0, true, true, cmd_capability},
	{"LOGOUT", 0, 0, true, true, cmd_logout},
	{"NOOP", 0, 1, true, true, cmd_noop},
	{"STARTTLS", 0, 0, true, true, cmd_starttls},
	{"AUTHENTICATE", 1, 2, true, false, cmd_authenticate},
	{"UNAUTHENTICATE", 0, 0, false, true, cmd_unauthenticate},
	{"HAVESPACE", 2, 2, false, true, msieve_cmd_havespace},
	{"PUTSCRIPT", 2, 2, false, true, msieve_cmd_putscript},
	{"CHECKSCRIPT", 1, 1, false, true, msieve_cmd_checkscript},
	{"LISTSCRIPTS", 0, 0, false, true, msieve_cmd_listscripts},
	{"SETACTIVE", 1, 1, false, true, msieve_cmd_setactive},
	{"GETSCRIPT", 1, 1, false, true, msieve_cmd_getscript},
	{"DELETESCRIPT", 1, 1, false, true, msieve_cmd_deletescript},
	{"RENAMESCRIPT", 2, 2, false, true, msieve_cmd_renamescript},
};

void msieve_command(msieve_session *s, msieve_cmd *cmd)
{
	const command *c = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strlen(commands[i].name) == cmd->verb_len &&
		    strncasecmp(commands[i].name, cmd->verb, cmd->verb_len) == 0)
			c = &commands[i];
	if (c == NULL) {
		msieve_bad(s, "Unknown command");
		return;
	}
	bool authed = s->state == MS_AUTH;
	if (!authed && !c->before_login) {
		msieve_bad(s, "Authenticate first");
		return;
	}
	if (authed && !c->after_login) {
		msieve_bad(s, "Already authenticated");
		return;
	}
	if (cmd->nargs < c->min_args || cmd->nargs > c->max_args) {
		char text[96];
		snprintf(text, sizeof text, "Wrong number of arguments for %s", c->name);
		msieve_bad(s, text);
		return;
	}
	c->run(s, cmd);
}
