/* cmd_dkim.c — `yubin dkim keygen | list | sign | verify`: the operator's
 * side of DKIM.  Owns argument parsing and what these commands print; the
 * keys, signing and verification are src/msgauth.  keygen, list and sign
 * switch to the service user first (the keys are its files); verify asks
 * the resolver the server uses (dns.resolver, dns.timeout). */
#include "cli/cli.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "msgauth/dkimdns.h"
#include "msgauth/dkimkeys.h"
#include "msgauth/dkimsign.h"
#include "msgauth/dkimverify.h"

typedef struct dkim_args {
	const char *domain;      /* operand of keygen, --domain of sign */
	const char *selector;
	const char *algorithm;
	const char *time;        /* sign --time UNIX (tests: a t= in the past or future) */
	const char *expire;      /* sign --expire SECONDS (x=) */
} dkim_args;

/* Options by name, and the field of dkim_args each fills. */
static const struct {
	const char *name;
	size_t offset;
} options[] = {
	{"--selector", offsetof(dkim_args, selector)},   {"--algorithm", offsetof(dkim_args, algorithm)},
	{"--domain", offsetof(dkim_args, domain)},       {"--time", offsetof(dkim_args, time)},
	{"--expire", offsetof(dkim_args, expire)},
};

static int dkim_keygen(cli_ctx *ctx, const dkim_args *a);
static int dkim_list(cli_ctx *ctx, const dkim_args *a);
static int dkim_sign_cmd(cli_ctx *ctx, const dkim_args *a);
static int dkim_verify_cmd(cli_ctx *ctx, const dkim_args *a);

static const struct {
	const char *name;
	const char *usage;
	const char *allowed;     /* options it takes, space-separated */
	bool operand;            /* takes DOMAIN */
	int (*run)(cli_ctx *, const dkim_args *);
} verbs[] = {
	{"keygen", "keygen DOMAIN [--selector S] [--algorithm rsa|ed25519]", "--selector --algorithm",
	 true, dkim_keygen},
	{"list", "list", "", false, dkim_list},
	{"sign", "sign --domain D [--selector S] [--expire SECONDS] [--time UNIX] < MESSAGE",
	 "--domain --selector --expire --time", false, dkim_sign_cmd},
	{"verify", "verify < MESSAGE", "", false, dkim_verify_cmd},
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static int usage(void)
{
	for (size_t i = 0; i < N_VERBS; i++)
		fprintf(stderr, "%s yubin dkim %s\n", i == 0 ? "usage:" : "      ", verbs[i].usage);
	return 2;
}

/* Fill a from argv (after the verb); false on a usage error. */
static bool parse_args(size_t verb, int argc, char **argv, dkim_args *a)
{
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] != '-') {
			if (!verbs[verb].operand || a->domain != NULL)
				return false;
			a->domain = argv[i];
			continue;
		}
		size_t o = 0;
		while (o < sizeof(options) / sizeof(options[0]) && strcmp(options[o].name, argv[i]) != 0)
			o++;
		if (o == sizeof(options) / sizeof(options[0]) || i + 1 >= argc ||
		    strstr(verbs[verb].allowed, argv[i]) == NULL)
			return false;
		*(const char **)((char *)a + options[o].offset) = argv[++i];
	}
	return !verbs[verb].operand || a->domain != NULL;
}

int cmd_dkim(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return usage();
	for (size_t v = 0; v < N_VERBS; v++) {
		if (strcmp(argv[1], verbs[v].name) != 0)
			continue;
		dkim_args a = {0};
		if (!parse_args(v, argc - 2, argv + 2, &a))
			return usage();
		return verbs[v].run(ctx, &a);
	}
	return usage();
}

/* ---- keygen and list ---- */

static int dkim_keygen(cli_ctx *ctx, const dkim_args *a)
{
	dkim_alg alg = DKIM_ALG_RSA_SHA256;
	if (a->algorithm != NULL && strcmp(a->algorithm, "ed25519") == 0)
		alg = DKIM_ALG_ED25519_SHA256;
	else if (a->algorithm != NULL && strcmp(a->algorithm, "rsa") != 0)
		return usage();
	if (!dkim_name_valid(a->domain) || (a->selector != NULL && !dkim_name_valid(a->selector))) {
		cli_error("the domain and the selector must be DNS names (letters, digits, hyphens, dots)");
		return 2;
	}
	if (!cli_drop_privileges(ctx))
		return 1;
	char *selector = a->selector ? xstrdup(a->selector) : dkim_default_selector(alg, time(NULL));
	dkim_key key;
	char *err = NULL;
	bool ok = dkim_key_generate(ctx->cfg->data_dir, a->domain, selector, alg, &key, &err);
	free(selector);
	if (!ok) {
		cli_error("%s", err);
		free(err);
		return 1;
	}
	char *record = dkim_key_txt_record(&key);
	printf("wrote %s (%s, %d bits)\n", key.path, dkim_alg_name(alg), dkim_key_bits(&key));
	printf("publish this TXT record in the DNS zone of %s:\n%s\n", key.domain, record);
	free(record);
	dkim_key_free(&key);
	return 0;
}

/* Print the problems met while loading keys; true when there were some. */
static bool report_problems(strlist *problems)
{
	for (size_t i = 0; i < problems->n; i++)
		cli_error("%s", problems->items[i]);
	bool any = problems->n > 0;
	strlist_free(problems);
	return any;
}

