/* test_web.c — unit tests for the dashboard's pure parts: HTML escaping
 * (web/html.c), the SVG bar chart (web/chart.c: axes, ticks, labels, one
 * bar per non-zero hour, escaping, empty data), the session table and its
 * CSRF tokens (web/session.c: expiry, idle timeout, bound, constant-time
 * comparison), and the search form's times (web/when.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "web/chart.h"
#include "web/html.h"
#include "web/session.h"
#include "web/when.h"
#include "msgauth/dnsadvice.h"
#include "dns/resolver.h"

static char *escaped(const char *s, size_t n)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	html_textn(&b, s, n);
	return buf_steal(&b);
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain text", "plain text"},
		{"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"a & b", "a &amp; b"},
		{"\"q\" 'a'", "&quot;q&quot; &#39;a&#39;"},
		{"x\x01y\x7fz", "x\xef\xbf\xbdy\xef\xbf\xbdz"},
		{"tab\tnl\n", "tab\tnl\n"},
		{"caf\xc3\xa9 \xe9", "caf\xc3\xa9 \xef\xbf\xbd"}, /* valid UTF-8 kept, a lone Latin-1 byte replaced */
		{"\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd"},        /* an overlong '<' is not let through */
		{"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = escaped(cases[i].in, strlen(cases[i].in));
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	char *nul = escaped("a\0b", 3); /* a NUL inside is replaced, not an end */
	assert_string_equal(nul, "a\xef\xbf\xbd" "b");
	free(nul);
}

static void test_printf_escapes_arguments_only(void **state)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	html_printf(&b, "<td title=\"%s\">%s %d %zu %lld %u 100%%</td>", "\"><img>", "<b>", -3, (size_t)7,
	            12345678901LL, 9u);
	assert_string_equal(buf_str(&b), "<td title=\"&quot;&gt;&lt;img&gt;\">&lt;b&gt; -3 7 12345678901 9 100%</td>");
	buf_clear(&b);
	html_url_value(&b, "a b&c=d/é");
	assert_string_equal(buf_str(&b), "a%20b%26c%3Dd%2F%C3%A9");
	buf_clear(&b);
	html_post_button(&b, "/queue/X/hold", "tok\"en", "Hold", NULL);
	assert_non_null(strstr(buf_str(&b), "value=\"tok&quot;en\""));
	assert_non_null(strstr(buf_str(&b), "method=\"post\" action=\"/queue/X/hold\""));
	buf_clear(&b);
	html_page_begin(&b, "Queue <1>", "/queue", "a<b@example.org", "c", true);
	html_page_end(&b);
	assert_non_null(strstr(buf_str(&b), "<title>Queue &lt;1&gt; — yubin</title>"));
	assert_non_null(strstr(buf_str(&b), "a&lt;b@example.org"));
	assert_non_null(strstr(buf_str(&b), "<a href=\"/queue\" aria-current=\"page\">Queue</a>"));
	assert_non_null(strstr(buf_str(&b), "<a href=\"/account\">My account</a>"));
	assert_null(strstr(buf_str(&b), "<script"));
	buf_clear(&b);
	/* an account that is no administrator sees its own page only */
	html_page_begin(&b, "My account", "/account", "u@example.org", "c", false);
	assert_null(strstr(buf_str(&b), "href=\"/queue\""));
	assert_null(strstr(buf_str(&b), "href=\"/log\""));
	assert_non_null(strstr(buf_str(&b), "<a href=\"/account\" aria-current=\"page\">My account</a>"));
	buf_clear(&b);
	html_age(&b, 90061);
	html_age(&b, 59);
	html_time(&b, 1765000000);
	assert_string_equal(buf_str(&b), "1d 1h59s2025-12-06 05:46:40");
	buf_free(&b);
}

