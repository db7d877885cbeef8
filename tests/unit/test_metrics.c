/* test_metrics.c — unit tests for metrics/expo.c (the Prometheus text
 * format: HELP and label escaping, value spelling, cumulative histogram
 * buckets with +Inf, _sum and _count) and metrics/metrics.c (counters by
 * fixed labels, unknown names counted as "other", the latency histogram's
 * buckets, gauges summed over their registered owners, the whole scrape). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/expo.h"
#include "metrics/metrics.h"

static void test_family_and_help_escaping(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	expo_family(&b, "x_total", "a \\ back\nslash \"quoted\"", EXPO_COUNTER);
	/* HELP escapes backslash and newline, not the quote */
	assert_string_equal(buf_str(&b), "# HELP x_total a \\\\ back\\nslash \"quoted\"\n"
	                                 "# TYPE x_total counter\n");
	buf_clear(&b);
	expo_family(&b, "g", "gauge", EXPO_GAUGE);
	expo_family(&b, "h", "histogram", EXPO_HISTOGRAM);
	assert_string_equal(buf_str(&b), "# HELP g gauge\n# TYPE g gauge\n# HELP h histogram\n# TYPE h histogram\n");
	buf_free(&b);
}

static void test_label_escaping(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	expo_label l[] = {{"a", "plain"}, {"b", "q\"uo\\te\nline"}, {"c", ""}};
	expo_sample_u64(&b, "m", l, 3, 7);
	assert_string_equal(buf_str(&b), "m{a=\"plain\",b=\"q\\\"uo\\\\te\\nline\",c=\"\"} 7\n");
	buf_clear(&b);
	expo_sample(&b, "n", NULL, 0, 2.5);
	expo_sample_u64(&b, "big", NULL, 0, UINT64_MAX);
	assert_string_equal(buf_str(&b), "n 2.5\nbig 18446744073709551615\n");
	buf_free(&b);
}

