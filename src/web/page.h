/* page.h — what the dashboard's pages share inside web/: the session of a
 * request, answering with a page (and the security headers every answer
 * carries), and running a page's blocking part on a worker.  Not for use
 * outside web/. */
#ifndef YUBIN_WEB_PAGE_H
#define YUBIN_WEB_PAGE_H

#include <stdbool.h>

#include "http/http.h"
#include "lib/buf.h"
#include "net/server.h"
#include "web/session.h"
#include "web/web.h"

#define WEB_SESSION_COOKIE "__Host-yubin_session"
#define WEB_LOGIN_COOKIE "__Host-yubin_login"

struct web {
	server *srv;
	web_sessions *sessions;
};

/* The value of cookie name in the request, malloc'd, or NULL. */
char *web_cookie(http_req *r, const char *name);
/* The request's live session, or NULL. */
const web_session *web_session_of(http_req *r);
/* Is user (a session's account) an administrator (web.admins)? */
bool web_is_admin(http_req *r, const char *user);
/* Where a session of user starts: the queue for an administrator, the
 * account's own page for anyone else. */
const char *web_home(http_req *r, const char *user);
/* A POST comes from our own pages: when the browser names its Origin, it
 * is this site (https://HOST). */
bool web_same_origin(http_req *r);
/* Content-Security-Policy, X-Frame-Options, no-store, ...: on
 * every answer of the dashboard, before the reply. */
void web_security_headers(http_req *r);
/* Answer with the HTML in page (freed). */
void web_reply_page(http_req *r, int status, buf *page);
/* A short page with one sentence (errors), escaped, and a link back. */
void web_reply_message(http_req *r, int status, const char *title, const char *text);

/* A page whose data comes from blocking work.  Embed as the first member
 * of the page's own job. */
typedef struct web_job web_job;
struct web_job {
	http_req *r;
	server *srv;
	const char *title, *nav;             /* the page's title and nav entry */
	char *user;                          /* the session's account */
	bool admin;                          /* ... is in web.admins */
	char csrf[WEB_TOKEN_HEX + 1];        /* its CSRF token, for the forms */
	char *err;                           /* set by work: 503, logged */
	bool no_trail;                       /* the audit trail is off or empty */
	int status;                          /* 200 unless render sets another */
	void (*work)(web_job *j);            /* on a worker */
	void (*settle)(web_job *j);          /* on the loop after work, unless it failed (may be NULL) */
	void (*render)(web_job *j, buf *out); /* on the loop: the page's body */
	void (*free)(web_job *j);            /* the page's own fields */
};
/* Fill j's common fields from the request (session, server) and run it:
 * work on a worker, then render into a page that is sent, then free. */
void web_job_start(web_job *j, http_req *r, const char *title, const char *nav);
/* The same for a job that fills itself asynchronously on the loop (DNS):
 * it calls web_job_finish when done. */
void web_job_init(web_job *j, http_req *r, const char *title, const char *nav);
void web_job_finish(web_job *j);
/* Free j without answering (the server stopped: http_req_on_abort). */
void web_job_discard(web_job *j);

/* One audit record as a table row: time, event, queue id (with_qid),
 * sender, recipients, reply or subject (web/pg_log.c). */
struct audit_record;
void web_log_row(buf *out, const struct audit_record *rec, bool with_qid);

/* Open the audit trail for reading on a worker: NULL when it is not
 * there (audit.enabled off, nothing recorded yet: j->no_trail is set, the
 * page says so) or cannot be read (j->err). */
struct audit_reader;
struct audit_reader *web_audit_open(web_job *j);
/* The same for work that is no page: *absent_r when it is not there. */
struct audit_reader *web_trail_open(const config *cfg, bool *absent_r, char **err_r);

/* JSON helpers for audit record data: the string at key, or NULL. */
const char *web_json_str(json_t *obj, const char *key);

#endif