static void test_tick_step(void **state)
{
	static const struct {
		uint32_t max, step, top;
	} cases[] = {
		{0, 1, 1}, {1, 1, 1}, {5, 1, 5}, {6, 2, 6}, {7, 2, 8}, {11, 5, 15}, {26, 10, 30},
		{99, 20, 100}, {100, 20, 100}, {101, 50, 150}, {1000000, 200000, 1000000},
		{UINT32_MAX, 1000000000, UINT32_MAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t top;
		assert_int_equal(chart_tick_step(cases[i].max, 5, &top), cases[i].step);
		assert_int_equal(top, cases[i].top);
	}
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void test_chart(void **state)
{
	uint32_t v[72] = {0};
	v[0] = 3;
	v[10] = 7;
	v[71] = 1;
	/* 2026-12-04 00:00 UTC: midnight, so dates appear under hours 0, 24, 48 */
	chart_spec s = {.title = "Received <&>", .color = "#3366cc", .start = 1796342400, .values = v, .n = 72};
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	chart_svg(&s, &b);
	const char *svg = buf_str(&b);
	assert_true(strncmp(svg, "<?xml version=\"1.0\"", 19) == 0);
	assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_int_equal(count(svg, "<rect class=\"bar\""), 3);
	assert_non_null(strstr(svg, "data-hour=\"1796342400\" data-count=\"3\""));
	assert_non_null(strstr(svg, "data-hour=\"1796378400\" data-count=\"7\""));
	assert_non_null(strstr(svg, "data-count=\"1\""));
	assert_non_null(strstr(svg, ">Received &lt;&amp;&gt;</text>"));
	assert_null(strstr(svg, "<&>"));
	/* y: max 7 with at most 5 ticks is steps of 2 up to 8: 0 2 4 6 8 */
	assert_int_equal(count(svg, "class=\"ytick\""), 5);
	assert_non_null(strstr(svg, ">8</text>"));
	/* x: every 6 hours over 72 hours, and the three dates */
	assert_int_equal(count(svg, "class=\"xlabel\""), 12);
	assert_int_equal(count(svg, "class=\"xdate\""), 3);
	assert_non_null(strstr(svg, ">Dec 04</text>"));
	assert_non_null(strstr(svg, ">18:00</text>"));
	assert_null(strstr(svg, "no messages"));
	assert_true(strcmp(svg + b.len - 7, "</svg>\n") == 0);
	buf_clear(&b);
	s.n = 0; /* empty: axes and a sentence, no bar */
	chart_svg(&s, &b);
	assert_int_equal(count(buf_str(&b), "<rect"), 0);
	assert_non_null(strstr(buf_str(&b), "no messages in this period"));
	assert_int_equal(count(buf_str(&b), "class=\"axis\""), 2);
	buf_clear(&b);
	uint32_t zero[24] = {0};
	s.values = zero;
	s.n = 24;
	chart_svg(&s, &b);
	assert_int_equal(count(buf_str(&b), "<rect"), 0);
	assert_non_null(strstr(buf_str(&b), "no messages in this period"));
	assert_int_equal(count(buf_str(&b), "class=\"xlabel\""), 8); /* every 3 hours over a day */
	buf_clear(&b);
	uint32_t month[31 * 24] = {0}; /* a month: dates only, every few days */
	month[5] = 2;
	s.values = month;
	s.n = 31 * 24;
	chart_svg(&s, &b);
	assert_int_equal(count(buf_str(&b), "class=\"xlabel\""), 0);
	assert_int_equal(count(buf_str(&b), "class=\"xdate\""), 8); /* every 4th of 31 days */
	assert_int_equal(count(buf_str(&b), "<rect class=\"bar\""), 1);
	buf_free(&b);
}

static void test_tokens(void **state)
{
	char a[WEB_TOKEN_HEX + 1], b[WEB_TOKEN_HEX + 1];
	assert_true(web_token_new(a));
	assert_true(web_token_new(b));
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_true(web_token_equal(a, a));
	assert_false(web_token_equal(a, b));
	assert_false(web_token_equal(a, NULL));
	assert_false(web_token_equal(a, ""));
	char shorter[WEB_TOKEN_HEX];
	memcpy(shorter, a, WEB_TOKEN_HEX - 1);
	shorter[WEB_TOKEN_HEX - 1] = '\0';
	assert_false(web_token_equal(a, shorter)); /* a prefix is not the token */
	char last[WEB_TOKEN_HEX + 1];
	memcpy(last, a, sizeof last);
	last[63] = last[63] == '0' ? '1' : '0';
	assert_false(web_token_equal(a, last));
	char longer[WEB_TOKEN_HEX + 2];
	snprintf(longer, sizeof longer, "%s0", a);
	assert_false(web_token_equal(a, longer));
}

static void test_session_expiry(void **state)
{
	web_sessions *ws = web_sessions_new(10, 1000, 100);
	const web_session *s = web_sessions_create(ws, "admin@example.org", 5000);
	assert_non_null(s);
	char id[WEB_TOKEN_HEX + 1], csrf[WEB_TOKEN_HEX + 1];
	memcpy(id, s->id, sizeof id);
	memcpy(csrf, s->csrf, sizeof csrf);
	assert_string_not_equal(id, csrf);
	s = web_sessions_find(ws, id, 5099); /* idle 99 s: alive, clock restarts */
	assert_non_null(s);
	assert_string_equal(s->user, "admin@example.org");
	assert_string_equal(s->csrf, csrf);
	assert_non_null(web_sessions_find(ws, id, 5198));
	assert_null(web_sessions_find(ws, id, 5298)); /* idle 100 s: gone */
	assert_null(web_sessions_find(ws, id, 5299));
	assert_int_equal(web_sessions_count(ws), 0);
	/* busy all along, but past the lifetime */
	s = web_sessions_create(ws, "admin@example.org", 10000);
	memcpy(id, s->id, sizeof id);
	for (time_t t = 10050; t < 11000; t += 50)
		assert_non_null(web_sessions_find(ws, id, t));
	assert_null(web_sessions_find(ws, id, 11000));
	/* a clock that went back does not stretch a session */
	s = web_sessions_create(ws, "admin@example.org", 20000);
	memcpy(id, s->id, sizeof id);
	assert_null(web_sessions_find(ws, id, 19000));
	/* log-out, and ids that are not ids */
	s = web_sessions_create(ws, "admin@example.org", 30000);
	memcpy(id, s->id, sizeof id);
	assert_null(web_sessions_find(ws, NULL, 30001));
	assert_null(web_sessions_find(ws, "", 30001));
	assert_null(web_sessions_find(ws, csrf, 30001));
	web_sessions_remove(ws, id);
	assert_null(web_sessions_find(ws, id, 30002));
	web_sessions_free(&ws);
	assert_null(ws);
}

static void test_session_bound(void **state)
{
	web_sessions *ws = web_sessions_new(3, 100000, 100000);
	char ids[5][WEB_TOKEN_HEX + 1];
	for (int i = 0; i < 3; i++)
		memcpy(ids[i], web_sessions_create(ws, "u@example.org", 100 + i)->id, WEB_TOKEN_HEX + 1);
	assert_non_null(web_sessions_find(ws, ids[0], 200)); /* 0 is now the most recent */
	memcpy(ids[3], web_sessions_create(ws, "v@example.org", 201)->id, WEB_TOKEN_HEX + 1);
	assert_int_equal(web_sessions_count(ws), 3);
	assert_null(web_sessions_find(ws, ids[1], 202)); /* the least recently used went */
	assert_non_null(web_sessions_find(ws, ids[0], 202));
	assert_non_null(web_sessions_find(ws, ids[2], 202));
	assert_non_null(web_sessions_find(ws, ids[3], 202));
	for (int i = 0; i < 1000; i++)
		assert_non_null(web_sessions_create(ws, "w@example.org", 300 + i));
	assert_int_equal(web_sessions_count(ws), 3);
	web_sessions_free(&ws);
}

static void test_session_remove_user(void **state)
{
	web_sessions *ws = web_sessions_new(10, 100000, 100000);
	char ids[4][WEB_TOKEN_HEX + 1];
	const char *users[4] = {"u@example.org", "v@example.org", "u@example.org", "u@example.org"};
	for (int i = 0; i < 4; i++)
		memcpy(ids[i], web_sessions_create(ws, users[i], 100)->id, WEB_TOKEN_HEX + 1);
	assert_int_equal(web_sessions_remove_user(ws, "u@example.org", ids[2]), 2);
	assert_null(web_sessions_find(ws, ids[0], 101));
	assert_non_null(web_sessions_find(ws, ids[1], 101)); /* another account's */
	assert_non_null(web_sessions_find(ws, ids[2], 101)); /* the one kept */
	assert_null(web_sessions_find(ws, ids[3], 101));
	assert_int_equal(web_sessions_remove_user(ws, "u@example.org", NULL), 1);
	assert_int_equal(web_sessions_count(ws), 1);
	web_sessions_free(&ws);
}

static void test_when(void **state)
{
	time_t now = 1796342400 + 3600; /* 2026-12-04 01:00 UTC */
	static const struct {
		const char *in;
		bool ok;
		long long want;
	} cases[] = {
		{"", true, 0}, {"  ", true, 0},
		{"30m", true, 1796342400 + 1800}, {"1h", true, 1796342400}, {"2d", true, 1796342400 + 3600 - 172800},
		{"1w", true, 1796342400 + 3600 - 604800},
		{"2026-12-04", true, 1796342400}, {"2026-12-04T00:30", true, 1796344200},
		{"2026-12-04 00:30:15", true, 1796344215},
		{"2026-02-30", false, 0}, {"2026-13-01", false, 0}, {"2026-12-04T25:00", false, 0},
		{"2026-12-04x", false, 0}, {"yesterday", false, 0}, {"5", false, 0}, {"5y", false, 0},
		{"-1d", false, 0}, {"1234567d", false, 0}, {"2d ", false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t t = 42;
		bool ok = web_when_parse(cases[i].in, now, &t);
		if (ok != cases[i].ok)
			fail_msg("\"%s\": %s", cases[i].in, ok ? "accepted" : "refused");
		if (ok)
			assert_int_equal((long long)t, cases[i].want);
	}
}

/* What DNS answers against the advised record: a match, another value of
 * the same kind, nothing of its kind (other TXT records do not count), a
 * failed look-up. */
static void test_dns_match(void **state)
{
	dnsadvice_rec mx = {.rrtype = DNS_TYPE_MX, .want = "mail.example.org"};
	dnsadvice_rec spf = {.rrtype = DNS_TYPE_TXT, .want = "v=spf1 mx -all"};
	dnsadvice_rec dmarc = {.rrtype = DNS_TYPE_TXT, .want = "v=DMARC1; p=quarantine"};
	dnsadvice_rec a = {.rrtype = DNS_TYPE_AAAA, .want = "2001:db8::1"};
	strlist f;
	strlist_init(&f);
	assert_int_equal(dnsadvice_match(&mx, NULL), DNSADVICE_UNKNOWN);
	assert_int_equal(dnsadvice_match(&mx, &f), DNSADVICE_MISSING);
	strlist_add(&f, "other.example.net");
	assert_int_equal(dnsadvice_match(&mx, &f), DNSADVICE_DIFFERS);
	strlist_add(&f, "MAIL.example.org.");
	assert_int_equal(dnsadvice_match(&mx, &f), DNSADVICE_MATCH);
	strlist_free(&f);
	strlist_init(&f);
	strlist_add(&f, "google-site-verification=abc");
	assert_int_equal(dnsadvice_match(&spf, &f), DNSADVICE_MISSING);
	strlist_add(&f, "v=spf1ish");
	assert_int_equal(dnsadvice_match(&spf, &f), DNSADVICE_MISSING);
	strlist_add(&f, "v=spf1 a -all");
	assert_int_equal(dnsadvice_match(&spf, &f), DNSADVICE_DIFFERS);
	strlist_add(&f, "v=spf1 mx -all");
	assert_int_equal(dnsadvice_match(&spf, &f), DNSADVICE_MATCH);
	strlist_free(&f);
	strlist_init(&f);
	strlist_add(&f, "v=DMARC1;p=none");
	assert_int_equal(dnsadvice_match(&dmarc, &f), DNSADVICE_DIFFERS);
	strlist_free(&f);
	strlist_init(&f);
	strlist_add(&f, "2001:db8:0:0:0:0:0:1");
	assert_int_equal(dnsadvice_match(&a, &f), DNSADVICE_MATCH);
	strlist_free(&f);
	assert_string_equal(dnsadvice_state_name(DNSADVICE_DIFFERS), "differs");
}

/* SRV: the numbers and the target; "." for a service not offered; CNAME
 * compares host names like MX */
static void test_dns_match_srv(void **state)
{
	dnsadvice_rec srv = {.rrtype = DNS_TYPE_SRV, .want = "0 1 993 mail.example.org"};
	dnsadvice_rec none = {.rrtype = DNS_TYPE_SRV, .want = "0 0 0 ."};
	dnsadvice_rec cname = {.rrtype = DNS_TYPE_CNAME, .want = "mail.example.org"};
	strlist f;
	strlist_init(&f);
	strlist_add(&f, "0 1 143 mail.example.org.");
	assert_int_equal(dnsadvice_match(&srv, &f), DNSADVICE_DIFFERS);
	assert_int_equal(dnsadvice_match(&none, &f), DNSADVICE_DIFFERS);
	strlist_add(&f, "0 1 993 MAIL.example.org.");
	assert_int_equal(dnsadvice_match(&srv, &f), DNSADVICE_MATCH);
	strlist_free(&f);
	strlist_init(&f);
	strlist_add(&f, "0 0 0 .");
	assert_int_equal(dnsadvice_match(&none, &f), DNSADVICE_MATCH);
	assert_int_equal(dnsadvice_match(&srv, &f), DNSADVICE_DIFFERS);
	strlist_free(&f);
	strlist_init(&f);
	strlist_add(&f, "mail.example.org.");
	assert_int_equal(dnsadvice_match(&cname, &f), DNSADVICE_MATCH);
	strlist_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_printf_escapes_arguments_only),
		cmocka_unit_test(test_tick_step),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_session_expiry),
		cmocka_unit_test(test_session_bound),
		cmocka_unit_test(test_session_remove_user),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_dns_match),
		cmocka_unit_test(test_dns_match_srv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
