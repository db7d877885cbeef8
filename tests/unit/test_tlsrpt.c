/* test_tlsrpt.c — TLS-RPT's pure parts (delivery/tlsrpt.h): result names
 * (RFC 8460 4.3), counting and failure aggregation, the report JSON's names
 * and shape (4), the gzip framing (5.2), the file name (5.1), the
 * multipart/report message (5.3) and the _smtp._tls record (3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "delivery/tlsrpt.h"
#include "delivery/tlsrptdb.h"
#include "delivery/tlsrptpost.h"
#include "lib/config.h"
#include "lib/strutil.h"
#include "msgauth/dkimkeys.h"
#include "msgauth/dnsadvice.h"

#define DAY 1796860800 /* 2026-12-10T00:00:00Z */

static const tlsrpt_sender SENDER = {.org_name = "Example Org", .contact = "tlsrpt@sender.test",
                                     .submitter = "sender.test"};

static const char STS[] = "version: STSv1\nmode: enforce\nmx: mx1.dest.test\nmx: *.dest.test\nmax_age: 86400\n";

static void add(tlsrpt_book *b, time_t when, tlsrpt_policy type, const char *pol, tlsrpt_result r,
                const char *mx, const char *ip)
{
	tlsrpt_session s = {.when = when, .policy_domain = "dest.test", .type = type, .policy_string = pol,
	                    .result = r, .sending_ip = "127.0.0.1", .receiving_mx = mx, .receiving_ip = ip};
	assert_true(tlsrpt_book_add(b, &s));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tlsrpt_result_name(TLSRPT_STARTTLS_NOT_SUPPORTED), "starttls-not-supported");
	assert_string_equal(tlsrpt_result_name(TLSRPT_CERT_HOST_MISMATCH), "certificate-host-mismatch");
	assert_string_equal(tlsrpt_result_name(TLSRPT_CERT_EXPIRED), "certificate-expired");
	assert_string_equal(tlsrpt_result_name(TLSRPT_CERT_NOT_TRUSTED), "certificate-not-trusted");
	assert_string_equal(tlsrpt_result_name(TLSRPT_VALIDATION_FAILURE), "validation-failure");
	assert_string_equal(tlsrpt_result_name(TLSRPT_TLSA_INVALID), "tlsa-invalid");
	assert_string_equal(tlsrpt_result_name(TLSRPT_DNSSEC_INVALID), "dnssec-invalid");
	assert_string_equal(tlsrpt_result_name(TLSRPT_DANE_REQUIRED), "dane-required");
	assert_string_equal(tlsrpt_result_name(TLSRPT_STS_POLICY_FETCH_ERROR), "sts-policy-fetch-error");
	assert_string_equal(tlsrpt_result_name(TLSRPT_STS_POLICY_INVALID), "sts-policy-invalid");
	assert_string_equal(tlsrpt_result_name(TLSRPT_STS_WEBPKI_INVALID), "sts-webpki-invalid");
	assert_string_equal(tlsrpt_policy_name(TLSRPT_POLICY_STS), "sts");
	assert_string_equal(tlsrpt_policy_name(TLSRPT_POLICY_TLSA), "tlsa");
	assert_string_equal(tlsrpt_policy_name(TLSRPT_POLICY_NONE), "no-policy-found");
	assert_int_equal(tlsrpt_result_from_x509(X509_V_ERR_HOSTNAME_MISMATCH), TLSRPT_CERT_HOST_MISMATCH);
	assert_int_equal(tlsrpt_result_from_x509(X509_V_ERR_CERT_HAS_EXPIRED), TLSRPT_CERT_EXPIRED);
	assert_int_equal(tlsrpt_result_from_x509(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT), TLSRPT_CERT_NOT_TRUSTED);
	assert_int_equal(tlsrpt_result_from_x509(X509_V_ERR_DANE_NO_MATCH), TLSRPT_VALIDATION_FAILURE);
	assert_int_equal(tlsrpt_day_start(DAY + 86399), DAY);
	assert_int_equal(tlsrpt_day_start(DAY + 86400), DAY + 86400);
}