static void test_values(void **state)
{
	char v[40];
	static const struct { double in; const char *out; } cases[] = {
		{0, "0"}, {3, "3"}, {-4, "-4"}, {0.1, "0.1"}, {0.25, "0.25"}, {1e20, "1e+20"},
		{123456.5, "123456.5"}, {1.0 / 3.0, "0.3333333333333333"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(expo_format_value(cases[i].in, v, sizeof v), cases[i].out);
	assert_string_equal(expo_format_value(INFINITY, v, sizeof v), "+Inf");
	assert_string_equal(expo_format_value(-INFINITY, v, sizeof v), "-Inf");
	assert_string_equal(expo_format_value(NAN, v, sizeof v), "NaN");
}

static void test_histogram_cumulative(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	const double bounds[] = {0.5, 1, 10};
	const uint64_t counts[] = {2, 0, 3, 1}; /* per bucket; 1 above 10 */
	expo_label l = {"destination", "local"};
	expo_histogram(&b, "lat", &l, 1, bounds, counts, 3, 42.25);
	assert_string_equal(buf_str(&b),
	                    "lat_bucket{destination=\"local\",le=\"0.5\"} 2\n"
	                    "lat_bucket{destination=\"local\",le=\"1\"} 2\n"
	                    "lat_bucket{destination=\"local\",le=\"10\"} 5\n"
	                    "lat_bucket{destination=\"local\",le=\"+Inf\"} 6\n"
	                    "lat_sum{destination=\"local\"} 42.25\n"
	                    "lat_count{destination=\"local\"} 6\n");
	buf_clear(&b);
	const uint64_t none[] = {0, 0};
	expo_histogram(&b, "e", NULL, 0, bounds, none, 1, 0);
	assert_string_equal(buf_str(&b), "e_bucket{le=\"0.5\"} 0\ne_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n");
	buf_free(&b);
}

/* The line of the scrape that starts with prefix followed by a space,
 * its value; -1 when absent. */
static double scraped(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static double fake_queue(void *arg, metrics_gauge g)
{
	const double *v = arg;
	return v[g];
}

static void test_counters_and_scrape(void **state)
{
	metrics_reset();
	metrics_start();
	metrics_received(ROLE_SMTP);
	metrics_received(ROLE_SUBMISSION);
	metrics_received(ROLE_SUBMISSION);
	metrics_received((listener_role)-1); /* out of range: ignored */
	metrics_received(ROLE_COUNT);
	metrics_deferred(METRICS_REMOTE);
	metrics_bounced(METRICS_REMOTE);
	metrics_bounced(METRICS_LOCAL);
	metrics_connection_opened(ROLE_IMAP);
	metrics_connection_opened(ROLE_IMAP);
	metrics_connection_closed(ROLE_IMAP);
	metrics_tls_seen(METRICS_INBOUND, "TLSv1.3");
	metrics_tls_seen(METRICS_OUTBOUND, "TLSv1.2");
	metrics_tls_seen(METRICS_OUTBOUND, "SSLv3");
	metrics_tls_seen(METRICS_OUTBOUND, NULL);
	metrics_auth_failed(METRICS_POP3);
	metrics_policy_verdict("reject");
	metrics_policy_verdict("tempfail");
	metrics_policy_verdict("whatever");
	double a[METRICS_GAUGE_COUNT] = {1, 2, 3, 4}, c[METRICS_GAUGE_COUNT] = {10, 20, 30, 40};
	for (int g = 0; g < METRICS_GAUGE_COUNT; g++)
		metrics_gauge_register((metrics_gauge)g, fake_queue, a);
	metrics_gauge_register(METRICS_QUEUE_DEFERRED, fake_queue, c);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	metrics_render(&b);
	const char *t = buf_str(&b);
	assert_true(scraped(t, "yubin_messages_received_total{role=\"smtp\"}") == 1);
	assert_true(scraped(t, "yubin_messages_received_total{role=\"submission\"}") == 2);
	assert_true(scraped(t, "yubin_messages_received_total{role=\"submissions\"}") == 0);
	assert_true(scraped(t, "yubin_recipients_deferred_total{destination=\"remote\"}") == 1);
	assert_true(scraped(t, "yubin_recipients_deferred_total{destination=\"local\"}") == 0);
	assert_true(scraped(t, "yubin_recipients_bounced_total{destination=\"local\"}") == 1);
	assert_true(scraped(t, "yubin_connections_open{role=\"imap\"}") == 1);
	assert_true(scraped(t, "yubin_connections_open{role=\"smtp\"}") == 0);
	assert_true(scraped(t, "yubin_tls_connections_total{direction=\"inbound\",version=\"TLSv1.3\"}") == 1);
	assert_true(scraped(t, "yubin_tls_connections_total{direction=\"outbound\",version=\"TLSv1.2\"}") == 1);
	assert_true(scraped(t, "yubin_tls_connections_total{direction=\"outbound\",version=\"other\"}") == 2);
	assert_true(scraped(t, "yubin_auth_failures_total{protocol=\"pop3\"}") == 1);
	assert_true(scraped(t, "yubin_auth_failures_total{protocol=\"https\"}") == 0);
	assert_true(scraped(t, "yubin_policy_verdicts_total{decision=\"reject\"}") == 1);
	assert_true(scraped(t, "yubin_policy_verdicts_total{decision=\"other\"}") == 1);
	/* owners are summed; an unregistered one no longer counts */
	assert_true(scraped(t, "yubin_queue_messages{state=\"active\"}") == 1);
	assert_true(scraped(t, "yubin_queue_messages{state=\"deferred\"}") == 22);
	assert_true(scraped(t, "yubin_queue_messages{state=\"held\"}") == 3);
	assert_true(scraped(t, "yubin_webhook_backlog") == 4);
	metrics_gauge_unregister(METRICS_QUEUE_DEFERRED, fake_queue, a);
	buf_clear(&b);
	metrics_render(&b);
	t = buf_str(&b);
	assert_true(scraped(t, "yubin_queue_messages{state=\"deferred\"}") == 20);
	/* process facts are there */
	assert_true(scraped(t, "process_resident_memory_bytes") > 0);
	assert_true(scraped(t, "process_open_fds") >= 3);
	assert_true(scraped(t, "yubin_uptime_seconds") >= 0);
	assert_true(scraped(t, "process_start_time_seconds") > 1.6e9);
	/* every family has its HELP and TYPE before its samples */
	assert_non_null(strstr(t, "# TYPE yubin_delivery_latency_seconds histogram\n"
	                          "yubin_delivery_latency_seconds_bucket{destination=\"local\",le=\"1\"} 0\n"));
	buf_free(&b);
	metrics_reset();
}

static void test_latency_buckets(void **state)
{
	metrics_reset();
	time_t now = time(NULL);
	metrics_delivered(METRICS_LOCAL, now);          /* under a second: le=1 */
	metrics_delivered(METRICS_LOCAL, now - 100);    /* (60, 300] */
	metrics_delivered(METRICS_LOCAL, now + 50);     /* clock went back: 0 */
	metrics_delivered(METRICS_REMOTE, now - 1000000); /* above the top */
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	metrics_render(&b);
	const char *t = buf_str(&b);
	assert_true(scraped(t, "yubin_recipients_delivered_total{destination=\"local\"}") == 3);
	assert_true(scraped(t, "yubin_recipients_delivered_total{destination=\"remote\"}") == 1);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_bucket{destination=\"local\",le=\"2\"}") == 2);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_bucket{destination=\"local\",le=\"60\"}") == 2);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_bucket{destination=\"local\",le=\"300\"}") == 3);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_bucket{destination=\"local\",le=\"+Inf\"}") == 3);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_count{destination=\"local\"}") == 3);
	double sum = scraped(t, "yubin_delivery_latency_seconds_sum{destination=\"local\"}");
	assert_true(sum >= 100 && sum < 103);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_bucket{destination=\"remote\",le=\"432000\"}") == 0);
	assert_true(scraped(t, "yubin_delivery_latency_seconds_bucket{destination=\"remote\",le=\"+Inf\"}") == 1);
	buf_free(&b);
	metrics_reset();
}

