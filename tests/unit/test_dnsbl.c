/* test_dnsbl.c — unit tests for policy/dnsbl.c: the query names of RFC
 * 5782 (IPv4 reversed octets, IPv6 nibbles, domains), the return-code
 * filters and their matching (answers outside 127.0.0.0/8 never count),
 * and the reading of policy.dnsbl with its file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/dnsbl.h"

static void test_ip_query(void **state)
{
	char n[DNSBL_NAME_MAX];
	assert_true(dnsbl_ip_query("192.0.2.99", "bl.test", n));
	assert_string_equal(n, "99.2.0.192.bl.test");
	assert_true(dnsbl_ip_query("127.0.0.2", "zen.spamhaus.org", n));
	assert_string_equal(n, "2.0.0.127.zen.spamhaus.org");
	/* RFC 5782 2.4's example */
	assert_true(dnsbl_ip_query("2001:db8:1:2:3:4:567:89ab", "ugly.example.com", n));
	assert_string_equal(n, "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
	assert_true(dnsbl_ip_query("::1", "bl.test", n));
	assert_string_equal(n, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test");
	/* the same address however it is written */
	char m[DNSBL_NAME_MAX];
	assert_true(dnsbl_ip_query("2001:DB8:0:0:0:0:0:1", "bl.test", m));
	assert_true(dnsbl_ip_query("2001:db8::1", "bl.test", n));
	assert_string_equal(n, m);
	/* an IPv4-mapped address is asked about as IPv4 */
	assert_true(dnsbl_ip_query("::ffff:192.0.2.7", "bl.test", n));
	assert_string_equal(n, "7.2.0.192.bl.test");
	/* no address */
	assert_false(dnsbl_ip_query("?", "bl.test", n));
	assert_false(dnsbl_ip_query("127.1", "bl.test", n));
	assert_false(dnsbl_ip_query("", "bl.test", n));
	assert_false(dnsbl_ip_query("192.0.2.256", "bl.test", n));
	/* a zone so long the name passes 253 octets */
	char zone[300];
	memset(zone, 'a', 63);
	zone[63] = '.';
	memset(zone + 64, 'b', 63);
	zone[127] = '.';
	memset(zone + 128, 'c', 63);
	zone[191] = '\0';
	assert_true(dnsbl_ip_query("192.0.2.1", zone, n));
	assert_false(dnsbl_ip_query("2001:db8::1", zone, n));
}

static void test_domain_query(void **state)
{
	char n[DNSBL_NAME_MAX];
	assert_true(dnsbl_domain_query("Spam.Example.ORG", "dbl.test", n));
	assert_string_equal(n, "spam.example.org.dbl.test");
	assert_true(dnsbl_domain_query("example.org.", "dbl.test", n));
	assert_string_equal(n, "example.org.dbl.test");
	assert_false(dnsbl_domain_query("[192.0.2.1]", "dbl.test", n));
	assert_false(dnsbl_domain_query("", "dbl.test", n));
	assert_false(dnsbl_domain_query(".", "dbl.test", n));
	assert_false(dnsbl_domain_query("a..b", "dbl.test", n));
	assert_false(dnsbl_domain_query(".a", "dbl.test", n));
	assert_false(dnsbl_domain_query("b\xc3\xbc" "cher.example", "dbl.test", n));
	assert_false(dnsbl_domain_query("a b.example", "dbl.test", n));
	char label[70];
	memset(label, 'x', 64);
	strcpy(label + 64, ".org");
	assert_false(dnsbl_domain_query(label, "dbl.test", n));
	label[1] = '.';
	assert_true(dnsbl_domain_query(label, "dbl.test", n));
	/* a domain that fits alone but not with the zone */
	char big[260];
	for (int i = 0; i < 4; i++) {
		memset(big + i * 62, 'd', 61);
		big[i * 62 + 61] = '.';
	}
	strcpy(big + 248, "org");
	assert_true(strlen(big) == 251);
	assert_false(dnsbl_domain_query(big, "dbl.test", n));
}

static void test_code_parse(void **state)
{
	dnsbl_code c;
	assert_true(dnsbl_code_parse("127.0.0.2", &c));
	assert_int_equal(c.lo, 0x7f000002);
	assert_int_equal(c.hi, 0x7f000002);
	assert_int_equal(c.mask, 0);
	assert_true(dnsbl_code_parse("127.0.0.2-127.0.0.11", &c));
	assert_int_equal(c.lo, 0x7f000002);
	assert_int_equal(c.hi, 0x7f00000b);
	assert_true(dnsbl_code_parse("&4", &c));
	assert_int_equal(c.mask, 4);
	assert_true(dnsbl_code_parse("&0.0.1.0", &c));
	assert_int_equal(c.mask, 0x100);
	assert_false(dnsbl_code_parse("127.0.0.11-127.0.0.2", &c));
	assert_false(dnsbl_code_parse("&0", &c));
	assert_false(dnsbl_code_parse("&", &c));
	assert_false(dnsbl_code_parse("&x", &c));
	assert_false(dnsbl_code_parse("&4294967296", &c));
	assert_false(dnsbl_code_parse("127.0.0", &c));
	assert_false(dnsbl_code_parse("127.0.0.2-", &c));
	assert_false(dnsbl_code_parse("-127.0.0.2", &c));
	assert_false(dnsbl_code_parse("", &c));
	assert_false(dnsbl_code_parse("127.0.0.2-127.0.0.3-127.0.0.4", &c));
}

static void test_match(void **state)
{
	dnsbl_code codes[3];
	assert_true(dnsbl_code_parse("127.0.0.2-127.0.0.11", &codes[0]));
	assert_true(dnsbl_code_parse("127.0.1.5", &codes[1]));
	assert_true(dnsbl_code_parse("&0.0.0.64", &codes[2]));
	dnsbl_list l = {.name = "zen", .zone = "zen.test", .codes = codes, .n_codes = 3};
	assert_int_equal(dnsbl_answer_match(&l, "127.0.0.2"), DNSBL_MATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.0.11"), DNSBL_MATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.0.12"), DNSBL_NOMATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.0.1"), DNSBL_NOMATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.1.5"), DNSBL_MATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.1.4"), DNSBL_NOMATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.0.64"), DNSBL_MATCH);
	assert_int_equal(dnsbl_answer_match(&l, "127.0.3.192"), DNSBL_MATCH);
	/* a mask never makes an answer outside 127/8 count */
	assert_int_equal(dnsbl_answer_match(&l, "8.8.8.64"), DNSBL_BOGUS);
	assert_int_equal(dnsbl_answer_match(&l, "128.0.0.2"), DNSBL_BOGUS);
	assert_int_equal(dnsbl_answer_match(&l, "::1"), DNSBL_BOGUS);
	assert_int_equal(dnsbl_answer_match(&l, "junk"), DNSBL_BOGUS);
	assert_int_equal(dnsbl_answer_match(&l, NULL), DNSBL_BOGUS);
	/* no codes: anything in 127/8 */
	dnsbl_list any = {.name = "any", .zone = "any.test"};
	assert_int_equal(dnsbl_answer_match(&any, "127.0.0.2"), DNSBL_MATCH);
	assert_int_equal(dnsbl_answer_match(&any, "127.255.255.254"), DNSBL_MATCH);
	assert_int_equal(dnsbl_answer_match(&any, "8.8.8.8"), DNSBL_BOGUS);
	assert_int_equal(dnsbl_answer_match(&any, "126.255.255.255"), DNSBL_BOGUS);
}

