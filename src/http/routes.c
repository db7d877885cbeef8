/* routes.c — the one table of every HTTPS route: method, path, who may
 * call it (the access check) and its handler.  A new endpoint is one row
 * here; the handlers live in their modules (api/, web/, metrics/). */
#include "http/internal.h"

#include "http/health.h"
#include "api/api.h"
#include "api/events.h"
#include "api/suppress_api.h"
#include "api/webhooks_api.h"
#include "autoconf/handlers.h"
#include "http/metrics_page.h"
#include "http/mtasts_serve.h"
#include "web/web.h"

static const http_route routes[] = {
	{"GET", "/v1/health", NULL, http_health},
	{"POST", "/v1/messages", api_key_access, api_messages_post},
	{"GET", "/v1/events", api_key_access, events_get},
	{"GET", "/v1/suppressions", api_key_access, suppress_api_list},
	{"POST", "/v1/suppressions", api_key_access, suppress_api_add},
	{"GET", "/v1/suppressions/{address}", api_key_access, suppress_api_get},
	{"DELETE", "/v1/suppressions/{address}", api_key_access, suppress_api_del},
	{"GET", "/v1/webhooks", api_key_access, webhooks_api_list},
	{"POST", "/v1/webhooks", api_key_access, webhooks_api_add},
	{"DELETE", "/v1/webhooks/{id}", api_key_access, webhooks_api_del},
	{"GET", "/v1/messages/{id}", api_key_access, api_messages_get},
	{"GET", "/v1/openapi.json", NULL, api_openapi},
	{"GET", "/metrics", http_metrics_allowed, http_metrics},
	/* the dashboard (web/web.h) */
	{"GET", "/", web_require_user, web_get_root},
	{"GET", "/style.css", NULL, web_get_style},
	{"GET", "/login", NULL, web_get_login},
	{"POST", "/login", NULL, web_post_login},
	{"POST", "/logout", web_require_user, web_post_logout},
	{"GET", "/queue", web_require_admin, web_get_queue},
	{"POST", "/queue/{qid}/{op}", web_require_admin, web_post_queue},
	{"GET", "/log", web_require_admin, web_get_log},
	{"GET", "/message/{qid}", web_require_admin, web_get_message},
	{"GET", "/domains", web_require_admin, web_get_domains},
	{"GET", "/charts", web_require_admin, web_get_charts},
	{"GET", "/charts/{name}", web_require_admin, web_get_chart_svg},
	{"GET", "/account", web_require_user, web_get_account},
	{"POST", "/account/password", web_require_user, web_post_account_password},
	{"POST", "/account/apppass", web_require_user, web_post_account_apppass},
	{"POST", "/account/apppass/revoke", web_require_user, web_post_account_revoke},
	{"GET", "/account/filters", web_require_user, web_get_filters},
	{"POST", "/account/filters/save", web_require_user, web_post_filters_save},
	{"POST", "/account/filters/activate", web_require_user, web_post_filters_activate},
	{"POST", "/account/filters/deactivate", web_require_user, web_post_filters_deactivate},
	{"POST", "/account/filters/delete", web_require_user, web_post_filters_delete},
	{"POST", "/account/vacation", web_require_user, web_post_vacation},
	/* automatic client set-up (autoconf/handlers.h) */
	{"GET", "/mail/config-v1.1.xml", NULL, autoconf_get_thunderbird},
	{"GET", "/.well-known/autoconfig/mail/config-v1.1.xml", NULL, autoconf_get_thunderbird},
	{"GET", "/.well-known/mail-v1.xml", NULL, autoconf_get_thunderbird},
	{"POST", "~/autodiscover/autodiscover.xml", NULL, autoconf_post_autodiscover},
	{"GET", "/account/mail.mobileconfig", web_require_user, autoconf_get_mobileconfig},
	/* our MTA-STS policy, for Host mta-sts.DOMAIN (http/mtasts_serve.h) */
	{"GET", "/.well-known/mta-sts.txt", NULL, mtasts_serve_policy},
};

const http_route *http_routes(size_t *n_r)
{
	*n_r = sizeof routes / sizeof routes[0];
	return routes;
}
