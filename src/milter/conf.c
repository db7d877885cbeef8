/* conf.c — reads policy.milters (see conf.h) and parses milter addresses.
 * Does not connect to anything: a filter that is down is found at run
 * time, where on_failure says what happens. */
#include "milter/conf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "lib/config.h"
#include "policy/polconf.h"

static bool parse_port(const char *s, size_t n, uint16_t *port_r)
{
	if (n == 0 || n > 5)
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*port_r = (uint16_t)v;
	return true;
}

static bool inet_addr_port(const char *host, size_t hn, uint16_t port, struct sockaddr_storage *sa,
                           socklen_t *len_r)
{
	char h[INET6_ADDRSTRLEN + 1];
	if (hn == 0 || hn >= sizeof(h))
		return false;
	memcpy(h, host, hn);
	h[hn] = '\0';
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		*len_r = sizeof(*v4);
		return true;
	}
	if (inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		*len_r = sizeof(*v6);
		return true;
	}
	return false;
}

static bool unix_path(const char *path, struct sockaddr_storage *sa, socklen_t *len_r, const char **err_r)
{
	struct sockaddr_un *un = (struct sockaddr_un *)sa;
	if (path[0] != '/' || strlen(path) >= sizeof(un->sun_path)) {
		*err_r = "a unix socket path must be absolute and shorter than 108 bytes";
		return false;
	}
	memset(sa, 0, sizeof(*sa));
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, path);
	*len_r = (socklen_t)sizeof(*un);
	return true;
}

bool milter_address_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len_r, const char **err_r)
{
	static const char *bad = "the address must be IP:PORT, [IPv6]:PORT, inet:PORT@IP or unix:/path";
	uint16_t port;
	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0)
		return unix_path(strchr(s, ':') + 1, sa, len_r, err_r);
	*err_r = bad;
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		const char *p = strchr(s, ':') + 1, *at = strchr(p, '@');
		return at != NULL && parse_port(p, (size_t)(at - p), &port) &&
		       inet_addr_port(at + 1, strlen(at + 1), port, sa, len_r);
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		return close != NULL && close[1] == ':' && parse_port(close + 2, strlen(close + 2), &port) &&
		       inet_addr_port(s + 1, (size_t)(close - s - 1), port, sa, len_r);
	}
	const char *colon = strrchr(s, ':');
	return colon != NULL && strchr(s, ':') == colon && parse_port(colon + 1, strlen(colon + 1), &port) &&
	       inet_addr_port(s, (size_t)(colon - s), port, sa, len_r);
}

static void err(strlist *errors, const char *file, const config_setting_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err(strlist *errors, const char *file, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	policy_config_verror(errors, file, at, "", fmt, ap);
	va_end(ap);
}

static bool read_int(const config_setting_t *g, const char *key, int lo, int hi, int *v, const char *file,
                     strlist *errors)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	if (s == NULL)
		return true;
	if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < lo ||
	    config_setting_get_int(s) > hi) {
		err(errors, file, s, "policy.milters: %s must be a whole number of seconds from %d to %d", key, lo, hi);
		return false;
	}
	*v = config_setting_get_int(s);
	return true;
}

static bool read_roles(const config_setting_t *g, milter_def *d, const char *file, strlist *errors)
{
	const config_setting_t *s = config_setting_get_member(g, "roles");
	d->roles = 1u << ROLE_SMTP | 1u << ROLE_SUBMISSION | 1u << ROLE_SUBMISSIONS;
	if (s == NULL)
		return true;
	if (!config_setting_is_aggregate(s) || config_setting_length(s) == 0) {
		err(errors, file, s, "policy.milters: roles must be a list such as [\"smtp\", \"submission\"]");
		return false;
	}
	d->roles = 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string_elem(s, i);
		int r = ROLE_SMTP;
		while (v != NULL && r <= ROLE_SUBMISSIONS && strcmp(v, config_role_name((listener_role)r)) != 0)
			r++;
		if (v == NULL || r > ROLE_SUBMISSIONS) {
			err(errors, file, s, "policy.milters: a role must be \"smtp\", \"submission\" or \"submissions\"");
			return false;
		}
		d->roles |= 1u << r;
	}
	return true;
}

static const char *const known_keys[] = {"name", "address", "connect_timeout", "timeout", "on_failure", "roles"};

static bool known_key(const char *k)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strcmp(k, known_keys[i]) == 0)
			return true;
	return false;
}

/* One entry of the list into d; false with errors added. */
static bool read_one(const config_setting_t *g, milter_def *d, const char *file, strlist *errors)
{
	size_t before = errors->n;
	if (!config_setting_is_group(g)) {
		err(errors, file, g, "policy.milters: each milter is a group { name = ...; address = ...; }");
		return false;
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		if (!known_key(config_setting_name(m)))
			err(errors, file, m, "policy.milters: unknown setting \"%s\" (known: name, address, "
			    "connect_timeout, timeout, on_failure, roles)", config_setting_name(m));
	}
	const char *name = NULL, *addr = NULL, *fail = "accept", *why;
	if (!config_setting_lookup_string(g, "name", &name) || name[0] == '\0')
		err(errors, file, g, "policy.milters: each milter needs a name");
	if (!config_setting_lookup_string(g, "address", &addr))
		err(errors, file, g, "policy.milters: milter \"%s\" needs an address", name ? name : "");
	else if (!milter_address_parse(addr, &d->sa, &d->sa_len, &why))
		err(errors, file, config_setting_get_member(g, "address"), "policy.milters: \"%s\": %s", addr, why);
	d->connect_timeout = 5;
	d->timeout = 30;
	read_int(g, "connect_timeout", 1, 300, &d->connect_timeout, file, errors);
	read_int(g, "timeout", 1, 3600, &d->timeout, file, errors);
	config_setting_lookup_string(g, "on_failure", &fail);
	if (strcmp(fail, "accept") != 0 && strcmp(fail, "tempfail") != 0)
		err(errors, file, config_setting_get_member(g, "on_failure"),
		    "policy.milters: on_failure must be \"accept\" (go on without the milter) or \"tempfail\" (451 4.7.1)");
	d->tempfail = strcmp(fail, "tempfail") == 0;
	read_roles(g, d, file, errors);
	d->name = xstrdup(name ? name : "");
	d->address = xstrdup(addr ? addr : "");
	return errors->n == before;
}

milter_defs *milter_defs_read(const config_setting_t *s, const char *file, strlist *errors)
{
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		err(errors, file, s, "policy.milters must be a list: ( { name = ...; address = ...; }, ... )");
		return NULL;
	}
	milter_defs *d = xcalloc(1, sizeof(*d));
	size_t n = (size_t)config_setting_length(s);
	d->v = xcalloc(n ? n : 1, sizeof(*d->v));
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		ok = read_one(g, &d->v[d->n++], file, errors) && ok;
		for (size_t j = 0; j + 1 < d->n; j++)
			if (d->v[j].name[0] && strcmp(d->v[j].name, d->v[d->n - 1].name) == 0) {
				err(errors, file, g, "policy.milters: two milters are called \"%s\"", d->v[j].name);
				ok = false;
			}
	}
	if (!ok)
		milter_defs_free(&d);
	return d;
}

void milter_defs_free(milter_defs **dp)
{
	milter_defs *d = *dp;
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].address);
	}
	free(d->v);
	free(d);
	*dp = NULL;
}

bool milter_defs_policy_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors)
{
	milter_defs_free(&pc->milters);
	pc->milters = milter_defs_read(s, file, errors);
	return pc->milters != NULL;
}
