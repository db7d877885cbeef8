/* pg_account.c — the self-service page of the logged-in account (every
 * account, administrator or not): change its password (the current one
 * checked like a log-in, the new one twice), its app passwords (create,
 * shown once; list; revoke), its quota and what it holds, and its recent
 * log-ins.  Only ever the
 * session's own account: no request names an account.  The account
 * database is written on a worker.  Must not render any other page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "delivery/maildir.h"
#include "lib/log.h"
#include "store/quotabook.h"
#include "web/html.h"
#include "web/page.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024
/* Log-ins shown: all that are kept. */
#define LOGINS_SHOWN SELFDB_LOGINS_MAX

typedef enum account_op { OP_SHOW, OP_PASSWORD, OP_ADD, OP_REVOKE } account_op;

typedef struct account_job {
	web_job base;
	account_op op;
	char *name;         /* OP_ADD, OP_REVOKE: the app password's name */
	char *secret;       /* OP_PASSWORD: the new password; OP_ADD: the new app password (shown form) */
	char *notice;       /* what was done */
	char *error;        /* why it was not done (status set with it) */
	selfdb_apppass *apps;
	size_t n_apps;
	selfdb_login *logins;
	size_t n_logins;
	bool quota_read;    /* limits and usage below are known */
	quota_limits limits;
	uint64_t bytes, messages;
} account_job;

/* ---- on the worker ---- */

static void set_error(account_job *a, int status, const char *text)
{
	a->base.status = status;
	a->error = xstrdup(text);
}

static void change_password(account_job *a)
{
	web_job *j = &a->base;
	char *hash = password_hash(a->secret);
	char *path = config_path_db(j->srv->cfg), *err = NULL;
	accounts *acc = hash != NULL ? accounts_open(path, NULL, &err) : NULL;
	accounts_status s = acc != NULL ? accounts_user_set_hash(acc, j->user, hash) : ACC_ERROR;
	if (s == ACC_OK)
		a->notice = xstrdup("Your password is changed. Mail programs that use it need the new one; "
		                    "app passwords go on working. Your other dashboard sessions are logged out.");
	else
		j->err = xasprintf("cannot change the password: %s", acc != NULL ? accounts_last_error(acc) :
		                   err != NULL ? err : "cannot hash it");
	accounts_close(&acc);
	free(err);
	free(path);
	str_secure_free(hash);
	log_event(LOG_LVL_INFO, "web_account", "req=%s user=%s op=password result=%s", http_req_id(j->r), j->user,
	          s == ACC_OK ? "ok" : "error");
}

static void add_apppass(account_job *a)
{
	web_job *j = &a->base;
	char norm[SELFDB_APPPASS_LEN + 1];
	char *hash = NULL;
	accounts_status s = ACC_ERROR;
	if (selfdb_apppass_normalize(a->secret, norm) && (hash = password_hash(norm)) != NULL)
		s = selfdb_apppass_add(j->srv->login.self, j->user, a->name, norm, hash, time(NULL));
	explicit_bzero(norm, sizeof norm);
	str_secure_free(hash);
	log_event(LOG_LVL_INFO, "web_account", "req=%s user=%s op=apppass_add app=\"%s\" result=%d", http_req_id(j->r),
	          j->user, a->name, (int)s);
	if (s == ACC_EXISTS)
		set_error(a, 409, "You already have an app password of that name: revoke it first, or choose another.");
	else if (s == ACC_LIMIT)
		set_error(a, 409, "You have as many app passwords as an account may have: revoke one first.");
	else if (s != ACC_OK)
		j->err = xstrdup("cannot store the app password");
	if (s != ACC_OK) {
		str_secure_free(a->secret);
		a->secret = NULL;
	}
}

static void revoke_apppass(account_job *a)
{
	web_job *j = &a->base;
	accounts_status s = selfdb_apppass_revoke(j->srv->login.self, j->user, a->name);
	log_event(LOG_LVL_INFO, "web_account", "req=%s user=%s op=apppass_revoke app=\"%s\" result=%d",
	          http_req_id(j->r), j->user, a->name, (int)s);
	if (s == ACC_OK)
		a->notice = xasprintf("The app password \"%s\" is revoked: it no longer logs in.", a->name);
	else if (s == ACC_NOT_FOUND)
		set_error(a, 404, "You have no app password of that name.");
	else
		j->err = xstrdup("cannot revoke the app password");
}

/* The limits in force and what the mailbox holds (store/quotabook.h, the
 * numbers SMTP, delivery and IMAP use); a mailbox not made yet holds
 * nothing. */
