/* test_apikeys.c — unit tests for the HTTPS API's key store
 * (src/api/keys.c) and Idempotency-Key records (src/api/idem.c) in a
 * temporary data_dir: keys are shown once and stored only as their hash,
 * found by the secret, revoked; the daily count stops at the quota, is
 * given back, and survives reopening the store; an Idempotency-Key is new,
 * in flight (the same run), interrupted (a restart), a conflict (another
 * body), replayed once finished, forgotten, and expires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/idem.h"
#include "api/keys.h"
#include "lib/config.h"
#include "lib/strutil.h"

static config *make_cfg(void)
{
	config *cfg = config_new_defaults();
	char tmpl[] = "/tmp/yubin-test-apikeys-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	free(cfg->data_dir);
	cfg->data_dir = xstrdup(tmpl);
	return cfg;
}

static void drop_cfg(config *cfg)
{
	char *cmd = xasprintf("rm -rf '%s'", cfg->data_dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	config_free(&cfg);
}

/* The whole file as bytes, to look for the secret in it. */
static bool file_holds(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	char *data = xmalloc(1 << 20);
	size_t n = fread(data, 1, (1 << 20) - 1, f);
	fclose(f);
	bool found = memmem(data, n, needle, strlen(needle)) != NULL;
	free(data);
	return found;
}

static void test_keys(void **state)
{
	config *cfg = make_cfg();
	char *err = NULL, *secret = NULL;
	apikeys *ks = apikeys_open(cfg, true, &err);
	assert_non_null(ks);
	strlist d;
	strlist_init(&d);
	strlist_add(&d, "example.org");
	strlist_add(&d, "b.test");
	assert_int_equal(apikeys_add(ks, "app", &d, 60, 1000, 1700000000, &secret, &err), APIKEYS_OK);
	assert_int_equal(strlen(secret), APIKEY_LEN);
	assert_memory_equal(secret, "yk_", 3);
	char *again = NULL;
	assert_int_equal(apikeys_add(ks, "app", &d, 0, 0, 1700000000, &again, &err), APIKEYS_EXISTS);
	assert_null(again);

	apikey k;
	assert_int_equal(apikeys_find(ks, secret, &k, &err), APIKEYS_OK);
	assert_string_equal(k.name, "app");
	assert_int_equal(k.domains.n, 2);
	assert_string_equal(k.domains.items[1], "b.test");
	assert_int_equal(k.rate_per_min, 60);
	assert_int_equal(k.daily, 1000);
	assert_memory_equal(k.prefix, secret, APIKEY_SHOWN);
	int64_t id = k.id;
	apikey_free(&k);
	/* one character off, a short string, nothing like a key */
	char *wrong = xstrdup(secret);
	wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
	assert_int_equal(apikeys_find(ks, wrong, &k, &err), APIKEYS_NOT_FOUND);
	assert_int_equal(apikeys_find(ks, "yk_short", &k, &err), APIKEYS_NOT_FOUND);
	free(wrong);

	assert_int_equal(apikeys_touch(ks, id, 1700000100, &err), APIKEYS_OK);
	assert_int_equal(apikeys_revoke(ks, "app", 1700000200, &err), APIKEYS_OK);
	assert_int_equal(apikeys_revoke(ks, "app", 1700000300, &err), APIKEYS_OK); /* again: fine */
	assert_int_equal(apikeys_revoke(ks, "nobody", 1700000300, &err), APIKEYS_NOT_FOUND);
	assert_int_equal(apikeys_find(ks, secret, &k, &err), APIKEYS_REVOKED);
	apikey_free(&k);
	apikey *v;
	size_t n;
	assert_int_equal(apikeys_list(ks, &v, &n, &err), APIKEYS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].last_used, 1700000100);
	assert_int_equal(v[0].revoked, 1700000200); /* the first revocation's time */
	apikeys_list_free(v, n);
	apikeys_close(&ks);
	char *path = apikeys_path(cfg);
	assert_false(file_holds(path, secret + 3));
	free(path);
	str_secure_free(secret);
	strlist_free(&d);
	assert_true(apikeys_valid_name("app-1.prod_x"));
	assert_false(apikeys_valid_name("a b"));
	assert_false(apikeys_valid_name(""));
	assert_true(apikeys_valid_domain("mail.example.org"));
	assert_false(apikeys_valid_domain("-a.org"));
	assert_false(apikeys_valid_domain("a..org"));
	assert_false(apikeys_valid_domain("a_b.org"));
	drop_cfg(cfg);
}

