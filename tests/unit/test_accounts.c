/* test_accounts.c — unit tests for auth/accounts.c: normalisation, domains,
 * users, aliases, recipient resolution and sender ownership.  Every test gets
 * a fresh database in its own mkdtemp directory, with one static domain
 * ("static.test", as if from the configuration) and one database domain
 * ("example.org"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "auth/selfdb.h"
#include "lib/strutil.h"

#define HASH "$y$j9T$abc$0123456789012345678901234567890123456789012"

typedef struct fixture {
	char dir[64];
	char *path;
	accounts *acc;
} fixture;

static int setup(void **state)
{
	fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/yubin-test-acc-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xasprintf("%s/accounts.db", f->dir);
	strlist statics;
	strlist_init(&statics);
	strlist_add(&statics, "Static.Test");
	char *err = NULL;
	f->acc = accounts_open(f->path, &statics, &err);
	strlist_free(&statics);
	if (f->acc == NULL) {
		fprintf(stderr, "open: %s\n", err);
		free(err);
		return -1;
	}
	if (accounts_domain_add(f->acc, "example.org") != ACC_OK)
		return -1;
	*state = f;
	return 0;
}

static void remove_file(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	unlink(p);
	free(p);
}

static int teardown(void **state)
{
	fixture *f = *state;
	accounts_close(&f->acc);
	assert_null(f->acc);
	remove_file(f->dir, "accounts.db");
	remove_file(f->dir, "accounts.db-wal");
	remove_file(f->dir, "accounts.db-shm");
	rmdir(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static accounts *acc_of(void **state)
{
	return ((fixture *)*state)->acc;
}

/* Compare a list with a NULL-terminated array of expected strings. */
static void expect_list(const strlist *l, const char *const *want)
{
	size_t n = 0;
	while (want[n] != NULL)
		n++;
	if (l->n != n) {
		for (size_t i = 0; i < l->n; i++)
			fprintf(stderr, "  got: %s\n", l->items[i]);
		fail_msg("list has %zu items, expected %zu", l->n, n);
	}
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->items[i], want[i]);
}

/* ---- normalisation ----------------------------------------------------- */

static const struct norm_case {
	const char *in;
	const char *out;   /* NULL: invalid */
} norm_cases[] = {
	{ "alice@example.org", "alice@example.org" },
	{ "Alice@Example.ORG", "alice@example.org" },
	{ "ALICE+Tag@EXAMPLE.org", "alice+tag@example.org" },
	{ "J\xc3\x96rg@example.org", "j\xc3\x96rg@example.org" },
	{ "user@b\xc3\xbc" "cher.example", "user@b\xc3\xbc" "cher.example" },
	{ "a.b-c_d@sub-1.example.org", "a.b-c_d@sub-1.example.org" },
	{ "x@localhost", "x@localhost" },
	{ "", NULL },
	{ "alice", NULL },
	{ "@example.org", NULL },
	{ "alice@", NULL },
	{ "alice@@example.org", NULL },
	{ "a@b@example.org", NULL },
	{ "al ice@example.org", NULL },
	{ "al\tice@example.org", NULL },
	{ "al\x7f" "ice@example.org", NULL },
	{ "alice@example..org", NULL },
	{ "alice@.example.org", NULL },
	{ "alice@example.org.", NULL },
	{ "alice@exa_mple.org", NULL },
	{ "alice@exa mple.org", NULL },
	{ "alice@[192.0.2.1]", NULL },
	{ "1234567890123456789012345678901234567890123456789012345678901234@x.org",
	  "1234567890123456789012345678901234567890123456789012345678901234@x.org" },
	{ "12345678901234567890123456789012345678901234567890123456789012345@x.org",
	  NULL },
};

static void test_normalize(void **state)
{
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		char *got = accounts_normalize(norm_cases[i].in);
		if (norm_cases[i].out == NULL && got != NULL)
			fail_msg("\"%s\" accepted as \"%s\"", norm_cases[i].in, got);
		if (norm_cases[i].out != NULL && got == NULL)
			fail_msg("\"%s\" refused", norm_cases[i].in);
		if (got != NULL)
			assert_string_equal(got, norm_cases[i].out);
		free(got);
	}
	assert_null(accounts_normalize(NULL));
}

/* Domain length: 253 bytes is the most; a label is at most 63. */
static void test_normalize_domain_lengths(void **state)
{
	char label[64], domain[260];
	memset(label, 'a', 63);
	label[63] = '\0';
	/* 63+1+63+1+63+1+61 = 253 */
	snprintf(domain, sizeof(domain), "x@%s.%s.%s.%.61s", label, label, label, label);
	char *got = accounts_normalize(domain);
	assert_non_null(got);
	free(got);
	snprintf(domain, sizeof(domain), "x@%s.%s.%s.%.62s", label, label, label, label);
	assert_null(accounts_normalize(domain));
	snprintf(domain, sizeof(domain), "x@%sa.org", label);
	assert_null(accounts_normalize(domain));
}

