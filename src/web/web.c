/* web.c — the dashboard's state, its access checks and what every page
 * shares (see web.h, page.h): cookies, the session of a request, the
 * security headers, page replies, worker jobs.  Must not render any page's
 * content or know the queue, the trail or DNS. */
#include "web/page.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "lib/log.h"
#include "web/html.h"

/* No script, no frame, nothing from elsewhere: our style sheet and our
 * images only; forms post to us. */
#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
            "frame-ancestors 'none'; base-uri 'none'"

web *web_new(struct server *srv)
{
	web *w = xcalloc(1, sizeof(*w));
	w->srv = srv;
	const config_web *c = &srv->cfg->web;
	w->sessions = web_sessions_new((size_t)c->max_sessions, c->session_lifetime, c->session_idle);
	return w;
}

void web_free(web **wp)
{
	web *w = *wp;
	if (w == NULL)
		return;
	web_sessions_free(&w->sessions);
	free(w);
	*wp = NULL;
}

char *web_cookie(http_req *r, const char *name)
{
	const char *h = http_req_header(r, "Cookie");
	size_t nlen = strlen(name);
	while (h != NULL && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		size_t len = strcspn(h, ";");
		if (len > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=')
			return xstrndup(h + nlen + 1, len - nlen - 1);
		h += len;
	}
	return NULL;
}

const web_session *web_session_of(http_req *r)
{
	web *w = http_req_server(r)->web;
	char *id = web_cookie(r, WEB_SESSION_COOKIE);
	const web_session *s = w ? web_sessions_find(w->sessions, id, time(NULL)) : NULL;
	free(id);
	return s;
}

bool web_is_admin(http_req *r, const char *user)
{
	return user != NULL && strlist_contains(&http_req_server(r)->cfg->web.admins, user);
}

const char *web_home(http_req *r, const char *user)
{
	return web_is_admin(r, user) ? "/queue" : "/account";
}

void web_security_headers(http_req *r)
{
	http_add_header(r, "Content-Security-Policy", CSP);
	http_add_header(r, "X-Frame-Options", "DENY");
	http_add_header(r, "Referrer-Policy", "same-origin");
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "Strict-Transport-Security", "max-age=31536000");
}

void web_reply_page(http_req *r, int status, buf *page)
{
	web_security_headers(r);
	http_reply(r, status, "text/html; charset=utf-8", buf_str(page), page->len);
	buf_free(page);
}

void web_reply_message(http_req *r, int status, const char *title, const char *text)
{
	const web_session *s = web_session_of(r);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	html_page_begin(&b, title, NULL, s ? s->user : NULL, s ? s->csrf : NULL, s && web_is_admin(r, s->user));
	html_printf(&b, "<p class=\"error\">%s</p>\n", text);
	if (s != NULL)
		html_printf(&b, "<p><a href=\"%s\">Back to the dashboard</a></p>\n", web_home(r, s->user));
	else
		BUF_PUTS(&b, "<p><a href=\"/login\">Log in</a></p>\n");
	html_page_end(&b);
	web_reply_page(r, status, &b);
}

bool web_same_origin(http_req *r)
{
	const char *origin = http_req_header(r, "Origin");
	if (origin == NULL)
		return true;
	const char *host = http_req_header(r, "Host");
	return host != NULL && strncmp(origin, "https://", 8) == 0 && strcmp(origin + 8, host) == 0;
}

static bool check(http_req *r, bool admin)
{
	bool post = strcmp(http_req_method(r), "GET") != 0 && strcmp(http_req_method(r), "HEAD") != 0;
	const web_session *s = web_session_of(r);
	if (s == NULL) {
		if (!post) {
			web_security_headers(r);
			http_redirect(r, "/login");
		} else {
			web_reply_message(r, 403, "Not logged in", "Your session has ended: log in again.");
		}
		return false;
	}
	if (admin && !web_is_admin(r, s->user)) {
		log_event(LOG_LVL_WARN, "web_denied", "req=%s user=%s reason=\"not in web.admins\"",
		          http_req_id(r), s->user);
		web_reply_message(r, 403, "Not an administrator",
		                  "This account is not a dashboard administrator (web.admins).");
		return false;
	}
	if (post && (!web_same_origin(r) || !web_token_equal(s->csrf, http_req_form(r, "csrf")))) {
		log_event(LOG_LVL_WARN, "web_denied", "req=%s user=%s path=%s reason=\"%s\"", http_req_id(r),
		          s->user, http_req_path(r), web_same_origin(r) ? "CSRF token" : "Origin");
		web_reply_message(r, 403, "Refused", "This form is out of date or did not come from this "
		                  "site: reload the page and try again.");
		return false;
	}
	http_req_set_principal(r, "user", s->user, NULL);
	return true;
}

bool web_require_user(http_req *r)
{
	return check(r, false);
}

bool web_require_admin(http_req *r)
{
	return check(r, true);
}

void web_get_root(http_req *r)
{
	web_security_headers(r);
	http_redirect(r, web_home(r, web_session_of(r)->user)); /* web_require_user: there is one */
}

/* ---- worker jobs ---- */

static void job_work(void *arg)
{
	web_job *j = arg;
	j->work(j);
}

void web_job_finish(web_job *j)
{
	if (j->err != NULL) {
		log_event(LOG_LVL_ERROR, "web_page", "req=%s path=%s error=%s", http_req_id(j->r),
		          http_req_path(j->r), j->err);
		http_add_header(j->r, "Retry-After", "10");
		web_reply_message(j->r, 503, "Not available now",
		                  "This page cannot be shown now (the server's log says why); try again shortly.");
	} else {
		if (j->settle != NULL)
			j->settle(j);
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		html_page_begin(&b, j->title, j->nav, j->user, j->csrf, j->admin);
		if (j->no_trail)
			BUF_PUTS(&b, "<p class=\"notice\">The audit trail is empty or off (audit.enabled): "
			         "nothing has been recorded yet.</p>\n");
		j->render(j, &b);
		html_page_end(&b);
		web_reply_page(j->r, j->status, &b);
	}
	web_job_discard(j);
}

void web_job_discard(web_job *j)
{
	free(j->err);
	free(j->user);
	if (j->free)
		j->free(j);
	free(j);
}

static void job_done(void *arg)
{
	web_job_finish(arg);
}

void web_job_init(web_job *j, http_req *r, const char *title, const char *nav)
{
	const web_session *s = web_session_of(r);
	j->r = r;
	j->srv = http_req_server(r);
	j->title = title;
	j->nav = nav;
	if (j->status == 0)
		j->status = 200;
	j->user = xstrdup(s ? s->user : "");
	j->admin = s != NULL && web_is_admin(r, s->user);
	if (s != NULL)
		memcpy(j->csrf, s->csrf, sizeof j->csrf);
}

void web_job_start(web_job *j, http_req *r, const char *title, const char *nav)
{
	web_job_init(j, r, title, nav);
	workers_submit(j->srv->wk, job_work, job_done, j);
}

const char *web_json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

audit_reader *web_trail_open(const config *cfg, bool *absent_r, char **err_r)
{
	char *path = xasprintf("%s/audit.db", cfg->data_dir);
	*absent_r = access(path, F_OK) != 0 && errno == ENOENT;
	free(path);
	return *absent_r ? NULL : audit_reader_open(cfg, err_r);
}

audit_reader *web_audit_open(web_job *j)
{
	return web_trail_open(j->srv->cfg, &j->no_trail, &j->err);
}