/* The OP25B route gauge starts at direct; each change counts by the
 * route taken and moves the gauge. */
static void test_route_metrics(void **state)
{
	(void)state;
	metrics_reset();
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	metrics_render(&b);
	assert_true(scraped(buf_str(&b), "yubin_outbound_route{route=\"direct\"}") == 1);
	assert_true(scraped(buf_str(&b), "yubin_outbound_route{route=\"relay\"}") == 0);
	metrics_route_changed(true);
	metrics_route_changed(false);
	metrics_route_changed(true);
	buf_clear(&b);
	metrics_render(&b);
	const char *t = buf_str(&b);
	assert_true(scraped(t, "yubin_outbound_route{route=\"direct\"}") == 0);
	assert_true(scraped(t, "yubin_outbound_route{route=\"relay\"}") == 1);
	assert_true(scraped(t, "yubin_outbound_route_changes_total{to=\"relay\"}") == 2);
	assert_true(scraped(t, "yubin_outbound_route_changes_total{to=\"direct\"}") == 1);
	buf_free(&b);
	metrics_reset();
}

/* Outbound TLS verdicts (two labels) and MTA-STS fetches, zero until counted. */
static void test_tls_policy_metrics(void **state)
{
	(void)state;
	metrics_reset();
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	metrics_render(&b);
	assert_true(scraped(buf_str(&b), "yubin_outbound_tls_verdicts_total{policy=\"dane\",result=\"verified\"}") == 0);
	assert_true(scraped(buf_str(&b), "yubin_mtasts_fetches_total{result=\"cached\"}") == 0);
	metrics_tls_verdict(METRICS_TLSPOL_DANE, true);
	metrics_tls_verdict(METRICS_TLSPOL_DANE, true);
	metrics_tls_verdict(METRICS_TLSPOL_STS, false);
	metrics_tls_verdict(METRICS_TLSPOL_NONE, false);
	metrics_tls_verdict(METRICS_TLSPOL_COUNT, true); /* out of range: ignored */
	metrics_mtasts(METRICS_STS_OK);
	metrics_mtasts(METRICS_STS_CACHED);
	metrics_mtasts(METRICS_STS_CACHED);
	buf_clear(&b);
	metrics_render(&b);
	const char *t = buf_str(&b);
	assert_non_null(strstr(t, "# TYPE yubin_outbound_tls_verdicts_total counter\n"));
	assert_true(scraped(t, "yubin_outbound_tls_verdicts_total{policy=\"dane\",result=\"verified\"}") == 2);
	assert_true(scraped(t, "yubin_outbound_tls_verdicts_total{policy=\"dane\",result=\"failed\"}") == 0);
	assert_true(scraped(t, "yubin_outbound_tls_verdicts_total{policy=\"sts\",result=\"failed\"}") == 1);
	assert_true(scraped(t, "yubin_outbound_tls_verdicts_total{policy=\"none\",result=\"failed\"}") == 1);
	assert_true(scraped(t, "yubin_outbound_tls_verdicts_total{policy=\"none\",result=\"verified\"}") == 0);
	assert_true(scraped(t, "yubin_mtasts_fetches_total{result=\"ok\"}") == 1);
	assert_true(scraped(t, "yubin_mtasts_fetches_total{result=\"failed\"}") == 0);
	assert_true(scraped(t, "yubin_mtasts_fetches_total{result=\"cached\"}") == 2);
	buf_free(&b);
	metrics_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_help_escaping),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_counters_and_scrape),
		cmocka_unit_test(test_latency_buckets),
		cmocka_unit_test(test_route_metrics),
		cmocka_unit_test(test_tls_policy_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