/* ---- domains ----------------------------------------------------------- */

static void test_domain_add_list(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_domain_add(acc, "Zeta.Example"), ACC_OK);
	assert_int_equal(accounts_domain_add(acc, "alpha.example"), ACC_OK);
	assert_int_equal(accounts_domain_add(acc, "ZETA.example"), ACC_EXISTS);
	assert_int_equal(accounts_domain_add(acc, "static.test"), ACC_EXISTS);
	assert_int_equal(accounts_domain_add(acc, "bad..domain"), ACC_INVALID);
	assert_int_equal(accounts_domain_add(acc, ""), ACC_INVALID);
	strlist l;
	strlist_init(&l);
	strlist_add(&l, "kept");
	assert_int_equal(accounts_domain_list(acc, &l), ACC_OK);
	const char *want[] = { "kept", "alpha.example", "example.org", "static.test",
			       "zeta.example", NULL };
	expect_list(&l, want);
	strlist_free(&l);
}

static void test_domain_is_local(void **state)
{
	accounts *acc = acc_of(state);
	assert_true(accounts_domain_is_local(acc, "example.org"));
	assert_true(accounts_domain_is_local(acc, "EXAMPLE.Org"));
	assert_true(accounts_domain_is_local(acc, "static.test"));
	assert_true(accounts_domain_is_local(acc, "STATIC.TEST"));
	assert_false(accounts_domain_is_local(acc, "example.net"));
	assert_false(accounts_domain_is_local(acc, "sub.example.org"));
	assert_false(accounts_domain_is_local(acc, ""));
	assert_false(accounts_domain_is_local(acc, "example.org."));
}

static void test_domain_del(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_domain_add(acc, "gone.example"), ACC_OK);
	assert_int_equal(accounts_domain_del(acc, "GONE.example"), ACC_OK);
	assert_false(accounts_domain_is_local(acc, "gone.example"));
	assert_int_equal(accounts_domain_del(acc, "gone.example"), ACC_NOT_FOUND);
	assert_int_equal(accounts_domain_del(acc, "never.example"), ACC_NOT_FOUND);
	assert_int_equal(accounts_domain_del(acc, "bad domain"), ACC_INVALID);
	/* Static domains are not in the database. */
	assert_int_equal(accounts_domain_del(acc, "static.test"), ACC_NOT_FOUND);
	assert_true(accounts_domain_is_local(acc, "static.test"));
}

static void test_domain_del_refused_while_used(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_user_add(acc, "alice@example.org", HASH), ACC_OK);
	assert_int_equal(accounts_domain_del(acc, "example.org"), ACC_EXISTS);
	assert_int_equal(accounts_user_del(acc, "alice@example.org"), ACC_OK);
	assert_int_equal(accounts_alias_add(acc, "@example.org", "bob@remote.test"), ACC_OK);
	assert_int_equal(accounts_domain_del(acc, "example.org"), ACC_EXISTS);
	assert_int_equal(accounts_alias_del(acc, "@example.org", NULL), ACC_OK);
	/* A user in a similar-looking domain does not count. */
	assert_int_equal(accounts_domain_add(acc, "xexample.org"), ACC_OK);
	assert_int_equal(accounts_user_add(acc, "carol@xexample.org", HASH), ACC_OK);
	assert_int_equal(accounts_domain_del(acc, "example.org"), ACC_OK);
	assert_false(accounts_domain_is_local(acc, "example.org"));
}

/* ---- users ------------------------------------------------------------- */

static void test_user_add_get_del(void **state)
{
	accounts *acc = acc_of(state);
	char *hash = NULL;
	assert_int_equal(accounts_user_add(acc, "Alice@Example.org", HASH), ACC_OK);
	assert_int_equal(accounts_user_add(acc, "alice@example.ORG", HASH), ACC_EXISTS);
	assert_int_equal(accounts_user_get_hash(acc, "ALICE@example.org", &hash), ACC_OK);
	assert_string_equal(hash, HASH);
	free(hash);
	assert_int_equal(accounts_user_set_hash(acc, "alice@example.org", "$6$new"), ACC_OK);
	assert_int_equal(accounts_user_get_hash(acc, "alice@example.org", &hash), ACC_OK);
	assert_string_equal(hash, "$6$new");
	free(hash);
	assert_int_equal(accounts_user_del(acc, "alice@EXAMPLE.org"), ACC_OK);
	assert_int_equal(accounts_user_get_hash(acc, "alice@example.org", &hash), ACC_NOT_FOUND);
	assert_null(hash);
	assert_int_equal(accounts_user_del(acc, "alice@example.org"), ACC_NOT_FOUND);
	assert_int_equal(accounts_user_set_hash(acc, "alice@example.org", HASH), ACC_NOT_FOUND);
}

