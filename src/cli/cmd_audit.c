/* cmd_audit.c — `yubin audit verify` (prove the chain of the audit trail
 * intact, or name the first bad record) and `yubin audit prune [--days
 * N]` (retention by hand; safe while the server runs: both take the
 * database's write lock, and the server reads the chain's end inside each
 * of its transactions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"

static int usage(void)
{
	fprintf(stderr, "usage: yubin audit verify | prune [--days N]\n");
	return 2;
}

static int audit_verify_cmd(cli_ctx *ctx)
{
	if (!cli_drop_privileges(ctx)) /* the -wal and -shm files stay the server's */
		return 1;
	char *err = NULL;
	audit_reader *r = audit_reader_open(ctx->cfg, &err);
	if (r == NULL) {
		cli_error("%s", err);
		free(err);
		return 1;
	}
	int64_t n = 0;
	bool ok = audit_verify(r, &n, &err);
	audit_reader_close(&r);
	if (!ok) {
		cli_error("audit trail NOT intact: %s (%lld records before it are intact)", err, (long long)n);
		free(err);
		return 1;
	}
	printf("%lld records, chain intact\n", (long long)n);
	return 0;
}

static int audit_prune_cmd(cli_ctx *ctx, int argc, char **argv)
{
	int days = ctx->cfg->audit.retention_days;
	if (argc == 4 && strcmp(argv[2], "--days") == 0) {
		char *end;
		long v = strtol(argv[3], &end, 10);
		if (end == argv[3] || *end != '\0' || v < 0 || v > 36500) {
			cli_error("--days must be a number of days from 0 to 36500");
			return 2;
		}
		days = (int)v;
	} else if (argc != 2) {
		return usage();
	} else if (days == 0) {
		printf("audit.retention_days is 0 (keep forever): nothing pruned; use --days N\n");
		return 0;
	}
	if (!cli_drop_privileges(ctx)) /* the database stays the service user's */
		return 1;
	char *err = NULL;
	int64_t removed = audit_prune(ctx->cfg, days, &err);
	if (removed < 0) {
		cli_error("%s", err);
		free(err);
		return 1;
	}
	printf("%lld records older than %d days removed\n", (long long)removed, days);
	return 0;
}

int cmd_audit(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0 && argc == 2)
		return audit_verify_cmd(ctx);
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return audit_prune_cmd(ctx, argc, argv);
	return usage();
}
