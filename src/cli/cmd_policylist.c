/* cmd_policylist.c — `yubin policy list add NAME VALUE | del NAME VALUE |
 * show [NAME]`: the lists of policy.lists.  An sqlite list's rows and a
 * file list's lines are changed in place; a running server sees the change
 * within a second, without a restart.  Owns the arguments and this
 * command's messages; entries and storage are policy/table.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "policy/polconf.h"
#include "policy/table.h"

static int list_usage(void)
{
	fprintf(stderr, "usage: yubin policy list add NAME VALUE\n"
	                "       yubin policy list del NAME VALUE\n"
	                "       yubin policy list show [NAME]\n"
	                "NAME is a list of policy.lists; VALUE an address, @domain, domain, *.domain, name,\n"
	                "IP address or network.\n");
	return 2;
}

static table *list_named(cli_ctx *ctx, const char *name)
{
	table *t = policy_list_find(ctx->policy != NULL ? ctx->policy->lists : NULL, name);
	if (t == NULL)
		cli_error("no list %s in policy.lists of %s", name, ctx->config_path != NULL ? ctx->config_path : "the config");
	return t;
}

static int list_show(cli_ctx *ctx, int argc, char **argv)
{
	policy_lists *lists = ctx->policy != NULL ? ctx->policy->lists : NULL;
	/* an sqlite list's database is created when missing: as the server's */
	if (!cli_drop_privileges(ctx))
		return 1;
	if (argc == 0) {
		for (size_t i = 0; i < policy_lists_count(lists); i++) {
			table *t = policy_list_at(lists, i);
			printf("%s type=%s entries=%zu\n", table_name(t), table_type(t), table_entries(t, time(NULL))->n);
		}
		return 0;
	}
	table *t = list_named(ctx, argv[0]);
	if (t == NULL)
		return 1;
	const strlist *e = table_entries(t, time(NULL));
	for (size_t i = 0; i < e->n; i++)
		printf("%s\n", e->items[i]);
	return 0;
}

static int list_edit(cli_ctx *ctx, bool add, const char *name, const char *value)
{
	table *t = list_named(ctx, name);
	if (t == NULL)
		return 1;
	/* the server's own files belong to the service user; a file list is
	 * the administrator's, edited as whoever runs this */
	if (strcmp(table_type(t), "sqlite") == 0 && !cli_drop_privileges(ctx))
		return 1;
	bool changed = false;
	char *err = NULL;
	if (!table_edit(t, add, value, &changed, &err)) {
		cli_error("list %s: %s", name, err);
		free(err);
		return 1;
	}
	if (changed)
		printf("%s %s list %s\n", add ? "added" : "removed", value, name);
	else
		printf("list %s %s %s\n", name, add ? "already has" : "has no", value);
	return 0;
}

int cmd_policy_list(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "show") == 0 && argc <= 3)
		return list_show(ctx, argc - 2, argv + 2);
	if (argc == 4 && (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0))
		return list_edit(ctx, strcmp(argv[1], "add") == 0, argv[2], argv[3]);
	return list_usage();
}