/* Read a config text's policy.dnsbl; errors joined by '|'. */
static dnsbl_lists *read_text(const char *text, char *errs_r, size_t cap)
{
	char path[] = "/tmp/test_dnsbl_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	config_t cf;
	config_init(&cf);
	assert_int_equal(config_read_file(&cf, path), CONFIG_TRUE);
	unlink(path);
	strlist errs;
	strlist_init(&errs);
	dnsbl_lists *l = dnsbl_lists_read(config_lookup(&cf, "dnsbl"), "y.conf", &errs);
	errs_r[0] = '\0';
	for (size_t i = 0; i < errs.n; i++) {
		strncat(errs_r, errs.items[i], cap - strlen(errs_r) - 2);
		strcat(errs_r, "|");
	}
	strlist_free(&errs);
	config_destroy(&cf);
	return l;
}

static void test_read(void **state)
{
	char e[2048];
	dnsbl_lists *l = read_text(
		"dnsbl = (\n"
		"  { name = \"zen\"; zone = \"Zen.Test\"; codes = [ \"127.0.0.2-127.0.0.11\", \"&8\" ]; weight = 2.5; },\n"
		"  { name = \"wl\"; zone = \"wl.test\"; type = \"ip\"; weight = -5; },\n"
		"  { name = \"dbl\"; zone = \"dbl.test\"; type = \"domain\"; check = [ \"sender\", \"helo\" ]; }\n"
		");\n", e, sizeof e);
	assert_string_equal(e, "");
	assert_non_null(l);
	assert_int_equal(l->n, 3);
	assert_string_equal(l->v[0].zone, "zen.test");
	assert_int_equal(l->v[0].n_codes, 2);
	assert_true(l->v[0].weight == 2.5);
	assert_int_equal(l->v[0].type, DNSBL_IP);
	assert_int_equal(l->v[0].line, 2);
	assert_true(l->v[1].weight == -5.0);
	assert_int_equal(l->v[1].n_codes, 0);
	assert_int_equal(l->v[2].type, DNSBL_DOMAIN);
	assert_int_equal(l->v[2].check, DNSBL_CHECK_SENDER | DNSBL_CHECK_HELO);
	assert_true(l->v[2].weight == 1.0);
	dnsbl_lists_free(&l);
	assert_null(l);

	l = read_text("dnsbl = ();\n", e, sizeof e);
	assert_non_null(l);
	assert_int_equal(l->n, 0);
	dnsbl_lists_free(&l);

	l = read_text(
		"dnsbl = (\n"
		"  { name = \"a\"; zone = \"a.test\"; codes = [ \"127.0.0.9-127.0.0.2\" ]; },\n"
		"  { name = \"b\"; zone = \"b.test.\"; },\n"
		"  { name = \"c\"; zone = \"c.test\"; type = \"asn\"; },\n"
		"  { zone = \"d.test\"; },\n"
		"  { name = \"e\"; zone = \"e.test\"; colour = 1; },\n"
		"  { name = \"f\"; zone = \"f.test\"; weight = \"high\"; },\n"
		"  { name = \"g\"; zone = \"g.test\"; },\n"
		"  { name = \"h\"; zone = \"h.test\"; check = [ \"body\" ]; },\n"
		"  { name = \"g\"; zone = \"i.test\"; }\n"
		");\n", e, sizeof e);
	assert_null(l);
	assert_string_equal(e,
		"y.conf:2: dnsbl code 1 is not an address, a range \"127.0.0.2-127.0.0.11\" or a mask \"&4\"|"
		"y.conf:3: dnsbl zone must be a domain name in quotes, like \"zen.spamhaus.org\"|"
		"y.conf:4: dnsbl type must be \"ip\" or \"domain\"|"
		"y.conf:5: a dnsbl needs a name and a zone|"
		"y.conf:6: unknown dnsbl setting \"colour\" (known: name, zone, type, codes, weight, check)|"
		"y.conf:7: dnsbl weight must be a number, like 1.0 or -5.0|"
		"y.conf:9: dnsbl check entries are \"sender\", \"helo\" or \"client\"|"
		"y.conf:10: two dnsbl lists are named \"g\"|");

	l = read_text("dnsbl = { name = \"a\"; };\n", e, sizeof e);
	assert_null(l);
	assert_string_equal(e, "y.conf:1: policy.dnsbl must be a list in parentheses: ( { name = ...; zone = ...; }, ... )|");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_query),
		cmocka_unit_test(test_domain_query),
		cmocka_unit_test(test_code_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