static const struct user_add_case {
	const char *address;
	const char *hash;
	accounts_status want;
} user_add_cases[] = {
	{ "bob@example.org", HASH, ACC_OK },
	{ "bob@static.test", HASH, ACC_OK },
	{ "bob@example.net", HASH, ACC_NO_DOMAIN },
	{ "bob@sub.example.org", HASH, ACC_NO_DOMAIN },
	{ "bob", HASH, ACC_INVALID },
	{ "bob@", HASH, ACC_INVALID },
	{ "b ob@example.org", HASH, ACC_INVALID },
	{ "carol@example.org", "", ACC_INVALID },
	{ "carol@example.org", NULL, ACC_INVALID },
};

static void test_user_add_cases(void **state)
{
	accounts *acc = acc_of(state);
	for (size_t i = 0; i < sizeof(user_add_cases) / sizeof(user_add_cases[0]); i++) {
		const struct user_add_case *c = &user_add_cases[i];
		accounts_status got = accounts_user_add(acc, c->address, c->hash);
		if (got != c->want)
			fail_msg("user_add(%s) = %d, expected %d", c->address, got, c->want);
	}
}

static void test_user_list(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_user_add(acc, "zoe@example.org", HASH), ACC_OK);
	assert_int_equal(accounts_user_add(acc, "Adam@Static.Test", HASH), ACC_OK);
	assert_int_equal(accounts_user_add(acc, "bea@example.org", HASH), ACC_OK);
	strlist l;
	strlist_init(&l);
	assert_int_equal(accounts_user_list(acc, &l), ACC_OK);
	const char *want[] = { "adam@static.test", "bea@example.org", "zoe@example.org", NULL };
	expect_list(&l, want);
	strlist_free(&l);
}

static void test_get_hash_malformed(void **state)
{
	char *hash = (char *)"untouched";
	assert_int_equal(accounts_user_get_hash(acc_of(state), "not an address", &hash),
			 ACC_NOT_FOUND);
	assert_null(hash);
}

/* Data that looks like SQL is stored as data. */
static void test_sql_lookalike(void **state)
{
	accounts *acc = acc_of(state);
	const char *addr = "o'neil\";drop_table_users;--@example.org";
	char *hash = NULL;
	assert_int_equal(accounts_user_add(acc, addr, "h'; --"), ACC_OK);
	assert_int_equal(accounts_user_get_hash(acc, addr, &hash), ACC_OK);
	assert_string_equal(hash, "h'; --");
	free(hash);
}

/* ---- aliases ----------------------------------------------------------- */

static void test_alias_add_del_list(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_alias_add(acc, "Info@Example.org", "alice@example.org"), ACC_OK);
	assert_int_equal(accounts_alias_add(acc, "info@example.org", "Bob@Remote.Test"), ACC_OK);
	assert_int_equal(accounts_alias_add(acc, "info@example.org", "ALICE@example.org"), ACC_EXISTS);
	assert_int_equal(accounts_alias_add(acc, "@EXAMPLE.org", "alice@example.org"), ACC_OK);
	assert_int_equal(accounts_alias_add(acc, "x@example.net", "alice@example.org"), ACC_NO_DOMAIN);
	assert_int_equal(accounts_alias_add(acc, "@example.net", "alice@example.org"), ACC_NO_DOMAIN);
	assert_int_equal(accounts_alias_add(acc, "x@example.org", "not-an-address"), ACC_INVALID);
	assert_int_equal(accounts_alias_add(acc, "x@example.org", "@example.org"), ACC_INVALID);
	assert_int_equal(accounts_alias_add(acc, "@", "alice@example.org"), ACC_INVALID);
	assert_int_equal(accounts_alias_add(acc, "x@example.org", "X@example.org"), ACC_LOOP);
	strlist l;
	strlist_init(&l);
	assert_int_equal(accounts_alias_list(acc, &l), ACC_OK);
	const char *want[] = { "@example.org alice@example.org",
			       "info@example.org alice@example.org",
			       "info@example.org bob@remote.test", NULL };
	expect_list(&l, want);
	strlist_free(&l);

	assert_int_equal(accounts_alias_del(acc, "info@example.org", "nobody@example.org"),
			 ACC_NOT_FOUND);
	assert_int_equal(accounts_alias_del(acc, "INFO@example.org", "bob@remote.test"), ACC_OK);
	assert_int_equal(accounts_alias_del(acc, "info@example.org", "bob@remote.test"),
			 ACC_NOT_FOUND);
	assert_int_equal(accounts_alias_del(acc, "@example.org", NULL), ACC_OK);
	assert_int_equal(accounts_alias_del(acc, "@example.org", NULL), ACC_NOT_FOUND);
	assert_int_equal(accounts_alias_del(acc, "info@example.org", "bad"), ACC_INVALID);
	strlist_init(&l);
	assert_int_equal(accounts_alias_list(acc, &l), ACC_OK);
	const char *want2[] = { "info@example.org alice@example.org", NULL };
	expect_list(&l, want2);
	strlist_free(&l);
}

