/* metrics_page.h — GET /metrics: the server's metrics in the Prometheus
 * text format (metrics/metrics.h), for the networks of metrics.allow
 * only (loopback by default); any other client gets 403. */
#ifndef YUBIN_HTTP_METRICS_PAGE_H
#define YUBIN_HTTP_METRICS_PAGE_H

#include "http/http.h"

/* The access check: is the client's address in metrics.allow? */
bool http_metrics_allowed(http_req *r);
void http_metrics(http_req *r);

#endif
