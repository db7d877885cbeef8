/* cmd_alias.c — `yubin alias add ALIAS TARGET... | del ALIAS [TARGET] |
 * list`: aliases of the account store, including "@domain" catch-alls.
 * Owns argument checks and this command's messages; how aliases expand is
 * decided in auth/accounts.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef struct alias_verb {
	const char *name;
	const char *args;        /* for the usage line */
	int min, max;            /* arguments after the verb */
	int (*run)(accounts *acc, int argc, char **argv);
} alias_verb;

static int alias_add(accounts *acc, int argc, char **argv);
static int alias_del(accounts *acc, int argc, char **argv);
static int alias_list(accounts *acc, int argc, char **argv);

static const alias_verb alias_verbs[] = {
	{ "add", " ALIAS TARGET [TARGET...]", 2, 1 << 20, alias_add },
	{ "del", " ALIAS [TARGET]", 1, 2, alias_del },
	{ "list", "", 0, 0, alias_list },
};
#define ALIAS_NVERBS (sizeof(alias_verbs) / sizeof(alias_verbs[0]))

static int alias_usage(void)
{
	for (size_t i = 0; i < ALIAS_NVERBS; i++)
		fprintf(stderr, "%s yubin alias %s%s\n", i == 0 ? "usage:" : "      ",
			alias_verbs[i].name, alias_verbs[i].args);
	fprintf(stderr, "ALIAS is local@domain, or @domain for a catch-all.\n");
	return 2;
}

/* The normalised form of an alias (local@domain or @domain), or NULL. */
static char *alias_normalize(const char *alias)
{
	if (alias[0] != '@')
		return accounts_normalize(alias);
	char *probe = xasprintf("x%s", alias);
	char *n = accounts_normalize(probe);
	char *out = n != NULL ? xstrdup(n + 1) : NULL;
	free(probe);
	free(n);
	return out;
}

static int alias_fail(accounts *acc, accounts_status s, const char *alias,
		      const char *target)
{
	switch (s) {
	case ACC_EXISTS:
		cli_error("alias %s already has target %s", alias, target ? target : "(any)");
		break;
	case ACC_NOT_FOUND:
		if (target != NULL)
			cli_error("alias %s has no target %s", alias, target);
		else
			cli_error("no alias %s", alias);
		break;
	case ACC_INVALID:
		cli_error("%s is not a valid alias, or a target is not a valid address",
			  alias);
		break;
	case ACC_NO_DOMAIN:
		cli_error("%s is not in a local domain", alias);
		break;
	case ACC_LOOP:
		cli_error("alias %s cannot point to itself", alias);
		break;
	default:
		cli_error("account database error: %s", accounts_last_error(acc));
		break;
	}
	return 1;
}

/* Normalise every target into out, dropping repeats; 1 after an error. */
static int alias_targets(int argc, char **argv, strlist *out)
{
	for (int i = 0; i < argc; i++) {
		char *t = accounts_normalize(argv[i]);
		if (t == NULL) {
			cli_error("%s is not a valid address", argv[i]);
			return 1;
		}
		if (strlist_contains(out, t))
			free(t);
		else
			strlist_add_owned(out, t);
	}
	return 0;
}

/* Refuse the whole command, before changing anything, when the alias is not
 * local, points to itself, or one of the targets is already there. */
static int alias_precheck(accounts *acc, const char *alias, const strlist *targets)
{
	if (!accounts_domain_is_local(acc, strchr(alias, '@') + 1))
		return alias_fail(acc, ACC_NO_DOMAIN, alias, NULL);
	strlist rows;
	strlist_init(&rows);
	accounts_status s = accounts_alias_list(acc, &rows);
	int rc = s == ACC_OK ? 0 : alias_fail(acc, s, alias, NULL);
	for (size_t i = 0; rc == 0 && i < targets->n; i++) {
		const char *t = targets->items[i];
		char *row = xasprintf("%s %s", alias, t);
		if (strcmp(alias, t) == 0)
			rc = alias_fail(acc, ACC_LOOP, alias, t);
		else if (strlist_contains(&rows, row))
			rc = alias_fail(acc, ACC_EXISTS, alias, t);
		free(row);
	}
	strlist_free(&rows);
	return rc;
}

static int alias_add_all(accounts *acc, const char *alias, const strlist *targets)
{
	int rc = alias_precheck(acc, alias, targets);
	for (size_t i = 0; rc == 0 && i < targets->n; i++) {
		accounts_status s = accounts_alias_add(acc, alias, targets->items[i]);
		if (s != ACC_OK)
			rc = alias_fail(acc, s, alias, targets->items[i]);
	}
	if (rc != 0)
		return rc;
	printf("added alias %s ->", alias);
	for (size_t i = 0; i < targets->n; i++)
		printf("%s %s", i == 0 ? "" : ",", targets->items[i]);
	printf("\n");
	return 0;
}

static int alias_add(accounts *acc, int argc, char **argv)
{
	char *alias = alias_normalize(argv[0]);
	strlist targets;
	strlist_init(&targets);
	int rc;
	if (alias == NULL) {
		cli_error("%s is not a valid alias (use local@domain or @domain)", argv[0]);
		rc = 1;
	} else {
		rc = alias_targets(argc - 1, argv + 1, &targets);
	}
	if (rc == 0)
		rc = alias_add_all(acc, alias, &targets);
	strlist_free(&targets);
	free(alias);
	return rc;
}

static int alias_del_one(accounts *acc, const char *alias, const char *target)
{
	accounts_status s = accounts_alias_del(acc, alias, target);
	if (s != ACC_OK)
		return alias_fail(acc, s, alias, target);
	if (target != NULL)
		printf("deleted target %s of alias %s\n", target, alias);
	else
		printf("deleted alias %s\n", alias);
	return 0;
}

static int alias_del(accounts *acc, int argc, char **argv)
{
	char *alias = alias_normalize(argv[0]);
	char *target = argc > 1 ? accounts_normalize(argv[1]) : NULL;
	int rc = 1;
	if (alias == NULL)
		cli_error("%s is not a valid alias (use local@domain or @domain)", argv[0]);
	else if (argc > 1 && target == NULL)
		cli_error("%s is not a valid address", argv[1]);
	else
		rc = alias_del_one(acc, alias, target);
	free(alias);
	free(target);
	return rc;
}

static int alias_list(accounts *acc, int argc, char **argv)
{
	strlist l;
	strlist_init(&l);
	accounts_status s = accounts_alias_list(acc, &l);
	for (size_t i = 0; s == ACC_OK && i < l.n; i++)
		printf("%s\n", l.items[i]);
	strlist_free(&l);
	return s == ACC_OK ? 0 : alias_fail(acc, s, "list", NULL);
}

static const alias_verb *alias_find(const char *name)
{
	for (size_t i = 0; i < ALIAS_NVERBS; i++)
		if (strcmp(alias_verbs[i].name, name) == 0)
			return &alias_verbs[i];
	return NULL;
}

int cmd_alias(cli_ctx *ctx, int argc, char **argv)
{
	const alias_verb *v = argc >= 2 ? alias_find(argv[1]) : NULL;
	if (v == NULL || argc - 2 < v->min || argc - 2 > v->max)
		return alias_usage();
	if (!cli_drop_privileges(ctx))
		return 1;
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return 1;
	int rc = v->run(acc, argc - 2, argv + 2);
	accounts_close(&acc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	return rc;
}
