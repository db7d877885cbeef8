/* test_password.c — unit tests for auth/password.c: new yescrypt hashes,
 * verification, imported $6$ / $2b$ hashes, and refusal of malformed or
 * locked hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "lib/strutil.h"

/* A hash of plain made directly with libcrypt for the given prefix. */
static char *make_hash(const char *prefix, unsigned long cost, const char *plain)
{
	char *setting = crypt_gensalt_ra(prefix, cost, NULL, 0);
	assert_non_null(setting);
	void *data = NULL;
	int size = 0;
	char *out = crypt_ra(plain, setting, &data, &size);
	assert_non_null(out);
	char *copy = xstrdup(out);
	free(data);
	free(setting);
	return copy;
}

static void test_hash_and_verify(void **state)
{
	char *h = password_hash("correct horse");
	assert_non_null(h);
	assert_memory_equal(h, "$y$", 3);
	assert_true(password_hash_supported(h));
	assert_true(password_verify("correct horse", h));
	assert_false(password_verify("correct horsf", h));
	assert_false(password_verify("", h));
	assert_false(password_verify("correct horse ", h));
	free(h);
}

static void test_salts_differ(void **state)
{
	char *a = password_hash("same");
	char *b = password_hash("same");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	assert_true(password_verify("same", a));
	assert_true(password_verify("same", b));
	free(a);
	free(b);
}

static void test_utf8_password(void **state)
{
	char *h = password_hash("p\xc3\xa4ssw\xc3\xb6rd");
	assert_non_null(h);
	assert_true(password_verify("p\xc3\xa4ssw\xc3\xb6rd", h));
	assert_false(password_verify("passwort", h));
	free(h);
}

static const struct import_case {
	const char *prefix;
	unsigned long cost;
} import_cases[] = {
	{ "$y$", 0 },
	{ "$6$", 0 },
	{ "$6$", 5000 + 1 },   /* explicit rounds=N$ */
	{ "$2b$", 4 },
};

static void test_imported_hashes(void **state)
{
	for (size_t i = 0; i < sizeof(import_cases) / sizeof(import_cases[0]); i++) {
		const struct import_case *c = &import_cases[i];
		char *h = make_hash(c->prefix, c->cost, "imported secret");
		assert_true(password_hash_supported(h));
		assert_true(password_verify("imported secret", h));
		assert_false(password_verify("imported secreT", h));
		free(h);
	}
}

static void test_rounds_form(void **state)
{
	char *h = make_hash("$6$", 6000, "x");
	assert_non_null(strstr(h, "rounds=6000$"));
	assert_true(password_verify("x", h));
	free(h);
}

static const char *const bad_hashes[] = {
	"",
	"*",
	"*0",
	"*1",
	"!",
	"!$y$j9T$abc$def",
	"*LK*",
	"plain-text",
	"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",           /* MD5: not accepted */
	"$5$saltsalt$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF6w8U5n0", /* SHA-256 */
	"$y$",
	"$y$j9T$",
	"$y$j9T$salt$",
	"$y$j9T$salt$short",
	"$y$j9T$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"$6$",
	"$6$salt$",
	"$6$salt$tooshort",
	"$6$rounds=$salt$AAAA",
	"$2b$",
	"$2b$99$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"$2b$4$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	"$2b$04$short",
	"$2a$04$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
};

static void test_bad_hashes_rejected(void **state)
{
	for (size_t i = 0; i < sizeof(bad_hashes) / sizeof(bad_hashes[0]); i++) {
		if (password_hash_supported(bad_hashes[i]))
			fail_msg("accepted bad hash \"%s\"", bad_hashes[i]);
		assert_false(password_verify("", bad_hashes[i]));
		assert_false(password_verify("x", bad_hashes[i]));
	}
	assert_false(password_hash_supported(NULL));
	assert_false(password_verify("x", NULL));
}

/* A well-formed hash with one character changed must not verify. */
static void test_tampered_hash(void **state)
{
	char *h = password_hash("secret");
	assert_non_null(h);
	size_t n = strlen(h);
	h[n - 1] = h[n - 1] == 'A' ? 'B' : 'A';
	assert_false(password_verify("secret", h));
	free(h);
}

/* A '*' or '!' placed in front of a good hash (locked account) fails. */
static void test_locked_hash(void **state)
{
	char *h = password_hash("secret");
	char *locked = xasprintf("!%s", h);
	char *star = xasprintf("*%s", h);
	assert_false(password_hash_supported(locked));
	assert_false(password_verify("secret", locked));
	assert_false(password_verify("secret", star));
	free(h);
	free(locked);
	free(star);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_salts_differ),
		cmocka_unit_test(test_utf8_password),
		cmocka_unit_test(test_imported_hashes),
		cmocka_unit_test(test_rounds_form),
		cmocka_unit_test(test_bad_hashes_rejected),
		cmocka_unit_test(test_tampered_hash),
		cmocka_unit_test(test_locked_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
