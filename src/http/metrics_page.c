/* metrics_page.c — GET /metrics (see metrics_page.h): the access check by
 * client network and the scrape's answer.  What is counted and how the
 * text is spelt are metrics/'s; this file only serves it. */
#include "http/metrics_page.h"

#include "lib/cidr.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "net/server.h"

bool http_metrics_allowed(http_req *r)
{
	const strlist *allow = &http_req_server(r)->cfg->metrics.allow;
	const char *ip = http_req_ip(r);
	for (size_t i = 0; i < allow->n; i++) {
		cidr net;
		if (cidr_parse(allow->items[i], &net) && cidr_contains(&net, ip))
			return true;
	}
	log_event(LOG_LVL_INFO, "http_refuse", "id=%s client=%s path=/metrics reason=%s", http_req_id(r), ip,
	          "not in metrics.allow");
	http_problem(r, 403, "forbidden", "Metrics are not served to this address",
	             "the client's network is not in metrics.allow", NULL);
	return false;
}

void http_metrics(http_req *r)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	metrics_render(&b);
	http_reply(r, 200, METRICS_CONTENT_TYPE, b.data, b.len);
	buf_free(&b);
}
