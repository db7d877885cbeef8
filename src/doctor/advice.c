/* advice.c — `yubin doctor`'s pure helpers (advice.h): the SPF record to
 * suggest and the reading of SRV answer texts.  No I/O. */
#include "doctor/advice.h"

#include <stdio.h>
#include <string.h>

#include "lib/strutil.h"

/* Whether record[at..] is the term "all" with an optional qualifier
 * (RFC 7208 4.6.1: terms are separated by spaces); *start_r: where the
 * term begins. */
static bool is_all_term(const char *record, const char *at, const char **start_r)
{
	const char *start = at;
	if (start > record && strchr("+-~?", start[-1]) != NULL)
		start--;
	if (start > record && start[-1] != ' ')
		return false;
	if (at[3] != '\0' && at[3] != ' ')
		return false;
	*start_r = start;
	return true;
}

char *doctor_spf_with_address(const char *record, const char *ip)
{
	const char *kind = strchr(ip, ':') ? "ip6" : "ip4";
	const char *all = NULL, *start;
	for (const char *p = record; (p = strcasestr(p, "all")) != NULL; p += 3)
		if (is_all_term(record, p, &start))
			all = start;
	if (all == NULL)
		return xasprintf("%s %s:%s", record, kind, ip);
	return xasprintf("%.*s%s:%s %s", (int)(all - record), record, kind, ip, all);
}

bool doctor_srv_split(const char *v, int *port_r, const char **target_r)
{
	unsigned prio, weight, port;
	int off = 0;
	if (sscanf(v, "%u %u %u %n", &prio, &weight, &port, &off) != 3 || off == 0 || port > 65535 || v[off] == '\0')
		return false;
	*port_r = (int)port;
	*target_r = v + off;
	return true;
}
