/* handlers.h — the HTTP side of automatic client set-up, on the https
 * listener (routes in http/routes.c): the Thunderbird autoconfig file,
 * Outlook's Autodiscover, and the Apple profile a logged-in dashboard
 * user downloads.  The documents themselves are autoconf/autoconf.h's.
 * None of these asks for a password: client settings are no secret, and a
 * 401 would make Outlook prompt the user for one. */
#ifndef YUBIN_AUTOCONF_HANDLERS_H
#define YUBIN_AUTOCONF_HANDLERS_H

#include "http/http.h"

/* GET /mail/config-v1.1.xml, /.well-known/autoconfig/mail/config-v1.1.xml
 * and /.well-known/mail-v1.xml, with an optional ?emailaddress=: the
 * domain is the address's, else the Host's (autoconfig.DOMAIN or DOMAIN).
 * 404 when that domain is not local or the server has no listener a mail
 * program logs in to; 400 for a malformed address. */
void autoconf_get_thunderbird(http_req *r);
/* POST /autodiscover/autodiscover.xml (any case): the body (at most
 * AUTODISCOVER_MAX_BODY bytes, else 413) is scanned; the answer is the
 * settings, or an Autodiscover error document (500 unknown address, 501
 * no listener a mail program logs in to, 600 invalid request, 601 other
 * schema) with HTTP status 200. */
void autoconf_post_autodiscover(http_req *r);
/* GET /account/mail.mobileconfig: the profile of the session's own
 * account (the route's access check is the dashboard's log-in). */
void autoconf_get_mobileconfig(http_req *r);

#endif