/* ---- resolution -------------------------------------------------------- */

/* The directory every resolution test starts from. */
static void add_directory(accounts *acc)
{
	static const char *const users[] = {
		"alice@example.org", "bob@example.org", "carol@static.test",
	};
	static const char *const aliases[][2] = {
		{ "info@example.org", "alice@example.org" },
		{ "team@example.org", "alice@example.org" },
		{ "team@example.org", "Bob@example.org" },
		{ "team@example.org", "partner@Remote.Test" },
		{ "all@example.org", "team@example.org" },
		{ "all@example.org", "info@example.org" },
		{ "all@example.org", "carol@static.test" },
		{ "all@example.org", "partner@remote.test" },
		{ "fwd@example.org", "someone@remote.test" },
		{ "@static.test", "carol@static.test" },
		{ "ping@example.org", "pong@example.org" },
		{ "pong@example.org", "ping@example.org" },
		{ "self@example.org", "me@example.org" },
		{ "me@example.org", "self@example.org" },
		{ "broken@example.org", "ghost@example.org" },
		{ "bob+news@example.org", "alice@example.org" },
	};
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		assert_int_equal(accounts_user_add(acc, users[i], HASH), ACC_OK);
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		assert_int_equal(accounts_alias_add(acc, aliases[i][0], aliases[i][1]), ACC_OK);
}

#define MAXR 4
static const struct resolve_case {
	const char *address;
	accounts_status want;
	const char *local[MAXR];
	const char *remote[MAXR];
} resolve_cases[] = {
	{ "alice@example.org", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "ALICE@Example.ORG", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "alice+lists@example.org", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "alice+a+b@example.org", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "Info+X@example.org", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "info@example.org", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "fwd@example.org", ACC_OK, { NULL }, { "someone@remote.test" } },
	{ "team@example.org", ACC_OK, { "alice@example.org", "bob@example.org" },
	  { "partner@remote.test" } },
	/* Multi-level, with alice and partner reached twice: de-duplicated. */
	{ "all@example.org", ACC_OK,
	  { "alice@example.org", "carol@static.test", "bob@example.org" },
	  { "partner@remote.test" } },
	/* An exact alias wins over the plus rule. */
	{ "bob+news@example.org", ACC_OK, { "alice@example.org" }, { NULL } },
	{ "bob+other@example.org", ACC_OK, { "bob@example.org" }, { NULL } },
	{ "anything@static.test", ACC_OK, { "carol@static.test" }, { NULL } },
	{ "carol+x@STATIC.test", ACC_OK, { "carol@static.test" }, { NULL } },
	{ "ping@example.org", ACC_LOOP, { NULL }, { NULL } },
	{ "self+t@example.org", ACC_LOOP, { NULL }, { NULL } },
	{ "nobody@example.org", ACC_NOT_FOUND, { NULL }, { NULL } },
	{ "+tag@example.org", ACC_NOT_FOUND, { NULL }, { NULL } },
	{ "broken@example.org", ACC_NOT_FOUND, { NULL }, { NULL } },
	{ "alice@example.net", ACC_NO_DOMAIN, { NULL }, { NULL } },
	{ "alice@sub.example.org", ACC_NO_DOMAIN, { NULL }, { NULL } },
	{ "not an address", ACC_INVALID, { NULL }, { NULL } },
};

static void expect_array(const strlist *l, const char *const *want, const char *what,
			 const char *address)
{
	size_t n = 0;
	while (n < MAXR && want[n] != NULL)
		n++;
	if (l->n != n)
		fail_msg("%s: %zu %s addresses, expected %zu", address, l->n, what, n);
	for (size_t i = 0; i < n; i++)
		if (!strlist_contains(l, want[i]))
			fail_msg("%s: %s missing from %s", address, want[i], what);
}

static void test_resolve_table(void **state)
{
	accounts *acc = acc_of(state);
	add_directory(acc);
	for (size_t i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		strlist local, remote;
		strlist_init(&local);
		strlist_init(&remote);
		accounts_status got = accounts_resolve(acc, c->address, &local, &remote);
		if (got != c->want)
			fail_msg("resolve(%s) = %d, expected %d", c->address, got, c->want);
		expect_array(&local, c->local, "local", c->address);
		expect_array(&remote, c->remote, "remote", c->address);
		strlist_free(&local);
		strlist_free(&remote);
	}
}

