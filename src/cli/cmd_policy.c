/* cmd_policy.c — `yubin policy VERB ...`: hands each verb to its file
 * (list: cmd_policylist.c).  Owns only the verb table and the usage. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *verb;
	int (*run)(cli_ctx *ctx, int argc, char **argv);
	const char *usage;
} policy_verbs[] = {
	{"list", cmd_policy_list, "list add|del NAME VALUE | list show [NAME]"},
};

int cmd_policy(cli_ctx *ctx, int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < sizeof(policy_verbs) / sizeof(policy_verbs[0]); i++)
		if (strcmp(argv[1], policy_verbs[i].verb) == 0)
			return policy_verbs[i].run(ctx, argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(policy_verbs) / sizeof(policy_verbs[0]); i++)
		fprintf(stderr, "%s yubin policy %s\n", i == 0 ? "usage:" : "      ", policy_verbs[i].usage);
	return 2;
}
