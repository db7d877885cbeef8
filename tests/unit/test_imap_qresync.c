/* test_imap_qresync.c — unit tests for imap/qresync.c: the SELECT / EXAMINE
 * parameters (CONDSTORE, QRESYNC with every optional part, and the bad
 * forms with their sentences), the sequence match data of RFC 7162
 * 3.2.5.2's example, and the UID sets of VANISHED (EARLIER), exact and the
 * superset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap/parse.h"
#include "imap/qresync.h"

/* Parse "t SELECT INBOX <params>" and read its parameter list. */
static bool parse_params(const char *params, bool enabled, imap_select_params *p,
                         const char **err_r)
{
	char line[1024];
	snprintf(line, sizeof line, "t SELECT INBOX %s", params);
	imap_command cmd;
	const char *perr = NULL;
	imap_parse_opts o = {0};
	assert_true(imap_command_parse(line, strlen(line), &o, &cmd, &perr));
	assert_int_equal(cmd.nargs, 2);
	*err_r = NULL;
	bool ok = imap_select_params_parse(cmd.args->next, enabled, p, err_r);
	imap_command_free(&cmd);
	return ok;
}

static void test_params_good(void **state)
{
	imap_select_params p;
	const char *err;
	assert_true(parse_params("(CONDSTORE)", false, &p, &err));
	assert_true(p.condstore);
	assert_false(p.qresync);
	imap_select_params_free(&p);

	assert_true(parse_params("(QRESYNC (67890007 20050715194045000 41,43:211,214:541))", true, &p, &err));
	assert_true(p.qresync && p.condstore && p.has_known && !p.has_match);
	assert_int_equal(p.uidvalidity, 67890007u);
	assert_true(p.modseq == 20050715194045000ull);
	assert_int_equal(p.known.n, 3);
	assert_int_equal(p.known.ranges[1].lo, 43);
	assert_int_equal(p.known.ranges[2].hi, 541);
	imap_select_params_free(&p);

	/* RFC 7162 3.2.5.2 */
	assert_true(parse_params("(QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 "
	                         "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,"
	                         "29997)))",
	                         true, &p, &err));
	assert_true(p.has_known && p.has_match);
	imap_select_params_free(&p);

	/* seq-match-data without known UIDs, CONDSTORE next to QRESYNC */
	assert_true(parse_params("(CONDSTORE QRESYNC (1 2 (1:2 5,9)))", true, &p, &err));
	assert_true(!p.has_known && p.has_match);
	imap_select_params_free(&p);
}

static void test_params_bad(void **state)
{
	static const struct {
		const char *params;
		bool enabled;
		const char *err; /* the start of the sentence */
	} cases[] = {
		{"(QRESYNC (1 2))", false, "QRESYNC must be enabled"},
		{"(QRESYNC (0 2))", true, "QRESYNC needs a UIDVALIDITY"},
		{"(QRESYNC (1 0))", true, "QRESYNC needs a UIDVALIDITY"},
		{"(QRESYNC (1 9223372036854775808))", true, "QRESYNC needs a UIDVALIDITY"},
		{"(QRESYNC (1))", true, "QRESYNC needs (uidvalidity"},
		{"(QRESYNC (1 2 3 (1 1) 5))", true, "QRESYNC needs (uidvalidity"},
		{"(QRESYNC)", true, "QRESYNC needs (uidvalidity"},
		{"(QRESYNC 1)", true, "QRESYNC needs (uidvalidity"},
		{"(QRESYNC (1 2) QRESYNC (1 2))", true, "Unknown or repeated"},
		{"(QRESYNC (1 2 1:5 (1:3 1:2)))", true, "QRESYNC sequence match data: the two sets differ"},
		{"(QRESYNC (1 2 1:5 (1:* 1:2)))", true, "QRESYNC sets name messages by number"},
		{"(QRESYNC (1 2 1:5 (1 2 3)))", true, "QRESYNC sequence match data is"},
		{"(QRESYNC (1 2 $))", true, "QRESYNC known UIDs cannot be"},
		{"(QRESYNC (1 2 1:5 (1 1) x))", true, "QRESYNC needs (uidvalidity"},
		{"(QRESYNC (1 2 (1 1) x))", true, "QRESYNC: too many"},
		{"(QRESYNC (1 2 (1 1) 1:5))", true, "QRESYNC: too many"},
		{"(QRESYNC (1 2 0:5))", true, ""},
		{"(FOO)", true, "Unknown or repeated"},
		{"()", true, "SELECT parameters are a non-empty list"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		imap_select_params p;
		const char *err;
		if (parse_params(cases[i].params, cases[i].enabled, &p, &err))
			fail_msg("case %zu (%s) accepted", i, cases[i].params);
		assert_non_null(err);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: \"%s\", want \"%s...\"", i, err, cases[i].err);
		imap_select_params_free(&p);
	}
}

