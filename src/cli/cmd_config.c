/* cmd_config.c — `yubin config check` and `yubin config defaults`.  Loading
 * (and reporting file:line errors) already happened in main.c; check adds
 * what only a live check can tell: that the TLS files load. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

int cmd_config(cli_ctx *ctx, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "defaults") == 0) {
		config_print_defaults();
		return 0;
	}
	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: yubin [--config FILE] config check | config defaults\n");
		return 2;
	}
	if (!ctx->cfg->dev) {
		char *err = NULL;
		SSL_CTX *tls = tls_server_ctx_new(ctx->cfg->tls_cert, ctx->cfg->tls_key, &err);
		if (tls == NULL) {
			fprintf(stderr, "%s: %s\n", ctx->cfg->path, err);
			free(err);
			return 1;
		}
		SSL_CTX_free(tls);
	}
	printf("%s: ok (%d listeners, %zu local domains in the file)\n", ctx->cfg->path,
	       ctx->cfg->n_listeners, ctx->cfg->domains.n);
	return 0;
}
