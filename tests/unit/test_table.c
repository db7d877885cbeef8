/* test_table.c — unit tests for the policy lists (policy/tableset.c,
 * table.c and its backends): what an entry matches (addresses, "@domain",
 * "domain", "*.domain", names, IPv4/IPv6 networks, IPv4-mapped addresses),
 * the sentences for bad entries, a file list reloaded when it changes (at
 * most once a second, keeping its last good contents when the file
 * disappears or gains a bad line), file:line in the errors, and an sqlite
 * list edited by another connection seen without reopening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/table.h"

static tableset *set_of(const char *const *entries)
{
	tableset *s = tableset_new();
	for (; *entries != NULL; entries++) {
		char *why = NULL;
		if (!tableset_add(s, *entries, &why))
			fail_msg("%s: %s", *entries, why);
	}
	tableset_seal(s);
	return s;
}

static void test_names(void **state)
{
	static const char *const entries[] = {
		"alice@example.org", "@partner.example", "Example.COM", "*.wild.example", "mx1.helo.example", NULL,
	};
	tableset *s = set_of(entries);
	static const struct { const char *key; bool in; } cases[] = {
		{"alice@example.org", true},
		{"ALICE@Example.Org", true},
		{"bob@example.org", false},
		{"example.org", false},
		{"bob@partner.example", true},
		{"partner.example", true},           /* "@d" used as a domain */
		{"bob@sub.partner.example", false},  /* not subdomains */
		{"x@example.com", true},
		{"example.com", true},
		{"x@mail.example.com", false},
		{"x@a.wild.example", true},
		{"a.b.wild.example", true},
		{"wild.example", false},
		{"x@wild.example", false},
		{"mx1.helo.example", true},
		{"MX1.HELO.EXAMPLE", true},
		{"mx2.helo.example", false},
		{"", false},
		{"@", false},
		{"x@", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tableset_contains(s, cases[i].key) != cases[i].in)
			fail_msg("%s: expected %d", cases[i].key, cases[i].in);
	/* a key longer than any entry is not on the list, and does not crash */
	char longkey[2000];
	memset(longkey, 'a', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	assert_false(tableset_contains(s, longkey));
	assert_int_equal(tableset_entries(s)->n, 5);
	assert_string_equal(tableset_entries(s)->items[2], "Example.COM"); /* as written */
	tableset_free(&s);
	assert_null(s);
}

