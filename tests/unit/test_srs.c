/* test_srs.c — unit tests for rewrite/srs.c.  The expected addresses were
 * computed apart from this code, with Python's hmac and base64 over the
 * scheme as libsrs2 defines it (HMAC-SHA1 of the lower-cased fields, the
 * first four base64 characters; the day number mod 1024 in base32), so a
 * wrong field order, case or encoding here fails. */
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

#include "rewrite/srs.h"

#define NOW ((time_t)1700000000)   /* day 19675: stamp "G3" */
#define DAY ((time_t)86400)

static strlist secrets;
static srs_config cfg;

static int setup(void **state)
{
	strlist_init(&secrets);
	strlist_add(&secrets, "s3cr3t");
	cfg = (srs_config){.secrets = &secrets, .domain = "fwd.example.org", .max_age = 21};
	return 0;
}

static int teardown(void **state)
{
	strlist_free(&secrets);
	return 0;
}

static void test_forward(void **state)
{
	static const struct {
		const char *in, *out;
		srs_status st;
	} cases[] = {
		{"Bob@Remote.Example", "SRS0=q1e5=G3=Remote.Example=Bob@fwd.example.org", SRS_OK},
		/* an SRS0 address from a first forwarder: SRS1 keeps its domain */
		{"SRS0=ABCD=G3=orig.example=alice@first.example",
		 "SRS1=nRM2=first.example==ABCD=G3=orig.example=alice@fwd.example.org", SRS_OK},
		/* an SRS1 address: the same origin, our hash */
		{"SRS1=zzzz=first.example==ABCD=G3=orig.example=alice@other.example",
		 "SRS1=nRM2=first.example==ABCD=G3=orig.example=alice@fwd.example.org", SRS_OK},
		{"SRS1=zzzz@other.example", NULL, SRS_BAD_FORMAT},
		{"SRS1=zzzz=first.example=ABCD=G3=orig.example=alice@other.example", NULL, SRS_BAD_FORMAT},
		{"", NULL, SRS_NO_REWRITE},
		{"nodomain", NULL, SRS_NO_REWRITE},
		{"@x.example", NULL, SRS_NO_REWRITE},
		/* 14 + 10 + 40 = 64 octets: still fits; one more does not */
		{"abcdefghijabcdefghijabcdefghijabcdefghij@Abcde.Test",
		 "SRS0=sAu6=G3=Abcde.Test=abcdefghijabcdefghijabcdefghijabcdefghij@fwd.example.org", SRS_OK},
		{"abcdefghijabcdefghijabcdefghijabcdefghij@Abcdef.Test", NULL, SRS_TOO_LONG},
		{"\"a b\"@remote.example", NULL, SRS_TOO_LONG},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = NULL;
		srs_status st = srs_forward(&cfg, cases[i].in, NOW, &out);
		assert_int_equal(st, cases[i].st);
		if (cases[i].out != NULL)
			assert_string_equal(out, cases[i].out);
		else
			assert_null(out);
		free(out);
	}
}