/* Results are appended without repeating what the lists already hold. */
static void test_resolve_appends_unique(void **state)
{
	accounts *acc = acc_of(state);
	add_directory(acc);
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	assert_int_equal(accounts_resolve(acc, "info@example.org", &local, &remote), ACC_OK);
	assert_int_equal(accounts_resolve(acc, "team@example.org", &local, &remote), ACC_OK);
	assert_int_equal(accounts_resolve(acc, "ping@example.org", &local, &remote), ACC_LOOP);
	const char *want_local[] = { "alice@example.org", "bob@example.org", NULL };
	const char *want_remote[] = { "partner@remote.test", NULL };
	expect_list(&local, want_local);
	expect_list(&remote, want_remote);
	strlist_free(&local);
	strlist_free(&remote);
}

/* A chain hop0 -> hop1 -> ... -> hopN -> alice: 10 hops resolve, 11 do not. */
static void add_chain(accounts *acc, int hops)
{
	for (int i = 0; i < hops; i++) {
		char *a = xasprintf("hop%d@example.org", i);
		char *t = i + 1 < hops ? xasprintf("hop%d@example.org", i + 1)
				       : xstrdup("alice@example.org");
		assert_int_equal(accounts_alias_add(acc, a, t), ACC_OK);
		free(a);
		free(t);
	}
}

static void test_resolve_depth_limit(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_user_add(acc, "alice@example.org", HASH), ACC_OK);
	add_chain(acc, 10);
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	assert_int_equal(accounts_resolve(acc, "hop0@example.org", &local, &remote), ACC_OK);
	const char *want[] = { "alice@example.org", NULL };
	expect_list(&local, want);
	strlist_free(&local);
	/* One more level in front. */
	assert_int_equal(accounts_alias_add(acc, "hopx@example.org", "hop0@example.org"), ACC_OK);
	assert_int_equal(accounts_resolve(acc, "hopx@example.org", &local, &remote), ACC_LOOP);
	assert_int_equal(local.n, 0);
	assert_int_equal(remote.n, 0);
	assert_int_equal(accounts_resolve(acc, "hop1@example.org", &local, &remote), ACC_OK);
	strlist_free(&local);
	strlist_free(&remote);
}

/* A catch-all that points back into its own domain at an unknown address. */
static void test_resolve_catchall_loop(void **state)
{
	accounts *acc = acc_of(state);
	assert_int_equal(accounts_alias_add(acc, "@example.org", "nobody@example.org"), ACC_OK);
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	assert_int_equal(accounts_resolve(acc, "x@example.org", &local, &remote), ACC_LOOP);
	assert_int_equal(local.n, 0);
	strlist_free(&local);
	strlist_free(&remote);
}

/* Changes made through another handle are seen at once. */
static void test_resolve_sees_other_handle(void **state)
{
	fixture *f = *state;
	char *err = NULL;
	accounts *other = accounts_open(f->path, NULL, &err);
	assert_non_null(other);
	assert_int_equal(accounts_user_add(other, "dan@example.org", HASH), ACC_OK);
	strlist local, remote;
	strlist_init(&local);
	strlist_init(&remote);
	assert_int_equal(accounts_resolve(f->acc, "dan@example.org", &local, &remote), ACC_OK);
	/* The other handle has no static domains. */
	assert_int_equal(accounts_resolve(other, "x@static.test", &local, &remote), ACC_NO_DOMAIN);
	accounts_close(&other);
	assert_null(other);
	strlist_free(&local);
	strlist_free(&remote);
}

static void test_open_failure(void **state)
{
	char *err = NULL;
	accounts *acc = accounts_open("/nonexistent-dir/for/yubin/accounts.db", NULL, &err);
	assert_null(acc);
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent-dir/for/yubin/accounts.db"));
	free(err);
	accounts_close(&acc);
}

/* ---- ownership --------------------------------------------------------- */

static const struct owns_case {
	const char *user;
	const char *address;
	bool want;
} owns_cases[] = {
	{ "alice@example.org", "alice@example.org", true },
	{ "alice@example.org", "ALICE@Example.org", true },
	{ "alice@example.org", "alice+tag@example.org", true },
	{ "alice@example.org", "info@example.org", true },
	{ "alice@example.org", "team@example.org", true },
	{ "bob@example.org", "team@example.org", true },
	{ "alice@example.org", "all@example.org", true },
	{ "carol@static.test", "whatever@static.test", true },
	{ "alice@example.org", "bob@example.org", false },
	{ "alice@example.org", "bob+x@example.org", false },
	{ "bob@example.org", "info@example.org", false },
	{ "alice@example.org", "alice@example.net", false },
	{ "alice@example.org", "fwd@example.org", false },
	{ "alice@example.org", "ping@example.org", false },
	{ "alice@example.org", "garbage", false },
	{ "garbage", "alice@example.org", false },
	{ "alice@example.org", "anything@static.test", false },
};

static void test_user_owns(void **state)
{
	accounts *acc = acc_of(state);
	add_directory(acc);
	for (size_t i = 0; i < sizeof(owns_cases) / sizeof(owns_cases[0]); i++) {
		const struct owns_case *c = &owns_cases[i];
		if ((accounts_user_may_send_as(acc, c->user, c->address) == ACC_OK) != c->want)
			fail_msg("user_owns(%s, %s) != %d", c->user, c->address, c->want);
	}
}

