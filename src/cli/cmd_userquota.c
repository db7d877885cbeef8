/* cmd_userquota.c — `yubin user quota ADDRESS [--storage V] [--messages V]`:
 * show an account's quota with its usage, or set its own storage (bytes,
 * with K, M or G) and message limits, "none" for no limit or "default" for
 * limits.mailbox_quota[_messages]; and the quota column of `yubin user
 * list`.  Owns the arguments and the messages of this command; the values'
 * syntax is store/quota.h's, their storage the account store's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "delivery/maildir.h"
#include "store/quota.h"
#include "store/usage.h"

typedef struct quota_args {
	const char *address;
	const char *storage;      /* NULL: leave as it is */
	const char *messages;
} quota_args;

static int quota_usage(void)
{
	fprintf(stderr, "usage: yubin user quota ADDRESS [--storage N[K|M|G]|none|default]"
	                " [--messages N|none|default]\n");
	return 2;
}

/* argv[0] is "quota". */
static bool quota_parse_args(int argc, char **argv, quota_args *a_r)
{
	*a_r = (quota_args){0};
	for (int i = 1; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--storage") == 0    ? &a_r->storage
		                    : strcmp(argv[i], "--messages") == 0 ? &a_r->messages
		                                                         : NULL;
		if (slot != NULL) {
			if (*slot != NULL || i + 1 >= argc)
				return false;
			*slot = argv[++i];
		} else if (argv[i][0] == '-' || a_r->address != NULL) {
			return false;
		} else {
			a_r->address = argv[i];
		}
	}
	return a_r->address != NULL;
}

/* "10M", "none", or "10M (default)" / "none (default)". */
static void describe(int64_t own, int64_t def, bool sizes, char *out, size_t size)
{
	char v[32];
	quota_format_value(own == ACC_QUOTA_DEFAULT ? (def > 0 ? def : ACC_QUOTA_NONE) : own, sizes, v, sizeof v);
	snprintf(out, size, "%s%s", v, own == ACC_QUOTA_DEFAULT ? " (default)" : "");
}

void cli_user_quota_line(const config *cfg, const accounts_quota *q, char *out, size_t size)
{
	char st[48], ms[48];
	describe(q->storage, cfg->limits.mailbox_quota, true, st, sizeof st);
	describe(q->messages, cfg->limits.mailbox_quota_messages, false, ms, sizeof ms);
	snprintf(out, size, "storage=%s messages=%s", st, ms);
}

static int quota_fail(accounts *acc, accounts_status s, const char *address)
{
	if (s == ACC_NOT_FOUND)
		cli_error("no user %s", address);
	else if (s == ACC_ERROR)
		cli_error("account database error: %s", accounts_last_error(acc));
	else
		cli_error("cannot change the quota of %s", address);
	return 1;
}

/* One limit with the account's usage of it. */
static void show_line(const char *what, int64_t own, int64_t def, bool sizes, bool have, uint64_t used)
{
	char d[48];
	describe(own, def, sizes, d, sizeof d);
	uint64_t limit = own == ACC_QUOTA_DEFAULT ? (def > 0 ? (uint64_t)def : 0) : (uint64_t)own;
	printf("  %-9s %-18s", what, d);
	if (!have)
		printf(" in use: unknown (no mailbox yet)\n");
	else if (limit > 0)
		printf(" in use: %llu (%llu %%)\n", (unsigned long long)used, (unsigned long long)(used * 100 / limit));
	else
		printf(" in use: %llu\n", (unsigned long long)used);
}

static int quota_show(cli_ctx *ctx, const char *address, const accounts_quota *q)
{
	char *mail = config_path_mail(ctx->cfg);
	char *root = maildir_path(mail, address);
	store_usage *u = store_usage_new();
	uint64_t bytes = 0, messages = 0;
	bool have = root != NULL && store_usage_get(u, root, &bytes, &messages);
	printf("%s\n", address);
	show_line("storage", q->storage, ctx->cfg->limits.mailbox_quota, true, have, bytes);
	show_line("messages", q->messages, ctx->cfg->limits.mailbox_quota_messages, false, have, messages);
	store_usage_free(&u);
	free(root);
	free(mail);
	return 0;
}

/* Set what was given; then say what holds now. */
static int quota_change(cli_ctx *ctx, accounts *acc, const quota_args *a, accounts_quota *q)
{
	const char *err = NULL;
	if (a->storage != NULL && !quota_parse_value(a->storage, true, &q->storage, &err)) {
		cli_error("--storage %s: %s", a->storage, err);
		return 2;
	}
	if (a->messages != NULL && !quota_parse_value(a->messages, false, &q->messages, &err)) {
		cli_error("--messages %s: %s", a->messages, err);
		return 2;
	}
	accounts_status s = accounts_quota_set(acc, a->address, q);
	if (s != ACC_OK)
		return quota_fail(acc, s, a->address);
	char line[128];
	cli_user_quota_line(ctx->cfg, q, line, sizeof line);
	printf("changed the quota of user %s: %s\n", a->address, line);
	return 0;
}

int cmd_user_quota(cli_ctx *ctx, int argc, char **argv)
{
	quota_args a;
	if (!quota_parse_args(argc, argv, &a))
		return quota_usage();
	char *norm = accounts_normalize(a.address);
	if (norm == NULL) {
		cli_error("%s is not a valid address", a.address);
		return 1;
	}
	a.address = norm;
	int rc = 1;
	accounts *acc = NULL;
	if (cli_drop_privileges(ctx) && (acc = cli_open_accounts(ctx)) != NULL) {
		accounts_quota q;
		accounts_status s = accounts_quota_get(acc, a.address, &q);
		if (s != ACC_OK)
			rc = quota_fail(acc, s, a.address);
		else if (a.storage == NULL && a.messages == NULL)
			rc = quota_show(ctx, a.address, &q);
		else
			rc = quota_change(ctx, acc, &a, &q);
		accounts_close(&acc);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	free(norm);
	return rc;
}