static void test_networks(void **state)
{
	static const char *const entries[] = {
		"192.0.2.0/24", "198.51.100.7", "2001:db8::/32", "::1", "10.0.0.0/8", "::ffff:203.0.113.0/120",
		"0.0.0.0/0", NULL,
	};
	static const char *const no_default[] = {"192.0.2.0/24", "198.51.100.7", "2001:db8::/32", "::1",
	                                         "::ffff:203.0.113.0/120", "172.16.0.0/12", NULL};
	tableset *all = set_of(entries);
	tableset *s = set_of(no_default);
	static const struct { const char *ip; bool in; } cases[] = {
		{"192.0.2.1", true}, {"192.0.2.255", true}, {"192.0.3.1", false},
		{"198.51.100.7", true}, {"198.51.100.8", false},
		{"2001:db8::1", true}, {"2001:db8:ffff::1", true}, {"2001:db9::1", false},
		{"::1", true}, {"::2", false},
		{"::ffff:192.0.2.9", true},        /* IPv4-mapped is the IPv4 address */
		{"203.0.113.77", true},            /* a mapped network is an IPv4 one */
		{"172.31.255.255", true}, {"172.32.0.0", false},
		{"not an ip", false}, {"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tableset_contains_ip(s, cases[i].ip) != cases[i].in)
			fail_msg("%s: expected %d", cases[i].ip, cases[i].in);
	assert_true(tableset_contains_ip(all, "8.8.8.8"));
	assert_false(tableset_contains_ip(all, "2001:db9::1"));
	/* networks are no names */
	assert_false(tableset_contains(s, "192.0.2.0/24"));
	tableset_free(&s);
	tableset_free(&all);
}

static void test_bad_entries(void **state)
{
	static const struct { const char *entry, *error; } cases[] = {
		{"192.0.2.0/33", "192.0.2.0/33: the prefix length must be 0 to 32"},
		{"2001:db8::/129", "2001:db8::/129: the prefix length must be 0 to 128"},
		{"192.0.2.1/24", "192.0.2.1/24 has bits set after the prefix; the network is 192.0.2.0/24"},
		{"192.0.2.300", "192.0.2.300 is not an IP address or network"},
		{"192.0.2.0/", "192.0.2.0/: the prefix length must be 0 to 32"},
		{"192.0.2.0/-1", "192.0.2.0/-1: the prefix length must be 0 to 32"},
		{"fe80::zz", "fe80::zz is not an IP address or network"},
		{"two words", "two words: blanks and control characters are not allowed in an entry"},
		{"a.*.example", "a.*.example: a wildcard must be the whole first label, as in *.example.org"},
		{"*example.org", "*example.org: a wildcard must be the whole first label, as in *.example.org"},
		{"*.", "*.: a wildcard must be the whole first label, as in *.example.org"},
		{"@", "@: a domain must follow the @"},
		{"", "an entry is empty"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tableset *s = tableset_new();
		char *why = NULL, *norm = NULL;
		assert_false(tableset_add(s, cases[i].entry, &why));
		assert_string_equal(why, cases[i].error);
		free(why);
		assert_false(tableset_check(cases[i].entry, &norm, &why));
		assert_null(norm);
		free(why);
		tableset_free(&s);
	}
	char *norm = NULL, *why = NULL;
	assert_true(tableset_check("Alice@Example.ORG", &norm, &why));
	assert_string_equal(norm, "alice@example.org");
	free(norm);
	assert_true(tableset_check("2001:DB8::/32", &norm, &why));
	assert_string_equal(norm, "2001:db8::/32");
	free(norm);
}

/* Static lists through the table interface, and the lists by name. */
static void test_static_and_lists(void **state)
{
	strlist values, errors;
	strlist_init(&values);
	strlist_init(&errors);
	strlist_add(&values, "192.0.2.0/24");
	strlist_add(&values, "partner.example");
	table_config cfg = {.name = "partners", .type = "static", .values = &values, .where = "yubin.conf:12"};
	table *t = table_open(&cfg, &errors);
	assert_non_null(t);
	assert_int_equal(errors.n, 0);
	assert_true(table_contains_ip(t, "192.0.2.44"));
	assert_true(table_contains(t, "bob@partner.example"));
	assert_false(table_contains(t, NULL));
	assert_false(table_contains_ip(t, NULL));
	assert_string_equal(table_type(t), "static");
	bool changed = true;
	char *err = NULL;
	assert_false(table_edit(t, true, "x@example.org", &changed, &err));
	assert_false(changed);
	assert_string_equal(err, "list partners is written in the configuration file: change it there");
	free(err);
	policy_lists *lists = policy_lists_new();
	policy_lists_add(lists, t);
	assert_ptr_equal(policy_list_find(lists, "partners"), t);
	assert_null(policy_list_find(lists, "other"));
	assert_int_equal(policy_lists_count(lists), 1);
	policy_lists_free(&lists);
	assert_null(lists);

	strlist_add(&values, "192.0.2.0/40");
	assert_null(table_open(&cfg, &errors));
	assert_int_equal(errors.n, 1);
	assert_string_equal(errors.items[0],
	                    "yubin.conf:12: list partners: value 3: 192.0.2.0/40: the prefix length must be 0 to 32");
	cfg.type = "ldap";
	assert_null(table_open(&cfg, &errors));
	assert_string_equal(errors.items[1],
	                    "yubin.conf:12: list partners: type must be \"static\", \"file\" or \"sqlite\", not \"ldap\"");
	cfg.type = "static";
	cfg.values = NULL;
	assert_null(table_open(&cfg, &errors));
	assert_string_equal(errors.items[2], "yubin.conf:12: list partners: a static list needs values = [ ... ]");
	strlist_free(&values);
	strlist_free(&errors);
}

static void write_file(const char *path, const char *text)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0); /* a new inode: a new version */
}

static void test_file_reload(void **state)
{
	char dir[] = "/tmp/yubin-test-table-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/blocked", dir);
	write_file(path, "# blocked senders\n\nspam@example.net   # since June\n  *.bad.example\t\n192.0.2.0/24\r\n");
	strlist errors;
	strlist_init(&errors);
	table_config cfg = {.name = "blocked", .type = "file", .path = path, .where = "yubin.conf:3"};
	table *t = table_open(&cfg, &errors);
	time_t tnow = time(NULL);
	assert_non_null(t);
	assert_int_equal(errors.n, 0);
	assert_true(table_contains_at(t, tnow, "spam@example.net"));
	assert_true(table_contains_at(t, tnow, "x@mx.bad.example"));
	assert_true(table_contains_ip_at(t, tnow, "192.0.2.3"));
	assert_false(table_contains_at(t, tnow, "ham@example.net"));
	assert_int_equal(table_entries(t, tnow)->n, 3);

	time_t now = time(NULL) + 10;
	write_file(path, "ham@example.net\n");
	tnow = now;
	assert_true(table_contains_at(t, tnow, "ham@example.net"));
	assert_false(table_contains_at(t, tnow, "spam@example.net"));

	/* within the same second the file is not looked at again */
	write_file(path, "spam@example.net\n");
	tnow = now;
	assert_true(table_contains_at(t, tnow, "ham@example.net"));
	tnow = now + 1;
	assert_true(table_contains_at(t, tnow, "spam@example.net"));

	/* a bad line: the list keeps its contents */
	write_file(path, "new@example.net\n10.0.0.1/8\n");
	tnow = now + 2;
	assert_true(table_contains_at(t, tnow, "spam@example.net"));
	assert_false(table_contains_at(t, tnow, "new@example.net"));
	/* a file that disappears: the same */
	assert_int_equal(unlink(path), 0);
	tnow = now + 3;
	assert_true(table_contains_at(t, tnow, "spam@example.net"));
	tnow = now + 4;
	assert_true(table_contains_at(t, tnow, "spam@example.net"));
	/* and it comes back */
	write_file(path, "back@example.net\n");
	tnow = now + 5;
	assert_true(table_contains_at(t, tnow, "back@example.net"));
	assert_false(table_contains_at(t, tnow, "spam@example.net"));
	/* the CLI's edits: appended, removed with every line holding it,
	 * comments kept, the file's mode kept */
	write_file(path, "# keep me\nback@example.net  # why\nother@example.net");
	assert_int_equal(chmod(path, 0640), 0);
	bool changed = false;
	char *err = NULL;
	assert_true(table_edit(t, true, "New@Example.NET", &changed, &err));
	assert_true(changed);
	assert_true(table_edit(t, true, "new@example.net", &changed, &err));
	assert_false(changed);
	assert_true(table_edit(t, false, "BACK@example.net", &changed, &err));
	assert_true(changed);
	assert_true(table_edit(t, false, "back@example.net", &changed, &err));
	assert_false(changed);
	assert_false(table_edit(t, true, "10.0.0.1/8", &changed, &err));
	free(err);
	FILE *f = fopen(path, "r");
	char text[256] = "";
	assert_int_equal(fread(text, 1, sizeof text - 1, f) > 0, 1);
	fclose(f);
	assert_string_equal(text, "# keep me\nother@example.net\nnew@example.net\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	tnow = now + 6;
	assert_true(table_contains_at(t, tnow, "new@example.net"));
	assert_false(table_contains_at(t, tnow, "back@example.net"));
	table_free(&t);

	/* at start-up a bad file is an error at file:line, a missing one too */
	write_file(path, "ok@example.net\n\n10.0.0.1/8  # typo\nbad entry\n");
	assert_null(table_open(&cfg, &errors));
	assert_int_equal(errors.n, 2);
	char want[512];
	snprintf(want, sizeof want,
	         "%s:3: list blocked: 10.0.0.1/8 has bits set after the prefix; the network is 10.0.0.0/8", path);
	assert_string_equal(errors.items[0], want);
	snprintf(want, sizeof want,
	         "%s:4: list blocked: bad entry: blanks and control characters are not allowed in an entry", path);
	assert_string_equal(errors.items[1], want);
	unlink(path);
	assert_null(table_open(&cfg, &errors));
	snprintf(want, sizeof want,
	         "yubin.conf:3: list blocked: cannot read %s: No such file or directory (an empty file makes an empty list)",
	         path);
	assert_string_equal(errors.items[2], want);
	/* a line too long */
	char *big = xmalloc(10000);
	memset(big, 'a', 9998);
	strcpy(big + 9998, "\n");
	write_file(path, big);
	free(big);
	assert_null(table_open(&cfg, &errors));
	snprintf(want, sizeof want, "%s:1: list blocked: the line is longer than 4096 bytes", path);
	assert_string_equal(errors.items[3], want);
	unlink(path);
	rmdir(dir);
	strlist_free(&errors);
}

static void test_sqlite_list(void **state)
{
	char dir[] = "/tmp/yubin-test-table-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/lists.db", dir);
	strlist errors;
	strlist_init(&errors);
	table_config cfg = {.name = "vips", .type = "sqlite", .path = path, .where = "yubin.conf:7"};
	table *t = table_open(&cfg, &errors);
	time_t tnow = time(NULL);
	assert_non_null(t);
	time_t now = time(NULL) + 10;
	tnow = now;
	assert_false(table_contains_at(t, tnow, "boss@example.org")); /* created, empty */
	bool changed = false;
	char *err = NULL;
	assert_true(table_edit(t, true, "Boss@Example.ORG", &changed, &err));
	assert_true(changed);
	assert_true(table_edit(t, true, "boss@example.org", &changed, &err));
	assert_false(changed);
	assert_true(table_edit(t, true, "2001:db8::/48", &changed, &err));
	tnow = now + 1;
	assert_true(table_contains_at(t, tnow, "boss@example.org"));
	assert_true(table_contains_ip_at(t, tnow, "2001:db8:0:1::5"));
	assert_int_equal(table_entries(t, tnow)->n, 2);
	assert_true(table_edit(t, false, "BOSS@example.org", &changed, &err));
	assert_true(changed);
	tnow = now + 2;
	assert_false(table_contains_at(t, tnow, "boss@example.org"));
	/* a bad value is refused with the entry's sentence */
	assert_false(table_edit(t, true, "10.0.0.1/8", &changed, &err));
	assert_string_equal(err, "10.0.0.1/8 has bits set after the prefix; the network is 10.0.0.0/8");
	free(err);
	table_free(&t);

	/* config errors */
	cfg.name = "my-list";
	assert_null(table_open(&cfg, &errors));
	assert_string_equal(errors.items[0],
	                    "yubin.conf:7: list my-list: table = \"my-list\" must be letters, digits and _ (set table = to name it)");
	cfg.name = "vips";
	cfg.path = "/nonexistent-folder/lists.db";
	assert_null(table_open(&cfg, &errors));
	assert_string_equal(errors.items[1], "yubin.conf:7: list vips: the folder of /nonexistent-folder/lists.db does not exist");
	strlist_free(&errors);
	char side[300];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	rmdir(dir);
}

/* Random bytes as entries and keys: refused or taken, never a crash (run
 * under the sanitizers). */
static void test_garbage(void **state)
{
	tableset *s = tableset_new();
	unsigned seed = 12345;
	static const char alphabet[] = "0123456789abcdef:./*@ \t\x01\xff-_";
	char text[64];
	for (int i = 0; i < 20000; i++) {
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			text[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		text[len] = '\0';
		char *why = NULL;
		if (!tableset_add(s, text, &why))
			assert_non_null(why);
		free(why);
	}
	tableset_seal(s);
	for (int i = 0; i < 20000; i++) {
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 31;
		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			text[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
		}
		text[len] = '\0';
		(void)tableset_contains(s, text);
		(void)tableset_contains_ip(s, text);
	}
	tableset_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_networks),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_static_and_lists),
		cmocka_unit_test(test_file_reload),
		cmocka_unit_test(test_sqlite_list),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
