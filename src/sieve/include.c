/* include.c — RFC 6609: include (:personal / :global, :once, :optional),
 * return, and global.  Included scripts are loaded through the caller's
 * loader and compiled with the including one, so a missing script, a
 * recursion or too deep a chain (SIEVE_MAX_INCLUDE_DEPTH) is a compile
 * error, as is more than SIEVE_MAX_INCLUDES includes or SIEVE_MAX_TOTAL_SIZE
 * bytes of script in all (each include compiles its script anew, so a
 * script including a large one many times must not multiply memory);
 * at run time each included script has its own variables, sharing
 * only those both declare global. */
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

static void set_inc(sieve_opts *o, const char *tag, sieve_arg *a)
{
	if (strcmp(tag, "global") == 0)
		o->global = true;
	else if (strcmp(tag, "once") == 0)
		o->once = true;
	else if (strcmp(tag, "optional") == 0)
		o->optional = true;
}

static bool valid_name(const char *s)
{
	return *s != '\0' && strchr(s, '/') == NULL && strlen(s) <= 255;
}

static bool check_include(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	const char *name = a->strs[0];
	if (!sieve_arg_constant(a) || !valid_name(name))
		return sieve_fail(c, a->line, a->col, "invalid script name '%s'", name);
	if (c->depth + 1 > SIEVE_MAX_INCLUDE_DEPTH)
		return sieve_fail(c, a->line, a->col, "includes nested more than %d deep",
				  SIEVE_MAX_INCLUDE_DEPTH);
	char *key = xasprintf("%s:%s", n->o.global ? "global" : "personal", name);
	bool loop = strlist_contains(c->stack, key);
	free(key);
	if (loop)
		return sieve_fail(c, a->line, a->col, "include of '%s' is recursive", name);
	char *text = NULL;
	size_t len = 0;
	if (c->loader->load == NULL || !c->loader->load(c->loader->ctx, name, n->o.global, &text, &len)) {
		if (n->o.optional)
			return true;
		return sieve_fail(c, a->line, a->col, "included %s script '%s' does not exist",
				  n->o.global ? "global" : "personal", name);
	}
	*c->total += len;
	bool ok;
	if (++*c->includes > SIEVE_MAX_INCLUDES)
		ok = sieve_fail(c, a->line, a->col, "more than %d includes", SIEVE_MAX_INCLUDES);
	else if (*c->total > SIEVE_MAX_TOTAL_SIZE)
		ok = sieve_fail(c, a->line, a->col, "the included scripts are larger than %d bytes "
				"together", SIEVE_MAX_TOTAL_SIZE);
	else
		ok = sieve_compile_named(c, name, n->o.global, text, len, &n->included);
	free(text);
	return ok;
}

static bool run_include(sieve_interp *it, const sieve_node *n)
{
	if (n->included == NULL)
		return true;
	char *key = xasprintf("%s:%s", n->o.global ? "global" : "personal", n->included->name);
	bool seen = strlist_contains(&it->once, key);
	if (n->o.once && seen) {
		free(key);
		return true;
	}
	if (!seen)
		strlist_add(&it->once, key);
	free(key);
	unsigned line = it->cur_line;
	bool ok = sieve_run_script(it, n->included);
	it->cur_line = line;
	return ok;
}

static bool run_return(sieve_interp *it, const sieve_node *n)
{
	it->returned = true;
	return true;
}

static bool check_global(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	if (!(c->caps & CAP_VARIABLES))
		return sieve_fail(c, n->line, n->col, "global needs \"variables\"");
	for (size_t i = 0; i < a->nstrs; i++)
		if (!sieve_var_name_valid(a->strs[i], strlen(a->strs[i])))
			return sieve_fail(c, a->line, a->col, "invalid variable name '%s'", a->strs[i]);
	return true;
}

static bool run_global(sieve_interp *it, const sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	for (size_t i = 0; i < a->nstrs; i++)
		if (!strlist_contains(it->global_names, a->strs[i]))
			strlist_add(it->global_names, a->strs[i]);
	return true;
}

static const sieve_tag_def inc_tags[] = {
	{"personal", 0, 0, 18, set_inc}, {"global", 0, 0, 18, set_inc},
	{"once", 0, 0, 19, set_inc}, {"optional", 0, 0, 20, set_inc},
	{NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const include_tags[] = {inc_tags, NULL};

const sieve_def sieve_defs_include[] = {
	{"include", CAP_INCLUDE, false, include_tags, "S", false, 0, 0, check_include,
	 run_include, NULL},
	{"return", CAP_INCLUDE, false, NULL, "", false, 0, 0, NULL, run_return, NULL},
	{"global", CAP_INCLUDE, false, NULL, "L", false, 0, 0, check_global, run_global, NULL},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