static void test_reverse(void **state)
{
	static const struct {
		const char *in, *out;
		time_t now;
		srs_status st;
	} cases[] = {
		{"SRS0=q1e5=G3=Remote.Example=Bob@fwd.example.org", "Bob@Remote.Example", NOW, SRS_OK},
		/* hash and stamp in another case (a hop that lower-cased it) */
		{"srs0=Q1E5=g3=remote.example=bob@fwd.example.org", "bob@remote.example", NOW, SRS_OK},
		{"SRS0=q1e5=G3=Remote.Example=Bob@x", "Bob@Remote.Example", NOW + 21 * DAY, SRS_OK},
		{"SRS0=q1e5=G3=Remote.Example=Bob@x", NULL, NOW + 22 * DAY, SRS_EXPIRED},
		{"SRS0=q1e6=G3=Remote.Example=Bob@x", NULL, NOW, SRS_BAD_HASH},
		{"SRS0=q1e5=G3=Remote.Example=Bobby@x", NULL, NOW, SRS_BAD_HASH},
		{"SRS0=q1e5=G4=Remote.Example=Bob@x", NULL, NOW, SRS_BAD_HASH},
		{"SRS0=q1e5=G3=Remote.Example@x", NULL, NOW, SRS_BAD_FORMAT},
		{"SRS0=q1e5=G3==Bob@x", NULL, NOW, SRS_BAD_FORMAT},
		{"SRS0=q1e5@x", NULL, NOW, SRS_BAD_FORMAT},
		{"SRS1=nRM2=first.example==ABCD=G3=orig.example=alice@fwd.example.org",
		 "SRS0=ABCD=G3=orig.example=alice@first.example", NOW, SRS_OK},
		/* SRS1 has no stamp: its age is the first forwarder's to check */
		{"SRS1=nRM2=first.example==ABCD=G3=orig.example=alice@x",
		 "SRS0=ABCD=G3=orig.example=alice@first.example", NOW + 400 * DAY, SRS_OK},
		{"SRS1=nRM3=first.example==ABCD=G3=orig.example=alice@x", NULL, NOW, SRS_BAD_HASH},
		{"SRS1=nRM2=first.example@x", NULL, NOW, SRS_BAD_FORMAT},
		{"bob@fwd.example.org", NULL, NOW, SRS_NOT_SRS},
		{"SRS2=a=b=c=d@x", NULL, NOW, SRS_NOT_SRS},
		{"SRS0", NULL, NOW, SRS_NOT_SRS},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = NULL;
		srs_status st = srs_reverse(&cfg, cases[i].in, cases[i].now, &out);
		if (st != cases[i].st)
			fail_msg("%s: got %s, want %s", cases[i].in, srs_status_text(st), srs_status_text(cases[i].st));
		if (cases[i].out != NULL)
			assert_string_equal(out, cases[i].out);
		else
			assert_null(out);
		free(out);
	}
}

/* The stamp wraps every 1024 days: an address made just before the wrap
 * is still good just after it. */
static void test_stamp_wrap(void **state)
{
	time_t made = (time_t)1023 * DAY + 5; /* day 1023: "77" */
	char *a = NULL, *back = NULL;
	assert_int_equal(srs_forward(&cfg, "u@d.example", made, &a), SRS_OK);
	assert_non_null(strstr(a, "=77=d.example=u@"));
	assert_int_equal(srs_reverse(&cfg, a, made + 3 * DAY, &back), SRS_OK);
	assert_string_equal(back, "u@d.example");
	free(back);
	back = NULL;
	assert_int_equal(srs_reverse(&cfg, a, made + 22 * DAY, &back), SRS_EXPIRED);
	free(a);
}

/* The first secret signs; every secret verifies (rotation). */
static void test_rotation(void **state)
{
	strlist two;
	strlist_init(&two);
	strlist_add(&two, "new");
	strlist_add(&two, "s3cr3t");
	srs_config c2 = cfg;
	c2.secrets = &two;
	char *out = NULL;
	assert_int_equal(srs_reverse(&c2, "SRS0=q1e5=G3=Remote.Example=Bob@x", NOW, &out), SRS_OK);
	free(out);
	out = NULL;
	assert_int_equal(srs_forward(&c2, "bob@remote.example", NOW, &out), SRS_OK);
	assert_string_not_equal(out, "SRS0=q1e5=G3=remote.example=bob@fwd.example.org");
	char *back = NULL;
	assert_int_equal(srs_reverse(&cfg, out, NOW, &back), SRS_BAD_HASH); /* old secret alone */
	free(out);
	strlist_free(&two);
}

static void test_secret_file(void **state)
{
	char path[] = "/tmp/test_srs_secretXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	bool created = false;
	char *err = NULL;
	assert_true(srs_secrets_create(path, &created, &err));
	assert_true(created);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(srs_secrets_create(path, &created, &err)); /* kept */
	assert_false(created);
	strlist l;
	strlist_init(&l);
	assert_true(srs_secrets_load(path, &l, &err));
	assert_int_equal(l.n, 1);
	assert_true(strlen(l.items[0]) >= 32);
	strlist_free(&l);
	chmod(path, 0644);
	strlist_init(&l);
	assert_false(srs_secrets_load(path, &l, &err));
	assert_non_null(strstr(err, "chmod 600"));
	free(err);
	strlist_free(&l);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_stamp_wrap),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_secret_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