/* The send-as list: an address or "@domain", any domain, per user; it
 * widens what the user may send as (case, "+tag" and the whole domain),
 * nobody else's; deleting the user deletes the list. */
static void test_sendas(void **state)
{
	accounts *acc = acc_of(state);
	add_directory(acc);
	assert_int_equal(accounts_sendas_add(acc, "Alice@example.org", "Shared@Remote.Test"), ACC_OK);
	assert_int_equal(accounts_sendas_add(acc, "alice@example.org", "shared@remote.test"), ACC_EXISTS);
	assert_int_equal(accounts_sendas_add(acc, "alice@example.org", "@Brand.Test"), ACC_OK);
	assert_int_equal(accounts_sendas_add(acc, "nobody@example.org", "x@remote.test"), ACC_NOT_FOUND);
	assert_int_equal(accounts_sendas_add(acc, "alice@example.org", "not an address"), ACC_INVALID);
	assert_int_equal(accounts_sendas_add(acc, "alice@example.org", "@"), ACC_INVALID);
	strlist l;
	strlist_init(&l);
	assert_int_equal(accounts_sendas_list(acc, "ALICE@example.org", &l), ACC_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "@brand.test");
	assert_string_equal(l.items[1], "shared@remote.test");
	strlist_free(&l);
	assert_true((accounts_user_may_send_as(acc, "alice@example.org", "SHARED@remote.test") == ACC_OK));
	assert_true((accounts_user_may_send_as(acc, "alice@example.org", "shared+x@remote.test") == ACC_OK));
	assert_true((accounts_user_may_send_as(acc, "alice@example.org", "anyone@brand.test") == ACC_OK));
	assert_false((accounts_user_may_send_as(acc, "alice@example.org", "other@remote.test") == ACC_OK));
	assert_false((accounts_user_may_send_as(acc, "alice@example.org", "anyone@sub.brand.test") == ACC_OK));
	assert_false((accounts_user_may_send_as(acc, "bob@example.org", "shared@remote.test") == ACC_OK));
	assert_int_equal(accounts_user_may_send_as(acc, "bob@example.org", "shared@remote.test"), ACC_NOT_FOUND);
	assert_int_equal(accounts_user_may_send_as(acc, "alice@example.org", "info@example.org"), ACC_OK);
	assert_int_equal(accounts_sendas_del(acc, "alice@example.org", "shared@REMOTE.test"), ACC_OK);
	assert_int_equal(accounts_sendas_del(acc, "alice@example.org", "shared@remote.test"), ACC_NOT_FOUND);
	assert_false((accounts_user_may_send_as(acc, "alice@example.org", "shared@remote.test") == ACC_OK));
	/* a new alice does not inherit the old one's list */
	assert_int_equal(accounts_user_del(acc, "alice@example.org"), ACC_OK);
	assert_int_equal(accounts_user_add(acc, "alice@example.org", HASH), ACC_OK);
	assert_false((accounts_user_may_send_as(acc, "alice@example.org", "anyone@brand.test") == ACC_OK));
	strlist_init(&l);
	assert_int_equal(accounts_sendas_list(acc, "alice@example.org", &l), ACC_OK);
	assert_int_equal(l.n, 0);
	strlist_free(&l);
}

/* Quotas: defaults until set, own values, NULL-able columns, warning
 * bits, refusals, and gone with the user. */
static void test_quota(void **state)
{
	accounts *acc = ((fixture *)*state)->acc;
	accounts_quota q;
	assert_int_equal(accounts_quota_get(acc, "nobody@example.org", &q), ACC_NOT_FOUND);
	assert_true(q.storage == ACC_QUOTA_DEFAULT && q.messages == ACC_QUOTA_DEFAULT && q.warned == 0);
	assert_int_equal(accounts_quota_set(acc, "nobody@example.org", &q), ACC_NOT_FOUND);
	assert_int_equal(accounts_user_add(acc, "alice@example.org", HASH), ACC_OK);
	assert_int_equal(accounts_quota_get(acc, "ALICE@example.org", &q), ACC_OK);
	assert_true(q.storage == ACC_QUOTA_DEFAULT && q.messages == ACC_QUOTA_DEFAULT && q.warned == 0);
	q = (accounts_quota){.storage = 10 << 20, .messages = ACC_QUOTA_NONE, .warned = ACC_QUOTA_WARNED_STORAGE};
	assert_int_equal(accounts_quota_set(acc, "alice@EXAMPLE.org", &q), ACC_OK);
	accounts_quota g;
	assert_int_equal(accounts_quota_get(acc, "alice@example.org", &g), ACC_OK);
	assert_true(g.storage == 10 << 20 && g.messages == ACC_QUOTA_NONE && g.warned == ACC_QUOTA_WARNED_STORAGE);
	q = (accounts_quota){.storage = ACC_QUOTA_DEFAULT, .messages = 7};
	assert_int_equal(accounts_quota_set(acc, "alice@example.org", &q), ACC_OK);
	assert_int_equal(accounts_quota_get(acc, "alice@example.org", &g), ACC_OK);
	assert_true(g.storage == ACC_QUOTA_DEFAULT && g.messages == 7 && g.warned == 0);
	q.storage = -2;
	assert_int_equal(accounts_quota_set(acc, "alice@example.org", &q), ACC_INVALID);
	assert_int_equal(accounts_quota_set(acc, "not an address", &q), ACC_INVALID);
	/* a new alice does not inherit the old one's quota or warnings */
	assert_int_equal(accounts_user_del(acc, "alice@example.org"), ACC_OK);
	assert_int_equal(accounts_quota_get(acc, "alice@example.org", &g), ACC_NOT_FOUND);
	assert_int_equal(accounts_user_add(acc, "alice@example.org", HASH), ACC_OK);
	assert_int_equal(accounts_quota_get(acc, "alice@example.org", &g), ACC_OK);
	assert_true(g.storage == ACC_QUOTA_DEFAULT && g.messages == ACC_QUOTA_DEFAULT && g.warned == 0);
}

