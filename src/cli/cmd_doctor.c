/* cmd_doctor.c — `yubin doctor [--domain D] [--json]`: every check a
 * working mail domain needs (doctor/doctor.h), for each local domain or
 * the one named, through the server's own resolver settings.  Prints each
 * result with its fix (or a JSON document for monitoring); exits 1 when
 * any check failed, 0 when none did, 2 on a usage error. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/doctor.h"
#include "dns/resolver.h"

static int usage(void)
{
	fprintf(stderr, "usage: yubin doctor [--domain DOMAIN] [--json]\n");
	return 2;
}

/* The domains to check: the one asked for (which must be local), else
 * every local domain.  False after saying why. */
static bool pick_domains(cli_ctx *ctx, const char *only, strlist *out)
{
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return false;
	bool ok = true;
	if (only != NULL) {
		char *dom = xstrdup(only);
		str_ascii_lower(dom);
		if (accounts_domain_is_local(acc, dom)) {
			strlist_add(out, dom);
		} else {
			cli_error("%s is not a local domain of this server (see `yubin domain list`)", dom);
			ok = false;
		}
		free(dom);
	} else if (accounts_domain_list(acc, out) != ACC_OK) {
		cli_error("cannot list the local domains");
		ok = false;
	}
	accounts_close(&acc);
	return ok;
}

int cmd_doctor(cli_ctx *ctx, int argc, char **argv)
{
	const char *only = NULL;
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			only = argv[++i];
		else
			return usage();
	}
	doctor d = {.cfg = ctx->cfg, .policy = ctx->policy};
	strlist_init(&d.domains);
	strlist_init(&d.addresses);
	doctor_load_tls_key(&d);
	if (!cli_drop_privileges(ctx)) {
		doctor_free(&d);
		return 1;
	}
	if (!pick_domains(ctx, only, &d.domains)) {
		doctor_free(&d);
		return 1;
	}
	d.dns = cli_open_resolver(ctx, &d.base);
	if (d.dns == NULL) {
		doctor_free(&d);
		return 1;
	}
	doctor_run(&d);
	int rc = doctor_exit_status(&d);
	if (!doctor_report(&d, json)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	dns_free(&d.dns);
	event_base_free(d.base);
	doctor_free(&d);
	return rc;
}