/* Counts per (day, domain, type, policy string); failures grouped by
 * (result, sending ip, mx, ip, reason). */
static void test_counting(void **state)
{
	(void)state;
	tlsrpt_book b;
	tlsrpt_book_init(&b);
	add(&b, DAY + 10, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 20, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 30, TLSRPT_POLICY_STS, STS, TLSRPT_CERT_EXPIRED, "mx2.dest.test", "192.0.2.2");
	add(&b, DAY + 40, TLSRPT_POLICY_STS, STS, TLSRPT_CERT_EXPIRED, "mx2.dest.test", "192.0.2.2");
	add(&b, DAY + 50, TLSRPT_POLICY_STS, STS, TLSRPT_CERT_EXPIRED, "mx2.dest.test", "192.0.2.3");
	/* another policy string, another day, another type: other entries */
	add(&b, DAY + 60, TLSRPT_POLICY_STS, "version: STSv1\nmode: testing\nmx: mx1.dest.test\nmax_age: 60\n",
	    TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 86400, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 70, TLSRPT_POLICY_NONE, "ignored", TLSRPT_STARTTLS_NOT_SUPPORTED, "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 80, TLSRPT_POLICY_NONE, NULL, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	assert_int_equal(b.n, 4);
	assert_int_equal(b.v[0].ok, 2);
	assert_int_equal(b.v[0].failed, 3);
	assert_int_equal(b.v[0].n_details, 2);
	assert_int_equal(b.v[0].details[0].count, 2);
	assert_string_equal(b.v[0].details[0].receiving_ip, "192.0.2.2");
	assert_int_equal(b.v[0].details[1].count, 1);
	assert_int_equal(b.v[3].type, TLSRPT_POLICY_NONE);
	assert_int_equal(b.v[3].ok, 1);
	assert_int_equal(b.v[3].failed, 1);
	assert_null(b.v[3].policy_string);
	tlsrpt_session none = {.when = DAY, .policy_domain = NULL};
	assert_false(tlsrpt_book_add(&b, &none));
	tlsrpt_book_free(&b);
}

static json_t *report(const tlsrpt_book *b, int64_t day)
{
	char *txt = tlsrpt_report_json(b, &SENDER, day, "dest.test");
	assert_non_null(txt);
	json_error_t err;
	json_t *j = json_loads(txt, 0, &err);
	free(txt);
	assert_non_null(j);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static json_int_t jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* The names and nesting of RFC 8460 4, one policies[] member per policy
 * string, and nothing from another day. */
static void test_json(void **state)
{
	(void)state;
	tlsrpt_book b;
	tlsrpt_book_init(&b);
	add(&b, DAY + 10, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 30, TLSRPT_POLICY_STS, STS, TLSRPT_CERT_NOT_TRUSTED, "mx2.dest.test", "192.0.2.2");
	add(&b, DAY + 40, TLSRPT_POLICY_TLSA, "_25._tcp.mx1.dest.test. IN TLSA 3 1 1 AABB", TLSRPT_OK,
	    "mx1.dest.test", "192.0.2.1");
	add(&b, DAY + 86400, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
	assert_null(tlsrpt_report_json(&b, &SENDER, DAY, "other.test"));
	json_t *j = report(&b, DAY);
	assert_string_equal(jstr(j, "organization-name"), "Example Org");
	assert_string_equal(jstr(j, "contact-info"), "tlsrpt@sender.test");
	assert_string_equal(jstr(j, "report-id"), "2026-12-10T00:00:00Z_dest.test@sender.test");
	json_t *dr = json_object_get(j, "date-range");
	assert_string_equal(jstr(dr, "start-datetime"), "2026-12-10T00:00:00Z");
	assert_string_equal(jstr(dr, "end-datetime"), "2026-12-10T23:59:59Z");
	json_t *pols = json_object_get(j, "policies");
	assert_int_equal(json_array_size(pols), 2);
	json_t *p0 = json_array_get(pols, 0);
	json_t *pol = json_object_get(p0, "policy");
	assert_string_equal(jstr(pol, "policy-type"), "sts");
	assert_string_equal(jstr(pol, "policy-domain"), "dest.test");
	json_t *ps = json_object_get(pol, "policy-string");
	assert_int_equal(json_array_size(ps), 5);
	assert_string_equal(json_string_value(json_array_get(ps, 0)), "version: STSv1");
	assert_string_equal(json_string_value(json_array_get(ps, 4)), "max_age: 86400");
	json_t *mx = json_object_get(pol, "mx-host");
	assert_int_equal(json_array_size(mx), 2);
	assert_string_equal(json_string_value(json_array_get(mx, 1)), "*.dest.test");
	json_t *sum = json_object_get(p0, "summary");
	assert_int_equal(jint(sum, "total-successful-session-count"), 1);
	assert_int_equal(jint(sum, "total-failure-session-count"), 1);
	json_t *fd = json_array_get(json_object_get(p0, "failure-details"), 0);
	assert_string_equal(jstr(fd, "result-type"), "certificate-not-trusted");
	assert_string_equal(jstr(fd, "sending-mta-ip"), "127.0.0.1");
	assert_string_equal(jstr(fd, "receiving-mx-hostname"), "mx2.dest.test");
	assert_string_equal(jstr(fd, "receiving-ip"), "192.0.2.2");
	assert_int_equal(jint(fd, "failed-session-count"), 1);
	json_t *p1 = json_array_get(pols, 1);
	assert_string_equal(jstr(json_object_get(p1, "policy"), "policy-type"), "tlsa");
	assert_null(json_object_get(p1, "failure-details"));
	json_decref(j);
	tlsrpt_book_free(&b);
}

/* A fresh tlsrpt.db at path (a mkstemp template), and its removal. */
static tlsrptdb *tmp_db(char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char *err = NULL;
	tlsrptdb *db = tlsrptdb_open(path, &err);
	assert_non_null(db);
	return db;
}

static void tmp_db_remove(const char *path)
{
	unlink(path);
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
}

/* receiving-mx-helo (4.4) is part of a failure detail's key; an sts
 * policy that could not be fetched (4.3.2.2) has no policy-string and
 * names the MX hosts the sessions went to; both survive tlsrpt.db. */
static void add_helo(tlsrpt_book *b, tlsrpt_policy type, const char *pol, tlsrpt_result r, const char *helo)
{
	tlsrpt_session s = {.when = DAY + 5, .policy_domain = "dest.test", .type = type, .policy_string = pol,
	                    .result = r, .sending_ip = "127.0.0.1", .receiving_mx = "mx1.dest.test",
	                    .receiving_ip = "192.0.2.1", .reason = "HTTP status 500", .receiving_helo = helo};
	assert_true(tlsrpt_book_add(b, &s));
}

static void check_helo_report(const tlsrpt_book *b)
{
	json_t *j = report(b, DAY);
	json_t *p0 = json_array_get(json_object_get(j, "policies"), 0);
	json_t *pol = json_object_get(p0, "policy");
	assert_string_equal(jstr(pol, "policy-type"), "sts");
	assert_null(json_object_get(pol, "policy-string"));
	json_t *mx = json_object_get(pol, "mx-host");
	assert_int_equal(json_array_size(mx), 1);
	assert_string_equal(json_string_value(json_array_get(mx, 0)), "mx1.dest.test");
	assert_int_equal(jint(json_object_get(p0, "summary"), "total-failure-session-count"), 3);
	json_t *fds = json_object_get(p0, "failure-details");
	assert_int_equal(json_array_size(fds), 2);
	json_t *fd0 = json_array_get(fds, 0), *fd1 = json_array_get(fds, 1);
	assert_string_equal(jstr(fd0, "result-type"), "sts-policy-fetch-error");
	assert_string_equal(jstr(fd0, "receiving-mx-helo"), "greeter.dest.test");
	assert_int_equal(jint(fd0, "failed-session-count"), 2);
	assert_string_equal(jstr(fd0, "failure-reason-code"), "HTTP status 500");
	assert_null(json_object_get(fd1, "receiving-mx-helo"));
	assert_int_equal(jint(fd1, "failed-session-count"), 1);
	json_decref(j);
}

/* Failure details an older version wrote (the details table, no
 * receiving-mx-helo) are still read, next to the new ones. */
static void test_db_old_details(void **state)
{
	(void)state;
	char path[] = "/tmp/test_tlsrpt_XXXXXX";
	char *err = NULL;
	tlsrptdb *db = tmp_db(path);
	sqlite3 *raw = NULL;
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	char *sql = xasprintf("INSERT INTO entries VALUES (%d, 'dest.test', %d, '', 0, 2);"
	                      "INSERT INTO details VALUES (%d, 'dest.test', %d, '', %d, '127.0.0.1', 'mx1.dest.test',"
	                      " '192.0.2.1', '', 2);",
	                      DAY, (int)TLSRPT_POLICY_NONE, DAY, (int)TLSRPT_POLICY_NONE,
	                      (int)TLSRPT_STARTTLS_NOT_SUPPORTED);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	sqlite3_close(raw);
	tlsrpt_book b;
	tlsrpt_book_init(&b);
	tlsrpt_session s = {.when = DAY + 1, .policy_domain = "dest.test", .type = TLSRPT_POLICY_NONE,
	                    .result = TLSRPT_STARTTLS_NOT_SUPPORTED, .sending_ip = "127.0.0.1",
	                    .receiving_mx = "mx1.dest.test", .receiving_ip = "192.0.2.1", .receiving_helo = "mx1"};
	assert_true(tlsrpt_book_add(&b, &s));
	assert_true(tlsrptdb_add(db, &b, &err));
	tlsrpt_book_free(&b);
	assert_true(tlsrptdb_load(db, DAY, "dest.test", &b, &err));
	assert_int_equal(b.n, 1);
	assert_int_equal(b.v[0].failed, 3);
	assert_int_equal(b.v[0].n_details, 2);
	assert_null(b.v[0].details[0].receiving_helo);
	assert_int_equal(b.v[0].details[0].count, 2);
	assert_string_equal(b.v[0].details[1].receiving_helo, "mx1");
	assert_int_equal(b.v[0].details[1].count, 1);
	tlsrpt_book_free(&b);
	tlsrptdb_close(&db);
	tmp_db_remove(path);
}

static void test_helo_and_sts_failure(void **state)
{
	(void)state;
	tlsrpt_book b;
	tlsrpt_book_init(&b);
	add_helo(&b, TLSRPT_POLICY_STS, NULL, TLSRPT_STS_POLICY_FETCH_ERROR, "greeter.dest.test");
	add_helo(&b, TLSRPT_POLICY_STS, NULL, TLSRPT_STS_POLICY_FETCH_ERROR, "greeter.dest.test");
	add_helo(&b, TLSRPT_POLICY_STS, NULL, TLSRPT_STS_POLICY_FETCH_ERROR, NULL);
	assert_int_equal(b.n, 1);
	check_helo_report(&b);
	char path[] = "/tmp/test_tlsrpt_XXXXXX";
	char *err = NULL;
	tlsrptdb *db = tmp_db(path);
	assert_true(tlsrptdb_add(db, &b, &err));
	tlsrpt_book_free(&b);
	assert_true(tlsrptdb_load(db, DAY, "dest.test", &b, &err));
	check_helo_report(&b);
	tlsrpt_book_free(&b);
	tlsrptdb_close(&db);
	tmp_db_remove(path);
}

/* gzip framing (magic 1f 8b) that zlib's auto-detecting inflate reads back. */
static void test_gzip(void **state)
{
	(void)state;
	const char *txt = "{\"organization-name\":\"x\",\"policies\":[]}";
	unsigned char *gz;
	size_t n;
	assert_true(tlsrpt_gzip(txt, strlen(txt), &gz, &n));
	assert_true(n > 18);
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(gz[1], 0x8b);
	z_stream z = {0};
	assert_int_equal(inflateInit2(&z, 15 + 32), Z_OK);
	char out[256];
	z.next_in = gz;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = sizeof out;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, strlen(txt));
	assert_memory_equal(out, txt, strlen(txt));
	inflateEnd(&z);
	free(gz);
}

static void test_filename(void **state)
{
	(void)state;
	char *f = tlsrpt_filename(&SENDER, DAY, "dest.test", "001");
	assert_string_equal(f, "sender.test!dest.test!1796860800!1796947199!001.json.gz");
	free(f);
	f = tlsrpt_filename(&SENDER, DAY, "dest.test", NULL);
	assert_string_equal(f, "sender.test!dest.test!1796860800!1796947199.json.gz");
	free(f);
}

static void test_message(void **state)
{
	(void)state;
	unsigned char gz[] = {0x1f, 0x8b, 1, 2, 3};
	char *m = tlsrpt_message(&SENDER, "tlsrpt-noreply@sender.test", "rua@dest.test", DAY, "dest.test", gz,
	                         sizeof gz, DAY + 3600);
	assert_non_null(strstr(m, "\r\nTLS-Report-Domain: dest.test\r\n"));
	assert_non_null(strstr(m, "\r\nTLS-Report-Submitter: sender.test\r\n"));
	assert_non_null(strstr(m, "\r\nTLS-Required: No\r\n"));
	assert_non_null(strstr(m, "\r\nAuto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: Report Domain: dest.test Submitter: sender.test Report-ID: "
	                          "<2026-12-10T00:00:00Z_dest.test@sender.test>\r\n"));
	assert_non_null(strstr(m, "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary="));
	assert_non_null(strstr(m, "Content-Type: application/tlsrpt+gzip\r\n"));
	assert_non_null(strstr(m, "filename=\"sender.test!dest.test!1796860800!1796947199!"));
	assert_non_null(strstr(m, "\r\nH4sBAgM=\r\n"));
	assert_non_null(strstr(m, "Date: Thu, 10 Dec 2026 01:00:00 +0000\r\n"));
	free(m);
}

static void test_txt(void **state)
{
	(void)state;
	char *to[4];
	size_t n, nh;
	const char *one[] = {"v=STSv1; id=1", "v=TLSRPTv1; rua=mailto:a@x.test, mailto:b%2Cc@x.test,https://r.test/r"};
	assert_true(tlsrpt_parse_txt(one, 2, to, 4, &n, &nh));
	assert_int_equal(n, 2);
	assert_int_equal(nh, 1);
	assert_string_equal(to[0], "a@x.test");
	assert_string_equal(to[1], "b,c@x.test");
	free(to[0]);
	free(to[1]);
	const char *two[] = {"v=TLSRPTv1; rua=mailto:a@x.test", "v=TLSRPTv1; rua=mailto:b@x.test"};
	assert_false(tlsrpt_parse_txt(two, 2, to, 4, &n, &nh));
	const char *bad[] = {"v=TLSRPTv1 rua=mailto:a@x.test"};
	assert_false(tlsrpt_parse_txt(bad, 1, to, 4, &n, &nh));
}

/* https: rua addresses (RFC 8460 3) kept as written, up to the bound,
 * mixed with mailto: ones; and the host and port a POST goes to. */
static void test_https_rua(void **state)
{
	(void)state;
	char *to[2], *https[2];
	size_t n, nh;
	const char *rec[] = {"v=TLSRPTv1;rua=https://r.test/a, mailto:a@x.test,https://[2001:db8::1]:8443/b,"
	                     "https://third.test/c,http://plain.test/d"};
	assert_true(tlsrpt_parse_rua(rec, 1, to, 2, &n, https, 2, &nh));
	assert_int_equal(n, 1);
	assert_int_equal(nh, 2);
	assert_string_equal(to[0], "a@x.test");
	assert_string_equal(https[0], "https://r.test/a");
	assert_string_equal(https[1], "https://[2001:db8::1]:8443/b");
	char *host = NULL;
	int port = 0;
	assert_true(tlsrpt_post_target(https[0], &host, &port));
	assert_string_equal(host, "r.test");
	assert_int_equal(port, 443);
	free(host);
	assert_true(tlsrpt_post_target(https[1], &host, &port));
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 8443);
	free(host);
	assert_true(tlsrpt_post_target("https://R.Test:444/x?y", &host, &port));
	assert_string_equal(host, "r.test");
	assert_int_equal(port, 444);
	free(host);
	assert_false(tlsrpt_post_target("http://r.test/x", &host, &port));
	assert_false(tlsrpt_post_target("https://", &host, &port));
	assert_false(tlsrpt_post_target("mailto:a@r.test", &host, &port));
	assert_false(tlsrpt_post_target("https://r.test:99999/x", &host, &port));
	free(to[0]);
	free(https[0]);
	free(https[1]);
	const char *only[] = {"v=TLSRPTv1; rua=https://r.test/a"};
	assert_true(tlsrpt_parse_rua(only, 1, to, 2, &n, https, 2, &nh));
	assert_int_equal(n, 0);
	assert_int_equal(nh, 1);
	free(https[0]);
}

/* `dns records`: _smtp._tls TXT with rua=mailto: tlsrpt@DOMAIN, or
 * tlsrpt.mailbox with ',' and '!' %-encoded (RFC 8460 3). */
static const char *tlsrpt_txt(config *cfg)
{
	static char got[256];
	dkim_keyset keys = {0};
	dnsadvice a;
	dnsadvice_build(cfg, "example.org", &keys, &a);
	got[0] = '\0';
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].name != NULL && strcmp(a.v[i].name, "_smtp._tls.example.org") == 0) {
			assert_string_equal(a.v[i].type, "TXT");
			snprintf(got, sizeof got, "%s", a.v[i].want);
		}
	dnsadvice_free(&a);
	return got;
}