/* ---- app passwords and log-ins (auth/selfdb.c) ---- */

static void test_apppass_format(void **state)
{
	char shown[SELFDB_APPPASS_SHOWN + 1], norm[SELFDB_APPPASS_LEN + 1], again[SELFDB_APPPASS_SHOWN + 1];
	assert_true(selfdb_apppass_generate(shown));
	assert_true(selfdb_apppass_generate(again));
	assert_string_not_equal(shown, again);
	assert_int_equal(strlen(shown), 29);
	for (size_t i = 0; i < 29; i++)
		assert_true(i % 5 == 4 ? shown[i] == '-' : strchr("abcdefghijkmnpqrstuvwxyz23456789", shown[i]) != NULL);
	assert_true(selfdb_apppass_normalize(shown, norm));
	assert_int_equal(strlen(norm), 24);
	assert_true(selfdb_apppass_normalize("ABCD EFGH-ijkm npqr stuv wxyz", norm));
	assert_string_equal(norm, "abcdefghijkmnpqrstuvwxyz");
	static const char *const bad[] = {
		"", "abcd", "abcdefghijkmnpqrstuvwxy", "abcdefghijkmnpqrstuvwxyz2", /* 23 and 25 */
		"abcdefghijklnpqrstuvwxyz", "0bcdefghijkmnpqrstuvwxyz", "abcdefghijkmnpqrstuvwxy!",
		"abcdefghijkmnpqrstuvwxy\xc3\xa9",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(selfdb_apppass_normalize(bad[i], norm));
	assert_true(selfdb_name_valid("phone"));
	assert_true(selfdb_name_valid("work laptop"));
	assert_false(selfdb_name_valid(""));
	assert_false(selfdb_name_valid(NULL));
	assert_false(selfdb_name_valid(" phone"));
	assert_false(selfdb_name_valid("tab\there"));
	assert_false(selfdb_name_valid("t\xc3\xa9l\xc3\xa9phone"));
	char longname[SELFDB_NAME_MAX + 2];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(selfdb_name_valid(longname));
	longname[SELFDB_NAME_MAX] = '\0';
	assert_true(selfdb_name_valid(longname));
}

static void test_apppass_store(void **state)
{
	fixture *f = *state;
	char *err = NULL;
	selfdb *db = selfdb_open(f->path, &err);
	assert_non_null(db);
	const char *u = "u@example.org";
	assert_int_equal(accounts_user_add(f->acc, u, HASH), ACC_OK);
	assert_int_equal(selfdb_apppass_add(db, u, "phone", "abcdefghijkmnpqrstuvwxyz", HASH, 100), ACC_OK);
	assert_int_equal(selfdb_apppass_add(db, u, "phone", "bcdefghijkmnpqrstuvwxyza", HASH, 100), ACC_EXISTS);
	assert_int_equal(selfdb_apppass_add(db, u, "bad\tname", "bcdefghijkmnpqrstuvwxyza", HASH, 100), ACC_INVALID);
	assert_int_equal(selfdb_apppass_add(db, u, "tablet", "abcdzzzzzzzzzzzzzzzzzzzz", HASH, 200), ACC_OK);
	/* the candidates share the first four characters only */
	strlist names, hashes;
	strlist_init(&names);
	strlist_init(&hashes);
	assert_int_equal(selfdb_apppass_candidates(db, u, "abcd22222222222222222222", 5, &names, &hashes), ACC_OK);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.items[0], "phone");
	assert_string_equal(hashes.items[1], HASH);
	strlist_free(&names);
	strlist_init(&names);
	assert_int_equal(selfdb_apppass_candidates(db, u, "abcd22222222222222222222", 1, &names, &hashes), ACC_OK);
	assert_int_equal(names.n, 1);
	strlist_free(&names);
	strlist_init(&names);
	assert_int_equal(selfdb_apppass_candidates(db, u, "zzzz22222222222222222222", 5, &names, &hashes), ACC_OK);
	assert_int_equal(names.n, 0);
	assert_int_equal(selfdb_apppass_candidates(db, "v@example.org", "abcd22222222222222222222", 5, &names,
	                                           &hashes), ACC_OK);
	assert_int_equal(names.n, 0);
	strlist_free(&names);
	strlist_free(&hashes);
	assert_int_equal(selfdb_apppass_used(db, u, "tablet", 300), ACC_OK);
	selfdb_apppass *list;
	size_t n;
	assert_int_equal(selfdb_apppass_list(db, u, &list, &n), ACC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "phone");
	assert_int_equal(list[0].created, 100);
	assert_int_equal(list[0].last_used, 0);
	assert_int_equal(list[1].last_used, 300);
	selfdb_apppass_list_free(list, n);
	/* at most SELFDB_APPPASS_MAX */
	for (int i = 2; i < SELFDB_APPPASS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof name, "d%d", i);
		assert_int_equal(selfdb_apppass_add(db, u, name, "abcdefghijkmnpqrstuvwxyz", HASH, 1), ACC_OK);
	}
	assert_int_equal(selfdb_apppass_add(db, u, "more", "abcdefghijkmnpqrstuvwxyz", HASH, 1), ACC_LIMIT);
	assert_int_equal(selfdb_apppass_revoke(db, u, "phone"), ACC_OK);
	assert_int_equal(selfdb_apppass_revoke(db, u, "phone"), ACC_NOT_FOUND);
	assert_int_equal(selfdb_apppass_add(db, u, "more", "abcdefghijkmnpqrstuvwxyz", HASH, 1), ACC_OK);
	/* a user deleted and added again starts with none */
	assert_int_equal(accounts_user_del(f->acc, u), ACC_OK);
	assert_int_equal(selfdb_apppass_list(db, u, &list, &n), ACC_OK);
	assert_int_equal(n, 0);
	selfdb_apppass_list_free(list, n);
	selfdb_close(&db);
	assert_null(db);
}

