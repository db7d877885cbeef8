/* routestate.c — data_dir/route.state (see routestate.h).  The file is
 * "key=value" lines: route, blocked, since, reason. */
#include "delivery/routestate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"

#define ROUTESTATE_MAX 4096

bool routestate_write(const char *data_dir, const routestate *st)
{
	char *text = xasprintf("route=%s\nblocked=%d\nsince=%lld\nreason=%s\n", st->relay ? "relay" : "direct",
	                       st->blocked ? 1 : 0, (long long)st->since, st->reason ? st->reason : "");
	/* the reason is ours, but a newline in it would end the line early */
	for (char *p = strstr(text, "reason=") + 7; *p; p++)
		if (*p == '\n' && p[1] != '\0')
			*p = ' ';
	bool ok = fs_replace_file(data_dir, ROUTESTATE_FILE, text, strlen(text));
	free(text);
	return ok;
}

void routestate_clear(const char *data_dir)
{
	char *p = xasprintf("%s/%s", data_dir, ROUTESTATE_FILE);
	(void)unlink(p); /* none there is the usual case */
	free(p);
}

bool routestate_read(const char *data_dir, routestate *st)
{
	memset(st, 0, sizeof(*st));
	char *p = xasprintf("%s/%s", data_dir, ROUTESTATE_FILE);
	char *text = fs_read_file(p, ROUTESTATE_MAX, NULL);
	free(p);
	if (text == NULL)
		return false;
	bool have_route = false;
	for (char *line = text, *next; line != NULL && *line; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strcmp(line, "route=relay") == 0 || strcmp(line, "route=direct") == 0) {
			st->relay = line[6] == 'r';
			have_route = true;
		} else if (strncmp(line, "blocked=", 8) == 0) {
			st->blocked = line[8] == '1';
		} else if (strncmp(line, "since=", 6) == 0) {
			st->since = (time_t)strtoll(line + 6, NULL, 10);
		} else if (strncmp(line, "reason=", 7) == 0) {
			free(st->reason);
			st->reason = xstrdup(line + 7);
		}
	}
	free(text);
	if (!have_route)
		routestate_free(st);
	return have_route;
}

void routestate_free(routestate *st)
{
	free(st->reason);
	st->reason = NULL;
}

char *routestate_describe(const config *cfg)
{
	routestate st;
	bool relay_always = cfg->relay.host != NULL && cfg->relay.domains.n == 0 &&
	                    (cfg->route.relay_when == NULL || strcmp(cfg->route.relay_when, "blocked") != 0);
	if (relay_always)
		return xasprintf("relay (relay.host %s carries all mail)", cfg->relay.host);
	if (!routestate_read(cfg->data_dir, &st))
		return xstrdup("direct (no port-25 probe configured)");
	char when[64] = "?";
	struct tm tm;
	if (gmtime_r(&st.since, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	char *out;
	if (st.relay)
		out = xasprintf("relay since %s (%s)", when, st.reason && *st.reason ? st.reason : "port 25 blocked");
	else if (st.blocked)
		out = xasprintf("direct since %s (port 25 blocked but no relay.host: mail keeps trying direct; %s)",
		                when, st.reason ? st.reason : "");
	else
		out = xasprintf("direct since %s (%s)", when, st.reason && *st.reason ? st.reason : "port 25 open");
	routestate_free(&st);
	return out;
}