/* RFC 7162 3.2.5.2's mailbox: UIDs 3, 6, ... 29997 (message n has UID 3n). */
static uint32_t *thirds(size_t *n_r, uint32_t skip)
{
	uint32_t *v = calloc(10000, sizeof(uint32_t));
	size_t n = 0;
	for (uint32_t u = 3; u <= 29997; u += 3)
		if (u != skip)
			v[n++] = u;
	*n_r = n;
	return v;
}

static void test_match_floor(void **state)
{
	imap_select_params p;
	const char *err;
	assert_true(parse_params("(QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 "
	                         "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,"
	                         "29997)))",
	                         true, &p, &err));
	size_t n;
	uint32_t *all = thirds(&n, 0);
	/* nothing went: every pair matches */
	assert_int_equal(imap_qresync_match_floor(&p, all, n), 29997);
	buf out;
	buf_init(&out, 1 << 20);
	assert_false(imap_vanished_set(&out, NULL, 0, false, all, n, 29998, &p.known, 29997));
	assert_int_equal(out.len, 0);
	free(all);
	/* 27003 went: the numbers from 9001 on shifted, so 9990 -> 29970 fails */
	uint32_t *some = thirds(&n, 27003);
	assert_int_equal(imap_qresync_match_floor(&p, some, n), 27000);
	assert_true(imap_vanished_set(&out, NULL, 0, false, some, n, 29998, &p.known, 27000));
	assert_true(strncmp(buf_str(&out), "27001:27005,27007:27008,27010:27011,", 36) == 0);
	assert_true(out.len > 36 && strcmp(buf_str(&out) + out.len - 11, "29995:29996") == 0);
	free(some);
	buf_free(&out);
	imap_select_params_free(&p);
	/* no seq-match-data: no floor */
	assert_true(parse_params("(QRESYNC (1 2))", true, &p, &err));
	assert_int_equal(imap_qresync_match_floor(&p, NULL, 0), 0);
	imap_select_params_free(&p);
}

static void test_vanished_sets(void **state)
{
	buf out;
	buf_init(&out, 1024);
	const uint32_t gone[] = {1, 2, 3, 5, 7, 8, 9, 20};
	assert_true(imap_write_uid_set(&out, gone, 8));
	assert_string_equal(buf_str(&out), "1:3,5,7:9,20");
	buf_clear(&out);
	assert_false(imap_write_uid_set(&out, gone, 0));
	assert_int_equal(out.len, 0);
	/* exact, within known 2:7,20 */
	imap_seq_range kr[] = {{2, 7}, {20, 20}};
	imap_seqset known = {.n = 2, .ranges = kr};
	assert_true(imap_vanished_set(&out, gone, 8, true, NULL, 0, 0, &known, 0));
	assert_string_equal(buf_str(&out), "2:3,5,7,20");
	buf_clear(&out);
	/* the superset: every UID below UIDNEXT 12 that is not there */
	const uint32_t present[] = {4, 6, 10};
	assert_true(imap_vanished_set(&out, NULL, 0, false, present, 3, 12, NULL, 0));
	assert_string_equal(buf_str(&out), "1:3,5,7:9,11");
	buf_clear(&out);
	assert_true(imap_vanished_set(&out, NULL, 0, false, present, 3, 12, &known, 4));
	assert_string_equal(buf_str(&out), "5,7");
	buf_clear(&out);
	assert_false(imap_vanished_set(&out, NULL, 0, false, present, 3, 11, NULL, 10));
	/* a full buffer leaves it as it was */
	buf small;
	buf_init(&small, 4);
	assert_true(buf_puts(&small, "ab"));
	assert_false(imap_vanished_set(&small, gone, 8, true, NULL, 0, 0, NULL, 0));
	assert_string_equal(buf_str(&small), "ab");
	buf_free(&small);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_good),
		cmocka_unit_test(test_params_bad),
		cmocka_unit_test(test_match_floor),
		cmocka_unit_test(test_vanished_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