static void test_daily(void **state)
{
	config *cfg = make_cfg();
	char *err = NULL;
	apikeys *ks = apikeys_open(cfg, true, &err);
	int64_t count = -1;
	assert_int_equal(apikeys_daily_get(ks, 7, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 0); /* none stored */
	assert_int_equal(apikeys_daily_add(ks, 7, 20000, 3, &err), APIKEYS_OK);
	assert_int_equal(apikeys_daily_add(ks, 7, 20000, 2, &err), APIKEYS_OK);
	assert_int_equal(apikeys_daily_add(ks, 8, 20000, 1, &err), APIKEYS_OK); /* another key */
	assert_int_equal(apikeys_daily_add(ks, 7, 20000, -1, &err), APIKEYS_OK); /* one given back */
	apikeys_close(&ks);
	ks = apikeys_open(cfg, true, &err); /* a restart */
	assert_int_equal(apikeys_daily_get(ks, 7, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 4);
	assert_int_equal(apikeys_daily_get(ks, 8, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 1);
	assert_int_equal(apikeys_daily_get(ks, 7, 20001, &count, &err), APIKEYS_OK); /* the next day */
	assert_int_equal(count, 0);
	/* never below 0, stored or new */
	assert_int_equal(apikeys_daily_add(ks, 7, 20000, -10, &err), APIKEYS_OK);
	assert_int_equal(apikeys_daily_get(ks, 7, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 0);
	assert_int_equal(apikeys_daily_add(ks, 9, 20000, -1, &err), APIKEYS_OK);
	assert_int_equal(apikeys_daily_get(ks, 9, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 0);
	/* days older than a week go as new ones are counted */
	assert_int_equal(apikeys_daily_add(ks, 7, 20010, 1, &err), APIKEYS_OK);
	assert_int_equal(apikeys_daily_get(ks, 8, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 1); /* another key's: kept */
	assert_int_equal(apikeys_daily_add(ks, 8, 20010, 1, &err), APIKEYS_OK);
	assert_int_equal(apikeys_daily_get(ks, 8, 20000, &count, &err), APIKEYS_OK);
	assert_int_equal(count, 0);
	apikeys_close(&ks);
	drop_cfg(cfg);
}

/* The store's version, on the loop's handle, moves when another handle
 * commits (a key added or revoked) and stays while nobody writes: the
 * access check keeps its answers only as long as it stays. */
static void test_version(void **state)
{
	(void)state;
	config *cfg = make_cfg();
	char *err = NULL, *secret = NULL;
	apikeys *writer = apikeys_open(cfg, true, &err);
	apikeys *loop = apikeys_open(cfg, false, &err);
	assert_non_null(writer);
	assert_non_null(loop);
	int64_t v1 = -1, v2 = -1, v3 = -1, v4 = -1;
	assert_int_equal(apikeys_version(loop, &v1, &err), APIKEYS_OK);
	strlist d;
	strlist_init(&d);
	strlist_add(&d, "example.org");
	assert_int_equal(apikeys_add(writer, "app", &d, 0, 0, 1700000000, &secret, &err), APIKEYS_OK);
	assert_int_equal(apikeys_version(loop, &v2, &err), APIKEYS_OK);
	assert_true(v2 != v1);
	apikey k;
	assert_int_equal(apikeys_find(loop, secret, &k, &err), APIKEYS_OK); /* a read changes nothing */
	apikey_free(&k);
	assert_int_equal(apikeys_version(loop, &v3, &err), APIKEYS_OK);
	assert_true(v3 == v2);
	assert_int_equal(apikeys_revoke(writer, "app", 1700000001, &err), APIKEYS_OK);
	assert_int_equal(apikeys_version(loop, &v4, &err), APIKEYS_OK);
	assert_true(v4 != v3);
	/* the hash is the one the store keeps: a 64-digit hex SHA-256 */
	char h[APIKEY_HASH_LEN + 1];
	apikeys_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(secret);
	strlist_free(&d);
	apikeys_close(&loop);
	apikeys_close(&writer);
	drop_cfg(cfg);
}

static void test_idempotency(void **state)
{
	config *cfg = make_cfg();
	char *err = NULL, *resp = NULL;
	int status = 0;
	apikeys *ks = apikeys_open(cfg, true, &err);
	const int64_t t = 1700000000, ttl = 86400;
	assert_int_equal(idem_begin(ks, 1, "k1", "h1", "run1", t, ttl, &status, &resp, &err), IDEM_NEW);
	assert_int_equal(idem_begin(ks, 1, "k1", "h1", "run1", t, ttl, &status, &resp, &err), IDEM_IN_FLIGHT);
	assert_int_equal(idem_begin(ks, 1, "k1", "h1", "run2", t, ttl, &status, &resp, &err), IDEM_INTERRUPTED);
	assert_int_equal(idem_begin(ks, 1, "k1", "h2", "run1", t, ttl, &status, &resp, &err), IDEM_MISMATCH);
	assert_int_equal(idem_begin(ks, 2, "k1", "h2", "run1", t, ttl, &status, &resp, &err), IDEM_NEW); /* other key */
	assert_int_equal(idem_finish(ks, 1, "k1", 202, "{\"id\":\"Q\"}", &err), APIKEYS_OK);
	assert_int_equal(idem_begin(ks, 1, "k1", "h1", "run3", t + 10, ttl, &status, &resp, &err), IDEM_REPLAY);
	assert_int_equal(status, 202);
	assert_string_equal(resp, "{\"id\":\"Q\"}");
	free(resp);
	assert_int_equal(idem_begin(ks, 1, "k1", "h2", "run3", t + 10, ttl, &status, &resp, &err), IDEM_MISMATCH);
	/* forgotten: new again; expired: new again */
	assert_int_equal(idem_forget(ks, 2, "k1", &err), APIKEYS_OK);
	assert_int_equal(idem_begin(ks, 2, "k1", "h9", "run3", t, ttl, &status, &resp, &err), IDEM_NEW);
	assert_int_equal(idem_begin(ks, 1, "k1", "h2", "run3", t + ttl + 1, ttl, &status, &resp, &err), IDEM_NEW);
	apikeys_close(&ks);
	drop_cfg(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_daily),
	    cmocka_unit_test(test_idempotency),
	    cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