static void read_quota(account_job *a)
{
	web_job *j = &a->base;
	quota_book *book = j->srv->quota;
	if (book == NULL || !quota_book_limits(book, j->user, &a->limits, NULL))
		return;
	char *root = config_path_mail(j->srv->cfg);
	char *md = maildir_path(root, j->user);
	if (!quota_book_usage(book, md, &a->bytes, &a->messages))
		a->bytes = a->messages = 0;
	free(md);
	free(root);
	a->quota_read = true;
}

static void work(web_job *j)
{
	account_job *a = (account_job *)j;
	selfdb *self = j->srv->login.self;
	if (a->op == OP_PASSWORD)
		change_password(a);
	else if (a->op == OP_ADD)
		add_apppass(a);
	else if (a->op == OP_REVOKE)
		revoke_apppass(a);
	if (j->err == NULL && (selfdb_apppass_list(self, j->user, &a->apps, &a->n_apps) != ACC_OK ||
	                       selfdb_login_list(self, j->user, LOGINS_SHOWN, &a->logins, &a->n_logins) != ACC_OK))
		j->err = xstrdup("cannot read the account database");
	read_quota(a);
}

/* ---- on the loop ---- */

/* The password changed: whoever else is logged in with the old one is
 * logged out (this session stays). */
static void settle(web_job *j)
{
	account_job *a = (account_job *)j;
	if (a->op != OP_PASSWORD || a->notice == NULL)
		return;
	web *w = j->srv->web;
	char *id = web_cookie(j->r, WEB_SESSION_COOKIE);
	size_t gone = w != NULL ? web_sessions_remove_user(w->sessions, j->user, id) : 0;
	free(id);
	log_event(LOG_LVL_INFO, "web_account", "req=%s user=%s op=password sessions_ended=%zu", http_req_id(j->r),
	          j->user, gone);
}

