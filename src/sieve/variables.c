/* variables.c — RFC 5229: the set command with its modifiers, the string
 * test, variable names, storage (per script, and the global scope that
 * RFC 6609's global command shares) and the bounds: SIEVE_MAX_VARIABLES
 * names per scope, values cut at SIEVE_MAX_VAR_SIZE bytes on a character
 * boundary.  Expansion of ${...} is in run.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

bool sieve_var_name_valid(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static sieve_vars *scope(sieve_interp *it, const char *name)
{
	for (size_t i = 0; i < it->global_names->n; i++)
		if (str_ascii_ieq(it->global_names->items[i], name))
			return it->globals;
	return it->vars;
}

const char *sieve_var_get(sieve_interp *it, const char *name)
{
	sieve_vars *v = scope(it, name);
	for (size_t i = 0; i < v->names.n; i++)
		if (str_ascii_ieq(v->names.items[i], name))
			return v->values.items[i];
	return NULL;
}

void sieve_var_set(sieve_interp *it, const char *name, const char *value)
{
	size_t n = strlen(value);
	if (n > SIEVE_MAX_VAR_SIZE) {
		n = SIEVE_MAX_VAR_SIZE;
		while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
			n--;
	}
	sieve_vars *v = scope(it, name);
	for (size_t i = 0; i < v->names.n; i++)
		if (str_ascii_ieq(v->names.items[i], name)) {
			free(v->values.items[i]);
			v->values.items[i] = xstrndup(value, n);
			return;
		}
	if (v->names.n >= SIEVE_MAX_VARIABLES) {
		sieve_rt_error(it, "more than %d variables", SIEVE_MAX_VARIABLES);
		return;
	}
	strlist_add(&v->names, name);
	strlist_add_owned(&v->values, xstrndup(value, n));
}

enum { MOD_LOWER = 1, MOD_UPPER = 2, MOD_LOWERFIRST = 4, MOD_UPPERFIRST = 8,
       MOD_QUOTEWILD = 16, MOD_LENGTH = 32 };
static const struct {
	const char *name;
	unsigned bit;
	int prec;
} mods[] = {
	{"lower", MOD_LOWER, 40}, {"upper", MOD_UPPER, 40},
	{"lowerfirst", MOD_LOWERFIRST, 30}, {"upperfirst", MOD_UPPERFIRST, 30},
	{"quotewildcard", MOD_QUOTEWILD, 20}, {"length", MOD_LENGTH, 10},
};

static void set_mod(sieve_opts *o, const char *tag, sieve_arg *a)
{
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (strcmp(tag, mods[i].name) == 0)
			o->modifiers |= mods[i].bit;
}

static char *apply(unsigned m, char *v)
{
	if (m & (MOD_LOWER | MOD_UPPER))
		for (char *p = v; *p; p++)
			*p = (char)((m & MOD_LOWER) ? tolower((unsigned char)*p) : toupper((unsigned char)*p));
	if ((m & MOD_LOWERFIRST) && *v)
		*v = (char)tolower((unsigned char)*v);
	if ((m & MOD_UPPERFIRST) && *v)
		*v = (char)toupper((unsigned char)*v);
	if (m & MOD_QUOTEWILD) {
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		for (char *p = v; *p; p++) {
			if (*p == '*' || *p == '?' || *p == '\\')
				BUF_PUTC(&b, '\\');
			BUF_PUTC(&b, *p);
		}
		free(v);
		v = buf_steal(&b);
	}
	if (m & MOD_LENGTH) {
		size_t chars = 0;   /* characters, not octets (RFC 5229 4.1.5) */
		for (char *p = v; *p; p++)
			chars += ((unsigned char)*p & 0xC0) != 0x80;
		free(v);
		v = xasprintf("%zu", chars);
	}
	return v;
}

static bool run_set(sieve_interp *it, const sieve_node *n)
{
	char *name = xstrdup(n->pos[0]->strs[0]);
	char *value = apply(n->o.modifiers, sieve_expand(it, n->pos[1]->strs[0]));
	sieve_var_set(it, name, value);
	free(name);
	free(value);
	return !it->failed;
}

static bool check_set(sieve_compiler *c, sieve_node *n)
{
	for (size_t i = 0; i < n->nargs; i++) {
		const sieve_arg *a = n->args[i];
		if (a->kind != SARG_TAG)
			break;
		for (size_t k = 0; k < i; k++) {
			int p1 = 0, p2 = 0;
			for (size_t m = 0; m < sizeof(mods) / sizeof(mods[0]); m++) {
				if (strcmp(mods[m].name, a->tag) == 0)
					p1 = mods[m].prec;
				if (strcmp(mods[m].name, n->args[k]->tag) == 0)
					p2 = mods[m].prec;
			}
			if (p1 == p2)
				return sieve_fail(c, a->line, a->col,
						  "modifiers :%s and :%s have the same precedence",
						  n->args[k]->tag, a->tag);
		}
	}
	const sieve_arg *v = n->pos[0];
	if (!sieve_var_name_valid(v->strs[0], strlen(v->strs[0])))
		return sieve_fail(c, v->line, v->col, "invalid variable name '%s'", v->strs[0]);
	for (size_t i = 0; i < c->varnames.n; i++)
		if (str_ascii_ieq(c->varnames.items[i], v->strs[0]))
			return true;
	if (c->varnames.n >= SIEVE_MAX_VARIABLES)
		return sieve_fail(c, v->line, v->col, "more than %d variables", SIEVE_MAX_VARIABLES);
	strlist_add(&c->varnames, v->strs[0]);
	return true;
}

/* The comparator defaults to i;ascii-casemap, as for every test (RFC 5228
 * 2.7.3); Pigeonhole defaults this one test to i;octet. */
static int test_string(sieve_interp *it, const sieve_node *n)
{
	strlist src, values, keys;
	sieve_expand_list(it, n->pos[0], &src);
	strlist_init(&values);
	for (size_t i = 0; i < src.n; i++)
		if (n->o.match != MT_COUNT || src.items[i][0] != '\0')
			strlist_add(&values, src.items[i]);
	strlist_free(&src);
	sieve_expand_list(it, n->pos[1], &keys);
	bool r = sieve_match_values(it, &n->o, &values, &keys);
	strlist_free(&values);
	strlist_free(&keys);
	return r;
}

static const sieve_tag_def mod_tags[] = {
	{"lower", 0, 0, 0, set_mod}, {"upper", 0, 0, 0, set_mod},
	{"lowerfirst", 0, 0, 0, set_mod}, {"upperfirst", 0, 0, 0, set_mod},
	{"quotewildcard", 0, 0, 0, set_mod}, {"length", 0, 0, 0, set_mod},
	{NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const set_tags[] = {mod_tags, NULL};
static const sieve_tag_def *const string_tags[] = {sieve_tags_cmp, sieve_tags_match, NULL};

const sieve_def sieve_defs_vars[] = {
	{"set", CAP_VARIABLES, false, set_tags, "SS", false, 0, 0, check_set, run_set, NULL},
	{"string", CAP_VARIABLES, true, string_tags, "LL", false, 0, 0, NULL, NULL, test_string},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