static int dkim_list(cli_ctx *ctx, const dkim_args *a)
{
	if (!cli_drop_privileges(ctx))
		return 1;
	dkim_keyset set;
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(ctx->cfg->data_dir, NULL, &set, &problems);
	for (size_t i = 0; i < set.n; i++) {
		const dkim_key *k = &set.keys[i];
		char *name = dkim_key_dns_name(k);
		printf("%s %s %s %d %s\n", k->domain, k->selector, dkim_alg_name(k->alg),
		       dkim_key_bits(k), name);
		free(name);
	}
	dkim_keyset_free(&set);
	return report_problems(&problems) ? 1 : 0;
}

/* ---- sign and verify ---- */

/* All of stdin, up to max bytes; NULL after printing why. */
static char *read_stdin(size_t max, size_t *len_r)
{
	buf b;
	buf_init(&b, max);
	char chunk[65536];
	size_t n;
	bool ok = true;
	while (ok && (n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		ok = buf_append(&b, chunk, n);
	if (!ok || ferror(stdin)) {
		cli_error(ok ? "cannot read the message" : "the message is larger than limits.message_size");
		buf_free(&b);
		return NULL;
	}
	*len_r = b.len;
	return buf_steal(&b);
}

static bool parse_number(const char *s, long long *n_r)
{
	char *end;
	*n_r = strtoll(s, &end, 10);
	return *s != '\0' && *end == '\0' && *n_r >= 0;
}

/* Sign with the keys of a->domain and print the signatures, then the
 * message. */
static int sign_message(const dkim_args *a, const dkim_keyset *set, const char *msg, size_t len)
{
	const dkim_key *keys[2];
	size_t n = dkim_keys_pick(set, a->domain, a->selector, keys);
	if (n == 0) {
		cli_error("no DKIM key for %s%s%s (make one with: yubin dkim keygen %s)", a->domain,
		          a->selector ? " with selector " : "", a->selector ? a->selector : "", a->domain);
		return 1;
	}
	long long t = (long long)time(NULL), x = 0;
	if ((a->time != NULL && !parse_number(a->time, &t)) || (a->expire != NULL && !parse_number(a->expire, &x)))
		return usage();
	const char *nl = memchr(msg, '\n', len);
	dkim_sign_opts o = {.now = (time_t)t, .expire_secs = (long)x, .crlf = nl && nl > msg && nl[-1] == '\r'};
	buf out;
	buf_init(&out, 1 << 20);
	char *err = NULL;
	int rc = 0;
	if (!dkim_sign(msg, len, keys, n, &o, &out, &err)) {
		cli_error("%s", err);
		rc = 1;
	} else if (fwrite(out.data, 1, out.len, stdout) != out.len || fwrite(msg, 1, len, stdout) != len ||
	           fflush(stdout) != 0) {
		cli_error("cannot write the signed message");
		rc = 1;
	}
	free(err);
	buf_free(&out);
	return rc;
}

static int dkim_sign_cmd(cli_ctx *ctx, const dkim_args *a)
{
	if (a->domain == NULL)
		return usage();
	if (!cli_drop_privileges(ctx))
		return 1;
	size_t len;
	char *msg = read_stdin((size_t)ctx->cfg->limits.message_size, &len);
	if (msg == NULL)
		return 1;
	dkim_keyset set;
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(ctx->cfg->data_dir, a->domain, &set, &problems);
	report_problems(&problems);
	int rc = sign_message(a, &set, msg, len);
	dkim_keyset_free(&set);
	free(msg);
	return rc;
}

typedef struct verify_run {
	struct event_base *base;
	bool finished;
	int rc;
} verify_run;

static void print_verdicts(void *arg, const dkim_verdict *v, size_t n)
{
	verify_run *r = arg;
	if (n == 0)
		printf("dkim=none (no signatures)\n");
	for (size_t i = 0; i < n; i++) {
		printf("dkim=%s", dkim_result_name(v[i].result));
		const char *names[] = {"header.d", "header.s", "header.a", "header.b"};
		const char *values[] = {v[i].domain, v[i].selector, v[i].algorithm, v[i].b_prefix};
		for (size_t j = 0; j < 4; j++)
			if (values[j] != NULL)
				printf(" %s=%s", names[j], values[j]);
		if (v[i].reason != NULL)
			printf(" reason=\"%s\"", v[i].reason);
		printf("%s\n", v[i].testing ? " (key in testing mode)" : "");
		if (v[i].result == DKIM_PASS)
			r->rc = 0;
	}
	fflush(stdout);
	r->finished = true;
	if (r->base != NULL)
		event_base_loopbreak(r->base);
}

static int dkim_verify_cmd(cli_ctx *ctx, const dkim_args *a)
{
	size_t len;
	char *msg = read_stdin((size_t)ctx->cfg->limits.message_size, &len);
	if (msg == NULL)
		return 1;
	verify_run run = {.rc = 1};
	struct event_base *base = event_base_new();
	char *err = NULL;
	dns_resolver *res = dns_new(base, ctx->cfg->dns_resolver, ctx->cfg->dns_timeout, &err);
	if (res == NULL) {
		cli_error("%s", err);
		free(err);
	} else {
		dkim_verify_start(msg, len, time(NULL), dkim_lookup_dns, res, print_verdicts, &run);
		run.base = base;
		if (!run.finished)
			event_base_dispatch(base); /* until every key answer (or timeout) is in */
		dns_free(&res);
	}
	event_base_free(base);
	free(msg);
	return run.rc;
}
