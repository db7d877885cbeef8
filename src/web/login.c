/* login.c — logging in to the dashboard and out (see web.h).  The
 * password is checked as every protocol checks it (auth/login.h: on a
 * worker, behind the throttle, with the growing delay after failures), and
 * only the account's own password opens a session, never an app password.
 * Every account gets one; administrators (web.admins) start at the queue,
 * others at their own page.  The log-in form carries a
 * token that must match a cookie set with it (a log-in CSRF guard: another
 * site cannot log a browser in to an account of its choosing).  Must not
 * render any other page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "metrics/metrics.h"
#include "web/html.h"
#include "web/page.h"

#define USER_MAX 320
#define PASSWORD_MAX 1024

static void cookie(http_req *r, const char *name, const char *value, int max_age)
{
	char *c = xasprintf("%s=%s; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d", name, value,
	                    max_age);
	http_add_header(r, "Set-Cookie", c);
	free(c);
}

static void login_page(http_req *r, int status, const char *token, const char *user, const char *error)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	html_page_begin(&b, "Log in", NULL, NULL, NULL, false);
	if (error != NULL)
		html_printf(&b, "<p class=\"error\">%s</p>\n", error);
	html_printf(&b, "<form class=\"login\" method=\"post\" action=\"/login\">"
	            "<input type=\"hidden\" name=\"token\" value=\"%s\">"
	            "<label>Account<input type=\"email\" name=\"user\" autocomplete=\"username\" required "
	            "maxlength=\"320\" value=\"%s\"></label>", token, user ? user : "");
	BUF_PUTS(&b, "<label>Password<input type=\"password\" name=\"password\" "
	         "autocomplete=\"current-password\" required maxlength=\"1024\"></label>"
	         "<button type=\"submit\" class=\"primary\">Log in</button></form>\n"
	         "<p class=\"muted\">Every mail account, with its own password (app passwords are for "
	         "mail programs only).</p>\n");
	html_page_end(&b);
	web_reply_page(r, status, &b);
}

void web_get_login(http_req *r)
{
	const web_session *s = web_session_of(r);
	if (s != NULL) {
		web_security_headers(r);
		http_redirect(r, web_home(r, s->user));
		return;
	}
	char token[WEB_TOKEN_HEX + 1];
	if (!web_token_new(token)) {
		web_reply_message(r, 503, "Not available now", "No random numbers to be had: try again shortly.");
		return;
	}
	cookie(r, WEB_LOGIN_COOKIE, token, 3600);
	login_page(r, 200, token, NULL, NULL);
}

typedef struct login_wait {
	http_req *r;
	char *token; /* the form's token, for the page shown again after a failure */
} login_wait;

static void on_checked(void *arg, login_result res, const char *user, const char *app)
{
	(void)app; /* always NULL: the check was for the account's password only */
	login_wait *lw = arg;
	http_req *r = lw->r;
	server *srv = http_req_server(r);
	if (res != LOGIN_OK)
		metrics_auth_failed(METRICS_HTTPS);
	if (res == LOGIN_LOCKED) {
		char secs[16];
		snprintf(secs, sizeof secs, "%d", srv->cfg->auth.lockout_seconds);
		http_add_header(r, "Retry-After", secs);
		login_page(r, 429, lw->token, NULL, "Too many failed log-ins from here or for this account: "
		           "try again later.");
	} else if (res == LOGIN_FAILED) {
		login_page(r, 401, lw->token, NULL, "Wrong account or password.");
	} else {
		const web_session *s = web_sessions_create(srv->web->sessions, user, time(NULL));
		if (s == NULL) {
			web_reply_message(r, 503, "Not available now", "No random numbers to be had: try again shortly.");
		} else {
			bool admin = web_is_admin(r, user);
			log_event(LOG_LVL_INFO, "web_login", "req=%s ip=%s user=%s admin=%s result=ok", http_req_id(r),
			          http_req_ip(r), user, admin ? "yes" : "no");
			cookie(r, WEB_SESSION_COOKIE, s->id, srv->cfg->web.session_lifetime);
			cookie(r, WEB_LOGIN_COOKIE, "", 0);
			web_security_headers(r);
			http_redirect(r, web_home(r, user));
		}
	}
	free(lw->token);
	free(lw);
}

/* The server stops before the check is answered: the check is dropped. */
static void on_abort(void *arg)
{
	login_wait *lw = arg;
	free(lw->token);
	free(lw);
}

void web_post_login(http_req *r)
{
	server *srv = http_req_server(r);
	const char *user = http_req_form(r, "user"), *password = http_req_form(r, "password");
	const char *token = http_req_form(r, "token");
	char *expected = web_cookie(r, WEB_LOGIN_COOKIE);
	bool origin_ok = web_same_origin(r);
	bool token_ok = web_token_equal(expected, token);
	free(expected);
	if (!origin_ok || !token_ok) {
		log_event(LOG_LVL_WARN, "web_login", "req=%s ip=%s result=refused reason=\"%s\"", http_req_id(r),
		          http_req_ip(r), origin_ok ? "form token" : "Origin");
		web_reply_message(r, 403, "Refused", "This log-in form is out of date or did not come from this "
		                  "site: open the log-in page again.");
		return;
	}
	if (user == NULL || password == NULL || user[0] == '\0' || strlen(user) > USER_MAX ||
	    strlen(password) > PASSWORD_MAX) {
		login_page(r, 400, token, NULL, "Give your account's address and its password.");
		return;
	}
	if (srv->web == NULL) {
		web_reply_message(r, 503, "Not available now", "The dashboard is not running.");
		return;
	}
	login_wait *lw = xcalloc(1, sizeof(*lw));
	lw->r = r;
	lw->token = xstrdup(token);
	http_req_on_abort(r, on_abort, lw);
	login_req req = {.protocol = "https", .sid = http_req_id(r), .ip = http_req_ip(r), .account_only = true};
	login_check(&srv->login, &req, xstrdup(user), xstrdup(password), on_checked, lw);
}

void web_post_logout(http_req *r)
{
	web *w = http_req_server(r)->web;
	char *id = web_cookie(r, WEB_SESSION_COOKIE);
	web_sessions_remove(w->sessions, id);
	free(id);
	log_event(LOG_LVL_INFO, "web_logout", "req=%s by=%s", http_req_id(r), http_req_principal(r));
	cookie(r, WEB_SESSION_COOKIE, "", 0);
	web_security_headers(r);
	http_redirect(r, "/login");
}
