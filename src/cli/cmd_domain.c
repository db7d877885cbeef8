/* cmd_domain.c — `yubin domain add NAME | del NAME | list`: the local domains
 * kept in the account store.  Owns the wording of this command's messages
 * and exit codes (0 done, 1 failed, 2 usage); the rules themselves (what a
 * valid domain is, when one may be deleted) live in auth/accounts.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

typedef struct dom_verb {
	const char *name;
	const char *args;                      /* for the usage line */
	int nargs;                             /* arguments after the verb */
	int (*run)(accounts *acc, char **argv);
} dom_verb;

static int dom_add(accounts *acc, char **argv);
static int dom_del(accounts *acc, char **argv);
static int dom_list(accounts *acc, char **argv);

static const dom_verb dom_verbs[] = {
	{ "add", " NAME", 1, dom_add },
	{ "del", " NAME", 1, dom_del },
	{ "list", "", 0, dom_list },
};
#define DOM_NVERBS (sizeof(dom_verbs) / sizeof(dom_verbs[0]))

static int dom_usage(void)
{
	for (size_t i = 0; i < DOM_NVERBS; i++)
		fprintf(stderr, "%s yubin domain %s%s\n", i == 0 ? "usage:" : "      ",
			dom_verbs[i].name, dom_verbs[i].args);
	return 2;
}

/* Shared wording for failures of add and del. */
static int dom_fail(accounts *acc, accounts_status s, const char *name)
{
	switch (s) {
	case ACC_EXISTS:
		cli_error("domain %s is already a local domain", name);
		break;
	case ACC_NOT_FOUND:
		cli_error("no domain %s", name);
		break;
	case ACC_INVALID:
		cli_error("%s is not a valid domain name", name);
		break;
	case ACC_ERROR:
		cli_error("account database error: %s", accounts_last_error(acc));
		break;
	default:
		cli_error("cannot change domain %s", name);
		break;
	}
	return 1;
}

/* name as stored: ASCII letters in lower case. */
static char *dom_lower(const char *name)
{
	char *d = xstrdup(name);
	str_ascii_lower(d);
	return d;
}

static int dom_add(accounts *acc, char **argv)
{
	char *name = dom_lower(argv[0]);
	accounts_status s = accounts_domain_add(acc, name);
	int rc = 0;
	if (s == ACC_OK)
		printf("added domain %s\n", name);
	else
		rc = dom_fail(acc, s, name);
	free(name);
	return rc;
}

static int dom_del(accounts *acc, char **argv)
{
	char *name = dom_lower(argv[0]);
	accounts_status s = accounts_domain_del(acc, name);
	int rc = 0;
	if (s == ACC_OK) {
		printf("deleted domain %s\n", name);
	} else if (s == ACC_NOT_FOUND && accounts_domain_is_local(acc, name)) {
		cli_error("domain %s is set in the configuration file; remove it there", name);
		rc = 1;
	} else if (s == ACC_EXISTS) {
		cli_error("domain %s still has users or aliases; delete them first", name);
		rc = 1;
	} else {
		rc = dom_fail(acc, s, name);
	}
	free(name);
	return rc;
}

static int dom_list(accounts *acc, char **argv)
{
	strlist l;
	strlist_init(&l);
	accounts_status s = accounts_domain_list(acc, &l);
	for (size_t i = 0; s == ACC_OK && i < l.n; i++)
		printf("%s\n", l.items[i]);
	strlist_free(&l);
	if (s != ACC_OK)
		return dom_fail(acc, s, "list");
	return 0;
}

static const dom_verb *dom_find(const char *name)
{
	for (size_t i = 0; i < DOM_NVERBS; i++)
		if (strcmp(dom_verbs[i].name, name) == 0)
			return &dom_verbs[i];
	return NULL;
}

int cmd_domain(cli_ctx *ctx, int argc, char **argv)
{
	const dom_verb *v = argc >= 2 ? dom_find(argv[1]) : NULL;
	if (v == NULL || argc != 2 + v->nargs)
		return dom_usage();
	if (!cli_drop_privileges(ctx))
		return 1;
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return 1;
	int rc = v->run(acc, argv + 2);
	accounts_close(&acc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	return rc;
}
