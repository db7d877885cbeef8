/* test_mdname.c — Maildir file names: our U= and W= fields, the flag
 * letters, names other tools wrote, and what is no message at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "store/mdname.h"

static void round_trip(const char *in, const char *want)
{
	mdname n;
	char out[MDNAME_MAX + 1];
	assert_true(mdname_parse(in, &n));
	assert_true(mdname_format(&n, out));
	assert_string_equal(out, want);
}

static void test_delivery_name(void **state)
{
	mdname n;
	assert_true(mdname_parse("1764000000.Y0317ABCDEFGHR0.mx.test", &n));
	assert_string_equal(n.base, "1764000000.Y0317ABCDEFGHR0.mx.test");
	assert_int_equal(n.uid, 0);
	assert_false(n.has_vsize);
	assert_int_equal(n.flags, 0);
	n.uid = 42;
	n.vsize = 1234;
	n.has_vsize = true;
	char out[MDNAME_MAX + 1];
	assert_true(mdname_format(&n, out));
	assert_string_equal(out, "1764000000.Y0317ABCDEFGHR0.mx.test,U=42,W=1234:2,");
}

static void test_fields_and_flags(void **state)
{
	mdname n;
	assert_true(mdname_parse("base.host,U=7,W=99:2,TSRFD", &n));
	assert_string_equal(n.base, "base.host");
	assert_int_equal(n.uid, 7);
	assert_true(n.has_vsize);
	assert_int_equal(n.vsize, 99);
	assert_int_equal(n.flags, MDF_DRAFT | MDF_FLAGGED | MDF_ANSWERED | MDF_SEEN | MDF_DELETED);
	round_trip("base.host,U=7,W=99:2,TSRFD", "base.host,U=7,W=99:2,DFRST");
	/* someone else's fields stay, in place; keyword letters are sorted */
	round_trip("b.h,S=1200,U=3:2,Sca", "b.h,S=1200,U=3:2,Sac");
	round_trip("b.h:2,P", "b.h:2,P");
	/* no info: gets one */
	round_trip("b.h,W=5", "b.h,W=5:2,");
	/* not our field: a zero or oversized UID, a non-number */
	round_trip("b.h,U=0:2,", "b.h,U=0:2,");
	round_trip("b.h,U=4294967296:2,", "b.h,U=4294967296:2,");
	round_trip("b.h,U=12x:2,S", "b.h,U=12x:2,S");
	assert_true(mdname_parse("b.h,U=4294967295:2,", &n));
	assert_int_equal(n.uid, 4294967295u);
	/* only trailing fields are ours: one further in is part of the base */
	assert_true(mdname_parse("b.h,W=4,x,U=9,W=12:2,", &n));
	assert_string_equal(n.base, "b.h,W=4,x");
	assert_int_equal(n.uid, 9);
	assert_int_equal(n.vsize, 12);
	round_trip("b.h,W=4,x,W=12,U=9:2,S", "b.h,W=4,x,U=9,W=12:2,S");
	/* an info that is not version 2 stays part of the name */
	round_trip("b.h:1,xyz", "b.h:1,xyz:2,");
}

static void test_not_messages(void **state)
{
	mdname n;
	assert_false(mdname_parse("", &n));
	assert_false(mdname_parse(".", &n));
	assert_false(mdname_parse("..", &n));
	assert_false(mdname_parse(".hidden", &n));
	assert_false(mdname_parse("a/b", &n));
	/* a name that starts with what looks like our field is all base */
	assert_true(mdname_parse(",U=5:2,S", &n));
	assert_string_equal(n.base, ",U=5");
	assert_int_equal(n.uid, 0);
	char longname[MDNAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(mdname_parse(longname, &n));
	/* a name that no longer fits once the fields are added */
	memset(longname, 'a', MDNAME_MAX - 5);
	longname[MDNAME_MAX - 5] = '\0';
	assert_true(mdname_parse(longname, &n));
	n.uid = 123456;
	char out[MDNAME_MAX + 1];
	assert_false(mdname_format(&n, out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_name),
		cmocka_unit_test(test_fields_and_flags),
		cmocka_unit_test(test_not_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