static void test_logins_bounded(void **state)
{
	fixture *f = *state;
	char *err = NULL;
	selfdb *db = selfdb_open(f->path, &err);
	assert_non_null(db);
	for (int i = 0; i < SELFDB_LOGINS_MAX + 7; i++)
		assert_int_equal(selfdb_login_record(db, "u@example.org", i % 2 ? "imap" : "smtp", "192.0.2.1",
		                                     i % 3 ? "ok" : "failed", i == SELFDB_LOGINS_MAX + 6 ? "phone" : NULL,
		                                     1000 + i), ACC_OK);
	assert_int_equal(selfdb_login_record(db, "v@example.org", "pop3", "::1", "ok", NULL, 5), ACC_OK);
	selfdb_login *l;
	size_t n;
	assert_int_equal(selfdb_login_list(db, "u@example.org", 1000, &l, &n), ACC_OK);
	assert_int_equal(n, SELFDB_LOGINS_MAX);
	assert_int_equal(l[0].at, 1000 + SELFDB_LOGINS_MAX + 6); /* newest first */
	assert_string_equal(l[0].app, "phone");
	assert_null(l[1].app);
	assert_int_equal(l[n - 1].at, 1007); /* the seven oldest pruned */
	assert_string_equal(l[n - 1].protocol, "imap");
	selfdb_login_list_free(l, n);
	assert_int_equal(selfdb_login_list(db, "v@example.org", 1000, &l, &n), ACC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].ip, "::1");
	assert_string_equal(l[0].result, "ok");
	selfdb_login_list_free(l, n);
	assert_int_equal(selfdb_login_list(db, "u@example.org", 3, &l, &n), ACC_OK);
	assert_int_equal(n, 3);
	selfdb_login_list_free(l, n);
	selfdb_close(&db);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_normalize_domain_lengths),
		T(test_domain_add_list),
		T(test_domain_is_local),
		T(test_domain_del),
		T(test_domain_del_refused_while_used),
		T(test_user_add_get_del),
		T(test_user_add_cases),
		T(test_user_list),
		T(test_get_hash_malformed),
		T(test_sql_lookalike),
		T(test_alias_add_del_list),
		T(test_resolve_table),
		T(test_resolve_appends_unique),
		T(test_resolve_depth_limit),
		T(test_resolve_catchall_loop),
		T(test_resolve_sees_other_handle),
		cmocka_unit_test(test_open_failure),
		T(test_user_owns),
		T(test_sendas),
		T(test_quota),
		cmocka_unit_test(test_apppass_format),
		T(test_apppass_store),
		T(test_logins_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
