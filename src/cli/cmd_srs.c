/* cmd_srs.c — `yubin srs keygen | forward ADDRESS | reverse ADDRESS`: the
 * operator's side of SRS.  keygen makes the secret file (random, mode
 * 0600, as the service user) when it is missing, or puts a new secret in
 * front of the old ones with --rotate (the new one signs, the old ones
 * still verify bounces to addresses made with them).  forward and reverse
 * show what the server would make of an address.  Never prints a secret.
 * The scheme is src/rewrite/srs.c. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/accounts.h"
#include "lib/fsutil.h"
#include "rewrite/state.h"

static int keygen(cli_ctx *ctx, bool rotate)
{
	char *path = rewrite_srs_secret_path(ctx->cfg), *err = NULL;
	bool created = false;
	int rc = 1;
	if (!fs_mkdir_p(ctx->cfg->data_dir, 0750))
		cli_error("cannot create %s: %s", ctx->cfg->data_dir, strerror(errno));
	else if (!rotate && srs_secrets_create(path, &created, &err))
		rc = (printf("%s: %s\n", path, created ? "created" : "exists (kept; --rotate adds a new signing secret)"), 0);
	else if (rotate) {
		/* the new file: a fresh secret, then the old ones */
		char *tmp = xasprintf("%s.new", path);
		strlist old;
		strlist_init(&old);
		unlink(tmp);
		if (srs_secrets_load(path, &old, &err) && srs_secrets_create(tmp, &created, &err)) {
			FILE *f = fopen(tmp, "a");
			bool ok = f != NULL;
			for (size_t i = 0; ok && i < old.n; i++)
				ok = fprintf(f, "%s\n", old.items[i]) > 0;
			ok = f != NULL && fflush(f) == 0 && fsync(fileno(f)) == 0 && fclose(f) == 0 && ok;
			if (ok && rename(tmp, path) == 0)
				rc = (printf("%s: a new signing secret; %zu older kept for verifying\n", path, old.n), 0);
			else
				cli_error("%s: cannot write the new secret file", tmp);
		}
		for (size_t i = 0; i < old.n; i++)
			explicit_bzero(old.items[i], strlen(old.items[i]));
		strlist_free(&old);
		free(tmp);
	}
	if (err != NULL)
		cli_error("%s", err);
	free(err);
	free(path);
	return rc;
}

/* forward / reverse with the server's domain and secrets. */
static int show(cli_ctx *ctx, bool forward, const char *address)
{
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return 1;
	strlist domains, errors;
	strlist_init(&domains);
	strlist_init(&errors);
	accounts_domain_list(acc, &domains);
	config cfg = *ctx->cfg;
	cfg.rewrite.srs_enable = 1;
	rewrite_state *st = rewrite_state_load(&cfg, NULL, domains.n ? domains.items[0] : NULL, &errors);
	int rc = 1;
	if (st == NULL) {
		for (size_t i = 0; i < errors.n; i++)
			cli_error("%s", errors.items[i]);
	} else {
		char *out = NULL;
		srs_status r = forward ? srs_forward(&st->srs, address, time(NULL), &out)
		                       : srs_reverse(&st->srs, address, time(NULL), &out);
		if (r == SRS_OK)
			rc = (printf("%s\n", out), 0);
		else
			cli_error("%s: %s", address, srs_status_text(r));
		free(out);
	}
	rewrite_state_free(&st);
	strlist_free(&domains);
	strlist_free(&errors);
	accounts_close(&acc);
	return rc;
}

int cmd_srs(cli_ctx *ctx, int argc, char **argv)
{
	bool rotate = argc == 3 && strcmp(argv[2], "--rotate") == 0;
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0 && (argc == 2 || rotate))
		return cli_drop_privileges(ctx) ? keygen(ctx, rotate) : 1;
	if (argc == 3 && (strcmp(argv[1], "forward") == 0 || strcmp(argv[1], "reverse") == 0))
		return cli_drop_privileges(ctx) ? show(ctx, argv[1][0] == 'f', argv[2]) : 1;
	fprintf(stderr, "usage: yubin [--config FILE] srs keygen [--rotate] | forward ADDRESS | reverse ADDRESS\n");
	return 2;
}
