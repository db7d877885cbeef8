/* cmd_tls.c — `yubin tls fingerprint`: the SHA-256 fingerprint of the
 * configured certificate (tls.cert), for users who trust a self-signed
 * certificate in their mail program by comparing fingerprints.  With --dev
 * it is the dev certificate, made first if it does not exist yet. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/devmode.h"
#include "tls/fingerprint.h"

/* Print the fingerprint block for cert_file; false (after saying why) when
 * it cannot be read.  Shared with the dev banner. */
bool cli_print_fingerprint(const char *cert_file)
{
	tls_cert_info info;
	char *err = NULL;
	if (!tls_cert_info_read(cert_file, &info, &err)) {
		cli_error("%s", err);
		free(err);
		return false;
	}
	printf("certificate  %s\n"
	       "subject      %s\n"
	       "expires      %s\n"
	       "SHA-256      %s\n"
	       "Compare it with the SHA-256 fingerprint your mail program shows before\n"
	       "you trust the certificate.  The same with OpenSSL:\n"
	       "  openssl x509 -in %s -noout -fingerprint -sha256\n",
	       cert_file, info.subject, info.not_after, info.sha256, cert_file);
	tls_cert_info_free(&info);
	return true;
}

int cmd_tls(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "fingerprint") != 0) {
		fprintf(stderr, "usage: yubin [--config FILE | --dev] tls fingerprint\n");
		return 2;
	}
	if (ctx->cfg->tls_cert == NULL || *ctx->cfg->tls_cert == '\0') {
		cli_error("no certificate is configured (tls.cert in %s)", ctx->cfg->path);
		return 1;
	}
	if (ctx->cfg->dev && !devmode_prepare_tls(ctx->cfg))
		return 1;
	return cli_print_fingerprint(ctx->cfg->tls_cert) && fflush(stdout) == 0 ? 0 : 1;
}