static void test_dns_advice(void **state)
{
	(void)state;
	config *cfg = config_new_defaults();
	free(cfg->hostname);
	cfg->hostname = xstrdup("mx.example.org");
	assert_string_equal(tlsrpt_txt(cfg), "v=TLSRPTv1; rua=mailto:tlsrpt@example.org");
	cfg->tlsrpt.mailbox = xstrdup("tls!rpt,x@reports.example.net");
	assert_string_equal(tlsrpt_txt(cfg), "v=TLSRPTv1; rua=mailto:tls%21rpt%2Cx@reports.example.net");
	config_free(&cfg);
}

/* tlsrpt.db: two flushes add up, a day loads back with its details and MX
 * names, a report marked sent is not listed again. */
static void test_db(void **state)
{
	(void)state;
	char path[] = "/tmp/test_tlsrpt_XXXXXX";
	char *err = NULL;
	tlsrptdb *db = tmp_db(path);
	for (int round = 0; round < 2; round++) {
		tlsrpt_book b;
		tlsrpt_book_init(&b);
		add(&b, DAY + 10, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
		add(&b, DAY + 20, TLSRPT_POLICY_STS, STS, TLSRPT_CERT_EXPIRED, "mx2.dest.test", "192.0.2.2");
		add(&b, DAY + 30, TLSRPT_POLICY_TLSA, "3 1 1 AABB", TLSRPT_OK, "mx3.dest.test", "192.0.2.3");
		add(&b, DAY + 86400, TLSRPT_POLICY_STS, STS, TLSRPT_OK, "mx1.dest.test", "192.0.2.1");
		assert_true(tlsrptdb_add(db, &b, &err));
		tlsrpt_book_free(&b);
	}
	tlsrpt_book b;
	tlsrpt_book_init(&b);
	assert_true(tlsrptdb_load(db, DAY, "dest.test", &b, &err));
	assert_int_equal(b.n, 2);
	assert_int_equal(b.v[0].ok, 2);
	assert_int_equal(b.v[0].failed, 2);
	assert_int_equal(b.v[0].n_details, 1);
	assert_int_equal(b.v[0].details[0].count, 2);
	assert_int_equal(b.v[0].details[0].result, TLSRPT_CERT_EXPIRED);
	assert_string_equal(b.v[0].details[0].receiving_ip, "192.0.2.2");
	assert_int_equal(b.v[1].type, TLSRPT_POLICY_TLSA);
	assert_int_equal(b.v[1].n_mx, 1);
	assert_string_equal(b.v[1].mx[0], "mx3.dest.test");
	tlsrpt_book_free(&b);
	/* https deliveries: due rows, a failure that waits, a success that goes */
	tlsrptdb_post rows[4];
	size_t np = 0;
	assert_true(tlsrptdb_post_add(db, DAY, "dest.test", "https://r.test/a", DAY + 100, &err));
	assert_true(tlsrptdb_post_add(db, DAY, "dest.test", "https://r.test/a", DAY + 100, &err)); /* once */
	assert_true(tlsrptdb_post_add(db, DAY, "dest.test", "https://r.test/b", DAY + 50, &err));
	assert_true(tlsrptdb_post_due(db, DAY + 60, 3, rows, 4, &np, &err));
	assert_int_equal(np, 1);
	assert_string_equal(rows[0].uri, "https://r.test/b");
	assert_true(tlsrptdb_post_result(db, &rows[0], false, 3, DAY + 70, &err));
	tlsrptdb_post_clear(&rows[0]);
	assert_true(tlsrptdb_post_due(db, DAY + 200, 3, rows, 4, &np, &err));
	assert_int_equal(np, 1); /* b had its three tries */
	assert_string_equal(rows[0].uri, "https://r.test/a");
	assert_int_equal(rows[0].tries, 0);
	assert_true(tlsrptdb_post_result(db, &rows[0], true, 1, 0, &err));
	tlsrptdb_post_clear(&rows[0]);
	assert_true(tlsrptdb_post_due(db, DAY + 200, 4, rows, 4, &np, &err));
	assert_int_equal(np, 1); /* a is done; b again under a higher bound */
	assert_string_equal(rows[0].uri, "https://r.test/b");
	tlsrptdb_post_clear(&rows[0]);
	strlist d;
	strlist_init(&d);
	assert_true(tlsrptdb_unsent(db, DAY, &d, &err));
	assert_int_equal(d.n, 1);
	assert_true(tlsrptdb_mark_sent(db, DAY, "dest.test", &err));
	strlist_free(&d);
	strlist_init(&d);
	assert_true(tlsrptdb_unsent(db, DAY, &d, &err));
	assert_int_equal(d.n, 0);
	assert_true(tlsrptdb_unsent(db, DAY + 86400, &d, &err));
	assert_int_equal(d.n, 1);
	strlist_free(&d);
	tlsrptdb_close(&db);
	tmp_db_remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),    cmocka_unit_test(test_counting), cmocka_unit_test(test_json),
	    cmocka_unit_test(test_gzip),     cmocka_unit_test(test_filename), cmocka_unit_test(test_message),
	    cmocka_unit_test(test_txt),      cmocka_unit_test(test_dns_advice),
	    cmocka_unit_test(test_db),       cmocka_unit_test(test_helo_and_sts_failure),
	    cmocka_unit_test(test_https_rua),   cmocka_unit_test(test_db_old_details),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