static void password_form(buf *out, const char *csrf)
{
	html_printf(out, "<h2>Password</h2>\n<form class=\"account\" method=\"post\" action=\"/account/password\">"
	            "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
	BUF_PUTS(out, "<label>Current password<input type=\"password\" name=\"current\" "
	         "autocomplete=\"current-password\" required maxlength=\"1024\"></label>"
	         "<label>New password<input type=\"password\" name=\"new\" autocomplete=\"new-password\" "
	         "required minlength=\"8\" maxlength=\"1024\"></label>"
	         "<label>New password again<input type=\"password\" name=\"new2\" autocomplete=\"new-password\" "
	         "required minlength=\"8\" maxlength=\"1024\"></label>"
	         "<button type=\"submit\" class=\"primary\">Change password</button></form>\n");
}

static void apppass_section(buf *out, const account_job *a, const char *csrf)
{
	BUF_PUTS(out, "<h2>App passwords</h2>\n<p class=\"muted\">A separate password for each mail program or "
	         "device (SMTP, IMAP, POP3, ManageSieve), which you can revoke alone. They do not open this page.</p>\n");
	if (a->secret != NULL && a->op == OP_ADD)
		html_printf(out, "<div class=\"notice\" role=\"status\"><p>The app password for \"%s\" is</p>"
		            "<p class=\"secret mono\" id=\"new-apppass\">%s</p><p>Type it in the mail program now: "
		            "it is not shown again.</p></div>\n", a->name, a->secret);
	if (a->n_apps == 0) {
		BUF_PUTS(out, "<p class=\"muted\">You have no app passwords.</p>\n");
	} else {
		BUF_PUTS(out, "<table class=\"apppass\"><thead><tr><th>Name</th><th>Created</th><th>Last used</th>"
		         "<th></th></tr></thead><tbody>\n");
		for (size_t i = 0; i < a->n_apps; i++) {
			html_printf(out, "<tr><td>%s</td><td>", a->apps[i].name);
			html_time(out, a->apps[i].created);
			BUF_PUTS(out, "</td><td>");
			if (a->apps[i].last_used > 0)
				html_time(out, a->apps[i].last_used);
			else
				BUF_PUTS(out, "<span class=\"muted\">never</span>");
			html_printf(out, "</td><td><form method=\"post\" action=\"/account/apppass/revoke\" class=\"inline\">"
			            "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><input type=\"hidden\" name=\"name\" "
			            "value=\"%s\"><button type=\"submit\" class=\"danger\">Revoke</button></form></td></tr>\n",
			            csrf, a->apps[i].name);
		}
		BUF_PUTS(out, "</tbody></table>\n");
	}
	html_printf(out, "<form class=\"account\" method=\"post\" action=\"/account/apppass\">"
	            "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><label>Name of the program or device"
	            "<input type=\"text\" name=\"name\" required maxlength=\"64\" placeholder=\"phone\"></label>"
	            "<button type=\"submit\">Create an app password</button></form>\n", csrf);
}

static void logins_section(buf *out, const account_job *a)
{
	BUF_PUTS(out, "<h2>Recent log-ins</h2>\n");
	if (a->n_logins == 0) {
		BUF_PUTS(out, "<p class=\"muted\">No log-ins recorded yet.</p>\n");
		return;
	}
	BUF_PUTS(out, "<table class=\"logins\"><thead><tr><th>Time (UTC)</th><th>Protocol</th><th>Address</th>"
	         "<th>Result</th><th>With</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < a->n_logins; i++) {
		const selfdb_login *l = &a->logins[i];
		BUF_PUTS(out, "<tr><td>");
		html_time(out, l->at);
		html_printf(out, "</td><td>%s</td><td class=\"mono\">%s</td><td><span class=\"state %s\">%s</span></td><td>",
		            l->protocol, l->ip, strcmp(l->result, "ok") == 0 ? "received" : "failed", l->result);
		if (l->app != NULL)
			html_printf(out, "app password \"%s\"", l->app);
		else
			BUF_PUTS(out, "password");
		BUF_PUTS(out, "</td></tr>\n");
	}
	BUF_PUTS(out, "</tbody></table>\n");
}

/* "12.5 MiB" */
static void size_text(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* One resource: what is used, of how much, as a meter (no script, no
 * inline style: the page's Content-Security-Policy allows neither). */
static void quota_row(buf *out, const char *what, uint64_t used, uint64_t limit, bool sizes)
{
	char u[32], l[32];
	if (sizes) {
		size_text(used, u, sizeof u);
		size_text(limit, l, sizeof l);
	} else {
		snprintf(u, sizeof u, "%llu", (unsigned long long)used);
		snprintf(l, sizeof l, "%llu", (unsigned long long)limit);
	}
	if (limit == 0) {
		html_printf(out, "<tr><td>%s</td><td>%s</td><td>no limit</td></tr>\n", what, u);
		return;
	}
	unsigned pct = (unsigned)(used >= limit ? 100 : used * 100 / limit);
	html_printf(out, "<tr><td>%s</td><td>%s of %s (%u %%)</td><td><meter min=\"0\" max=\"%lld\" "
	            "value=\"%lld\" high=\"%lld\">%u %%</meter></td></tr>\n", what, u, l, pct,
	            (long long)limit, (long long)(used > limit ? limit : used),
	            (long long)(limit * QUOTA_WARN_PERCENT / 100), pct);
}

static void quota_section(buf *out, const account_job *a)
{
	if (!a->quota_read)
		return;
	BUF_PUTS(out, "<h2>Mailbox</h2>\n<table>\n");
	quota_row(out, "Storage", a->bytes, a->limits.bytes, true);
	quota_row(out, "Messages", a->messages, a->limits.messages, false);
	BUF_PUTS(out, "</table>\n");
	if (quota_over(a->limits, a->bytes, a->messages, 1, 1))
		BUF_PUTS(out, "<p class=\"error\" role=\"alert\">The mailbox is full: new mail waits at the "
		              "senders' servers (452 4.2.2) or in this server's queue until you delete some.</p>\n");
}

static void render(web_job *j, buf *out)
{
	account_job *a = (account_job *)j;
	if (a->error != NULL)
		html_printf(out, "<p class=\"error\" role=\"alert\">%s</p>\n", a->error);
	if (a->notice != NULL)
		html_printf(out, "<p class=\"notice\" role=\"status\">%s</p>\n", a->notice);
	html_printf(out, "<p>Logged in as <strong>%s</strong>.</p>\n", j->user);
	quota_section(out, a);
	BUF_PUTS(out, "<h2>Filters and vacation reply</h2>\n<p class=\"muted\">Sort incoming mail with Sieve "
	              "scripts, or answer it while you are away.</p>\n<p><a href=\"/account/filters\">Edit your "
	              "filters and vacation reply</a></p>\n");
	password_form(out, j->csrf);
	apppass_section(out, a, j->csrf);
	BUF_PUTS(out, "<h2>iPhone, iPad and Mac</h2>\n<p class=\"muted\">A configuration profile sets up Apple "
	              "Mail with this account's servers (it holds no password: the device asks for one, "
	              "and an app password is best). Other mail programs set themselves up from the "
	              "address alone.</p>\n<p><a href=\"/account/mail.mobileconfig\">Download the profile</a></p>\n");
	logins_section(out, a);
}

static void job_free(web_job *j)
{
	account_job *a = (account_job *)j;
	free(a->name);
	str_secure_free(a->secret);
	free(a->notice);
	free(a->error);
	selfdb_apppass_list_free(a->apps, a->n_apps);
	selfdb_login_list_free(a->logins, a->n_logins);
}

static account_job *job_new(account_op op)
{
	account_job *a = xcalloc(1, sizeof(*a));
	a->op = op;
	a->base.work = work;
	a->base.settle = settle;
	a->base.render = render;
	a->base.free = job_free;
	return a;
}

/* The page with an error about the form just sent, nothing changed. */
static void refuse(http_req *r, int status, const char *text)
{
	account_job *a = job_new(OP_SHOW);
	set_error(a, status, text);
	web_job_start(&a->base, r, "My account", "/account");
}

void web_get_account(http_req *r)
{
	if (http_req_server(r)->login.self == NULL) {
		web_reply_message(r, 503, "Not available now", "The account database is not open.");
		return;
	}
	web_job_start(&job_new(OP_SHOW)->base, r, "My account", "/account");
}

/* ---- changing the password ---- */

typedef struct pw_wait {
	http_req *r;
	char *new_password;
} pw_wait;

static void pw_wait_free(pw_wait *w)
{
	str_secure_free(w->new_password);
	free(w);
}

static void on_current_checked(void *arg, login_result res, const char *user, const char *app)
{
	(void)user;
	(void)app;
	pw_wait *w = arg;
	http_req *r = w->r;
	http_req_on_abort(r, NULL, NULL); /* w goes below; a job takes over */
	if (res == LOGIN_LOCKED) {
		refuse(r, 429, "Too many failed log-ins from here or for this account: try again later.");
	} else if (res != LOGIN_OK) {
		log_event(LOG_LVL_INFO, "web_account", "req=%s user=%s op=password result=refused "
		          "reason=\"current password\"", http_req_id(r), http_req_principal(r));
		refuse(r, 403, "The current password is not right: nothing was changed.");
	} else {
		account_job *a = job_new(OP_PASSWORD);
		a->secret = w->new_password;
		w->new_password = NULL;
		web_job_start(&a->base, r, "My account", "/account");
	}
	pw_wait_free(w);
}

static void on_pw_abort(void *arg)
{
	pw_wait_free(arg);
}

void web_post_account_password(http_req *r)
{
	server *srv = http_req_server(r);
	const web_session *s = web_session_of(r);
	const char *cur = http_req_form(r, "current"), *pw = http_req_form(r, "new"), *pw2 = http_req_form(r, "new2");
	if (srv->login.self == NULL) {
		web_reply_message(r, 503, "Not available now", "The account database is not open.");
	} else if (cur == NULL || cur[0] == '\0' || strlen(cur) > PASSWORD_MAX) {
		refuse(r, 400, "Give your current password.");
	} else if (pw == NULL || pw2 == NULL || strcmp(pw, pw2) != 0) {
		refuse(r, 400, "The two new passwords are not the same: nothing was changed.");
	} else if (strlen(pw) < PASSWORD_MIN || strlen(pw) > PASSWORD_MAX) {
		refuse(r, 400, "The new password must have 8 to 1024 characters: nothing was changed.");
	} else {
		pw_wait *w = xcalloc(1, sizeof(*w));
		w->r = r;
		w->new_password = xstrdup(pw);
		http_req_on_abort(r, on_pw_abort, w);
		login_req req = {.protocol = "https", .sid = http_req_id(r), .ip = http_req_ip(r), .account_only = true};
		login_check(&srv->login, &req, xstrdup(s->user), xstrdup(cur), on_current_checked, w);
	}
}

/* ---- app passwords ---- */

void web_post_account_apppass(http_req *r)
{
	const char *name = http_req_form(r, "name");
	char secret[SELFDB_APPPASS_SHOWN + 1];
	if (http_req_server(r)->login.self == NULL) {
		web_reply_message(r, 503, "Not available now", "The account database is not open.");
	} else if (!selfdb_name_valid(name)) {
		refuse(r, 400, "Give the app password a name of 1 to 64 printable ASCII characters, such as \"phone\".");
	} else if (!selfdb_apppass_generate(secret)) {
		web_reply_message(r, 503, "Not available now", "No random numbers to be had: try again shortly.");
	} else {
		account_job *a = job_new(OP_ADD);
		a->name = xstrdup(name);
		a->secret = xstrdup(secret);
		explicit_bzero(secret, sizeof secret);
		web_job_start(&a->base, r, "My account", "/account");
	}
}

void web_post_account_revoke(http_req *r)
{
	const char *name = http_req_form(r, "name");
	if (http_req_server(r)->login.self == NULL) {
		web_reply_message(r, 503, "Not available now", "The account database is not open.");
	} else if (!selfdb_name_valid(name)) {
		refuse(r, 404, "You have no app password of that name.");
	} else {
		account_job *a = job_new(OP_REVOKE);
		a->name = xstrdup(name);
		web_job_start(&a->base, r, "My account", "/account");
	}
}
