/* cmd_sendas.c — `yubin user sendas add | del | list USER [ADDRESS]`: the
 * addresses a user may send as besides its own and the aliases that reach
 * it (the envelope sender, and the From and Sender fields of what it
 * submits).  ADDRESS is an address in any domain, or @domain for all of
 * one domain.  Owns the arguments and the messages of this command; the
 * rules are the account store's. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct sendas_verb {
	const char *name;
	bool address;              /* takes ADDRESS after USER */
	int (*run)(accounts *acc, const char *user, const char *address);
} sendas_verb;

static int sendas_fail(accounts *acc, accounts_status s, const char *user, const char *address)
{
	switch (s) {
	case ACC_EXISTS:
		cli_error("%s may already send as %s", user, address ? address : "that address");
		break;
	case ACC_NOT_FOUND:
		if (address != NULL)
			cli_error("no user %s, or %s is not on its send-as list", user, address);
		else
			cli_error("no user %s", user);
		break;
	case ACC_INVALID:
		cli_error("%s is not a valid address (an address, or @domain)", address ? address : user);
		break;
	case ACC_ERROR:
		cli_error("account database error: %s", accounts_last_error(acc));
		break;
	default:
		cli_error("cannot change the send-as list of %s", user);
		break;
	}
	return 1;
}

/* add and del: the store's change, then one line saying what holds now. */
static int sendas_change(accounts *acc, const char *user, const char *address, bool adding)
{
	accounts_status s = adding ? accounts_sendas_add(acc, user, address) : accounts_sendas_del(acc, user, address);
	if (s != ACC_OK)
		return sendas_fail(acc, s, user, address);
	printf(adding ? "%s may now send as %s\n" : "%s may no longer send as %s\n", user, address);
	return 0;
}

static int sendas_add(accounts *acc, const char *user, const char *address)
{
	return sendas_change(acc, user, address, true);
}

static int sendas_del(accounts *acc, const char *user, const char *address)
{
	return sendas_change(acc, user, address, false);
}

static int sendas_list(accounts *acc, const char *user, const char *address)
{
	(void)address;
	strlist l;
	strlist_init(&l);
	accounts_status s = accounts_sendas_list(acc, user, &l);
	for (size_t i = 0; s == ACC_OK && i < l.n; i++)
		printf("%s\n", l.items[i]);
	strlist_free(&l);
	return s == ACC_OK ? 0 : sendas_fail(acc, s, user, NULL);
}

static const sendas_verb sendas_verbs[] = {
	{"add", true, sendas_add},
	{"del", true, sendas_del},
	{"list", false, sendas_list},
};

static int sendas_usage(void)
{
	fprintf(stderr, "usage: yubin user sendas add USER ADDRESS\n"
	                "       yubin user sendas del USER ADDRESS\n"
	                "       yubin user sendas list USER\n"
	                "ADDRESS is an address in any domain, or @domain for every address of a domain\n");
	return 2;
}

/* argv[0] is "sendas". */
int cmd_user_sendas(cli_ctx *ctx, int argc, char **argv)
{
	const sendas_verb *v = NULL;
	for (size_t i = 0; argc >= 2 && i < sizeof(sendas_verbs) / sizeof(sendas_verbs[0]); i++)
		if (strcmp(argv[1], sendas_verbs[i].name) == 0)
			v = &sendas_verbs[i];
	if (v == NULL || argc != (v->address ? 4 : 3))
		return sendas_usage();
	if (!cli_drop_privileges(ctx))
		return 1;
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return 1;
	int rc = v->run(acc, argv[2], v->address ? argv[3] : NULL);
	accounts_close(&acc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	return rc;
}
