/* cmd_apikey.c — `yubin apikey add NAME --domain D [--domain D...]
 * [--rate N/min] [--daily N] | list | revoke NAME`: the keys of the HTTPS
 * API (docs/SERVICE.md, "Sending from an application").  Owns the wording
 * and exit codes (0 done, 1 failed, 2 usage); the store is api/keys.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/keys.h"
#include "cli/cli.h"

static int ak_usage(void)
{
	fprintf(stderr,
	        "usage: yubin apikey add NAME --domain DOMAIN [--domain DOMAIN...] [--rate N/min] [--daily N]\n"
	        "       yubin apikey list\n"
	        "       yubin apikey revoke NAME\n");
	return 2;
}

static apikeys *ak_open(cli_ctx *ctx)
{
	if (!cli_drop_privileges(ctx))
		return NULL;
	char *err = NULL;
	apikeys *ks = apikeys_open(ctx->cfg, true, &err);
	if (ks == NULL) {
		cli_error("%s", err);
		free(err);
	}
	return ks;
}

/* "N" or "N/min", N >= 1; -1 when neither. */
static long long parse_count(const char *s, bool per_min)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	if (end == s || n < 1 || n > 1000000000LL)
		return -1;
	if (*end == '\0' || (per_min && strcmp(end, "/min") == 0))
		return n;
	return -1;
}

typedef struct add_opts {
	strlist domains;
	long long rate, daily;
} add_opts;

/* The options after NAME; false after printing what is wrong. */
static bool add_options(int argc, char **argv, add_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (val == NULL || (strcmp(opt, "--domain") != 0 && strcmp(opt, "--rate") != 0 &&
		                    strcmp(opt, "--daily") != 0)) {
			cli_error("unknown option or missing value: %s", opt);
			return false;
		}
		i++;
		if (strcmp(opt, "--domain") == 0) {
			char *d = xstrdup(val);
			str_ascii_lower(d);
			if (!apikeys_valid_domain(d) || o->domains.n >= APIKEY_DOMAINS_MAX) {
				cli_error("%s is not a valid domain name", val);
				free(d);
				return false;
			}
			if (strlist_contains(&o->domains, d))
				free(d);
			else
				strlist_add_owned(&o->domains, d);
		} else if ((strcmp(opt, "--rate") == 0 ? (o->rate = parse_count(val, true))
		                                        : (o->daily = parse_count(val, false))) < 0) {
			cli_error("%s wants a whole number of messages, at least 1 (%s)", opt,
			          strcmp(opt, "--rate") == 0 ? "N or N/min" : "per UTC day");
			return false;
		}
	}
	if (o->domains.n == 0) {
		cli_error("a key needs at least one --domain it may send from");
		return false;
	}
	return true;
}

static int ak_add(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 1)
		return ak_usage();
	const char *name = argv[0];
	if (!apikeys_valid_name(name)) {
		cli_error("%s is not a valid key name (1 to %d of A-Z a-z 0-9 . _ -)", name, APIKEY_NAME_MAX);
		return 2;
	}
	add_opts o = {.rate = 0, .daily = 0};
	strlist_init(&o.domains);
	if (!add_options(argc - 1, argv + 1, &o)) {
		strlist_free(&o.domains);
		return 2;
	}
	apikeys *ks = ak_open(ctx);
	if (ks == NULL) {
		strlist_free(&o.domains);
		return 1;
	}
	char *secret = NULL, *err = NULL;
	apikeys_status st = apikeys_add(ks, name, &o.domains, o.rate, o.daily, time(NULL), &secret, &err);
	int rc = 0;
	if (st == APIKEYS_OK) {
		char *joined = strlist_join(&o.domains, ",");
		printf("added API key %s (%.*s...) for %s\n", name, APIKEY_SHOWN, secret, joined);
		printf("%s\n", secret);
		fflush(stdout);
		fprintf(stderr, "yubin: keep the key now: it is stored hashed and cannot be shown again\n");
		free(joined);
	} else if (st == APIKEYS_EXISTS) {
		cli_error("an API key named %s exists already (revoked keys keep their names)", name);
		rc = 1;
	} else {
		cli_error("API key database error: %s", err);
		rc = 1;
	}
	str_secure_free(secret);
	free(err);
	apikeys_close(&ks);
	strlist_free(&o.domains);
	return rc;
}

static void print_time(const char *key, int64_t t, const char *none)
{
	if (t == 0) {
		cli_print_kv(key, none);
		return;
	}
	char s[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cli_print_kv(key, s);
}

static void print_limit(const char *key, int64_t n, const char *unit)
{
	char s[48];
	if (n == 0)
		snprintf(s, sizeof s, "none");
	else
		snprintf(s, sizeof s, "%lld%s", (long long)n, unit);
	cli_print_kv(key, s);
}

static int ak_list(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 0)
		return ak_usage();
	apikeys *ks = ak_open(ctx);
	if (ks == NULL)
		return 1;
	apikey *v;
	size_t n;
	char *err = NULL;
	int rc = 0;
	if (apikeys_list(ks, &v, &n, &err) != APIKEYS_OK) {
		cli_error("API key database error: %s", err);
		free(err);
		rc = 1;
	} else {
		for (size_t i = 0; i < n; i++) {
			char *d = strlist_join(&v[i].domains, ",");
			printf("name=%s", v[i].name);
			cli_print_kv("id", v[i].prefix);
			cli_print_kv("domains", d);
			print_limit("rate", v[i].rate_per_min, "/min");
			print_limit("daily", v[i].daily, "");
			print_time("created", v[i].created, "-");
			print_time("last_used", v[i].last_used, "never");
			print_time("revoked", v[i].revoked, "no");
			printf("\n");
			free(d);
		}
		apikeys_list_free(v, n);
	}
	apikeys_close(&ks);
	return rc;
}

static int ak_revoke(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 1)
		return ak_usage();
	apikeys *ks = ak_open(ctx);
	if (ks == NULL)
		return 1;
	char *err = NULL;
	apikeys_status st = apikeys_revoke(ks, argv[0], time(NULL), &err);
	int rc = 0;
	if (st == APIKEYS_OK) {
		printf("revoked API key %s\n", argv[0]);
	} else if (st == APIKEYS_NOT_FOUND) {
		cli_error("no API key named %s", argv[0]);
		rc = 1;
	} else {
		cli_error("API key database error: %s", err);
		rc = 1;
	}
	free(err);
	apikeys_close(&ks);
	return rc;
}

static const struct {
	const char *name;
	int (*run)(cli_ctx *ctx, int argc, char **argv);
} ak_verbs[] = {
	{"add", ak_add},
	{"list", ak_list},
	{"revoke", ak_revoke},
};

int cmd_apikey(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return ak_usage();
	for (size_t i = 0; i < sizeof ak_verbs / sizeof ak_verbs[0]; i++)
		if (strcmp(argv[1], ak_verbs[i].name) == 0)
			return ak_verbs[i].run(ctx, argc - 2, argv + 2);
	return ak_usage();
}
