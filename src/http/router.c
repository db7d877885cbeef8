/* router.c — route matching (see router.h).  Knows no handler and does no
 * I/O: the listener (server.c) acts on the result. */
#include "http/router.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

void router_params_free(router_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->name[i]);
		free(p->value[i]);
	}
	p->n = 0;
}

char *router_unescape(const char *s, size_t len, bool plus)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi = i + 1 < len ? str_hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? str_hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		} else if (c == '\0') {
			free(out);
			return NULL;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

/* The next segment of a path after *p (which points at a '/'): its start
 * and length; *p moves past it.  False at the end of the path. */
static bool next_segment(const char **p, const char **seg, size_t *len)
{
	if (**p != '/')
		return false;
	(*p)++;
	*seg = *p;
	while (**p != '\0' && **p != '/')
		(*p)++;
	*len = (size_t)(*p - *seg);
	return true;
}

typedef enum seg_match { SEG_NO, SEG_YES, SEG_BAD } seg_match;

/* Does path match pattern?  Fills params on YES. */
static seg_match match_one(const char *pattern, const char *path, bool nocase, router_params *params)
{
	const char *pp = pattern, *rp = path;
	router_params got = {0};
	for (;;) {
		const char *ps = NULL, *rs = NULL;
		size_t pl = 0, rl = 0;
		bool more_p = next_segment(&pp, &ps, &pl);
		bool more_r = next_segment(&rp, &rs, &rl);
		if (!more_p || !more_r) {
			bool both_end = !more_p && !more_r && *pp == '\0' && *rp == '\0';
			if (!both_end) {
				router_params_free(&got);
				return SEG_NO;
			}
			*params = got;
			return SEG_YES;
		}
		if (pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}') {
			if (rl == 0 || got.n == ROUTER_MAX_PARAMS) {
				router_params_free(&got);
				return SEG_NO;
			}
			char *v = router_unescape(rs, rl, false);
			if (v == NULL) {
				router_params_free(&got);
				return SEG_BAD;
			}
			got.name[got.n] = xstrndup(ps + 1, pl - 2);
			got.value[got.n++] = v;
		} else if (pl != rl || (nocase ? !str_ascii_nieq(ps, rs, pl) : memcmp(ps, rs, pl) != 0)) {
			router_params_free(&got);
			return SEG_NO;
		}
	}
}

router_result router_match(const http_route *routes, size_t n, const char *method, const char *path,
                           const http_route **route_r, router_params *params, char *allow_r,
                           size_t cap)
{
	bool path_known = false;
	if (cap > 0)
		allow_r[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		router_params got = {0};
		bool nocase = routes[i].path[0] == '~';
		seg_match m = match_one(routes[i].path + nocase, path, nocase, &got);
		if (m == SEG_BAD)
			return ROUTER_BAD_PATH;
		if (m == SEG_NO)
			continue;
		if (strcmp(routes[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			*route_r = &routes[i];
			*params = got;
			return ROUTER_FOUND;
		}
		router_params_free(&got);
		size_t used = strlen(allow_r);
		if (strstr(allow_r, routes[i].method) == NULL && used + strlen(routes[i].method) + 3 < cap)
			snprintf(allow_r + used, cap - used, "%s%s", used ? ", " : "", routes[i].method);
		path_known = true;
	}
	return path_known ? ROUTER_NO_METHOD : ROUTER_NO_PATH;
}
