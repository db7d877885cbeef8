/* web.h — the web dashboard on the https listener: what the server and
 * the route table (http/routes.c) see of it.  Accounts log in with their
 * account password, checked like every
 * protocol's (auth/login.h: worker, throttle, delay); a session is a
 * random 256-bit id in a cookie (__Host-yubin_session: Secure, HttpOnly,
 * SameSite=Strict, Path=/) and a server-side record (web/session.h) with
 * its own CSRF token, which every form carries and every POST must send
 * back.  Every account may log in (with its password, never an app
 * password); an account that is not an administrator reaches only its
 * own pages (password, app passwords, recent log-ins; its Sieve filters
 * and vacation reply).  Administrators'
 * pages: the queue with its operations, the delivery log with
 * search, one message's timeline, the domains with their DNS records, and
 * charts.  Every page works without JavaScript and carries a strict
 * Content-Security-Policy; the only asset is our style sheet. */
#ifndef YUBIN_WEB_H
#define YUBIN_WEB_H

#include "http/http.h"

struct server;
typedef struct web web;

/* Made at server start-up (srv->web), freed after the loop stops. */
web *web_new(struct server *srv);
void web_free(web **w);

/* ---- Access checks for the route table ---- */
/* A live session (for log-out): else GET goes to the log-in page and a
 * POST gets 403.  A POST must also carry the session's CSRF token (form
 * field "csrf") and, when the browser sends Origin, come from this site:
 * else 403. */
bool web_require_user(http_req *r);
/* The same, and the session's account is still in web.admins. */
bool web_require_admin(http_req *r);

/* ---- Handlers ---- */
void web_get_root(http_req *r);          /* GET / : to the queue */
void web_get_style(http_req *r);         /* GET /style.css (anyone) */
void web_get_login(http_req *r);         /* GET /login (anyone) */
void web_post_login(http_req *r);        /* POST /login (anyone; own checks) */
void web_post_logout(http_req *r);       /* POST /logout (web_require_user) */
void web_get_queue(http_req *r);         /* GET /queue */
void web_post_queue(http_req *r);        /* POST /queue/{qid}/{op} */
void web_get_log(http_req *r);           /* GET /log?sender=&rcpt=&status=&since=&until=&after= */
void web_get_message(http_req *r);       /* GET /message/{qid} */
void web_get_domains(http_req *r);       /* GET /domains */
void web_get_charts(http_req *r);        /* GET /charts */
void web_get_chart_svg(http_req *r);     /* GET /charts/{name}: received.svg, ... */
/* Self-service, for every account (web_require_user), about the session's
 * own account only (web/pg_account.c). */
void web_get_account(http_req *r);               /* GET /account */
void web_post_account_password(http_req *r);     /* POST /account/password */
void web_post_account_apppass(http_req *r);      /* POST /account/apppass: a new app password */
void web_post_account_revoke(http_req *r);       /* POST /account/apppass/revoke */
/* The account's Sieve scripts and vacation reply (web/pg_filters.c), the
 * session's own account only; every POST answers with the page. */
void web_get_filters(http_req *r);               /* GET /account/filters?edit=NAME */
void web_post_filters_save(http_req *r);         /* POST /account/filters/save: name, script */
void web_post_filters_activate(http_req *r);     /* POST /account/filters/activate: name */
void web_post_filters_deactivate(http_req *r);   /* POST /account/filters/deactivate */
void web_post_filters_delete(http_req *r);       /* POST /account/filters/delete: name */
void web_post_vacation(http_req *r);             /* POST /account/vacation: on, subject, message, days, from, addresses */

#endif
