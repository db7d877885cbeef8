/* cmd_tlsrpt.c — `yubin tlsrpt send-now [--day YYYY-MM-DD]`: ask the
 * running server (control socket) to send the TLS-RPT reports of a UTC day
 * (default: yesterday) that are not sent yet.  The reports are built and
 * queued by the server (delivery/tlsrptsend.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/control.h"
#include "delivery/tlsrpt.h"
#include "lib/strutil.h"

/* "YYYY-MM-DD" to its 00:00 UTC; false when not such a date. */
static bool parse_day(const char *s, int64_t *day_r)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || strlen(s) != 10)
		return false;
	*day_r = (int64_t)timegm(&tm);
	return true;
}

int cmd_tlsrpt(cli_ctx *ctx, int argc, char **argv)
{
	int64_t day = tlsrpt_day_start(time(NULL)) - 86400;
	bool ok = argc >= 2 && strcmp(argv[1], "send-now") == 0;
	if (ok && argc == 4)
		ok = strcmp(argv[2], "--day") == 0 && parse_day(argv[3], &day);
	else if (ok)
		ok = argc == 2;
	if (!ok) {
		cli_error("usage: yubin tlsrpt send-now [--day YYYY-MM-DD]");
		return 2;
	}
	if (!cli_drop_privileges(ctx))
		return 1;
	char *req = xasprintf("tlsrpt-send %lld", (long long)day);
	int rc = control_request(ctx->cfg, req);
	free(req);
	return rc;
}
