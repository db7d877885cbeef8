/* imap4flags.c — RFC 5232: setflag, addflag, removeflag (on the internal
 * flags variable or a named variable), the hasflag test, and :flags on
 * keep and fileinto.  Flag strings are split on spaces; system flags are
 * kept in their canonical spelling, duplicates (case-insensitive) and
 * names that are no IMAP flag (RFC 3501 flag-keyword / \Recent / unknown
 * system flags) are dropped. */
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

static const char *const system_flags[] = {"\\Seen", "\\Answered", "\\Flagged",
					   "\\Deleted", "\\Draft"};

/* The canonical spelling of a flag, or NULL when it is not one. */
static char *canonical(const char *f, size_t n)
{
	if (n == 0)
		return NULL;
	if (f[0] == '\\') {
		for (size_t i = 0; i < 5; i++)
			if (strlen(system_flags[i]) == n && str_ascii_nieq(f, system_flags[i], n))
				return xstrdup(system_flags[i]);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return NULL;
	}
	return xstrndup(f, n);
}

static bool has(const strlist *l, const char *f)
{
	for (size_t i = 0; i < l->n; i++)
		if (str_ascii_ieq(l->items[i], f))
			return true;
	return false;
}

void sieve_flags_split(const strlist *in, strlist *out)
{
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->items[i];
		while (*s != '\0') {
			size_t sp = strspn(s, " ");
			s += sp;
			size_t n = strcspn(s, " ");
			char *f = canonical(s, n);
			if (f != NULL && !has(out, f))
				strlist_add_owned(out, f);
			else
				free(f);
			s += n;
		}
	}
}

void sieve_action_flags(sieve_interp *it, const sieve_node *n, strlist *out)
{
	if (n->o.flags != NULL) {
		strlist given;
		sieve_expand_list(it, n->o.flags, &given);
		sieve_flags_split(&given, out);
		strlist_free(&given);
	} else if (it->imap4flags) {
		sieve_flags_split(&it->flags, out);
	}
}

/* The current flags of the internal variable or of variable `var`. */
static void get_flags(sieve_interp *it, const char *var, strlist *out)
{
	strlist_init(out);
	if (var == NULL) {
		sieve_flags_split(&it->flags, out);
		return;
	}
	strlist one;
	strlist_init(&one);
	const char *v = sieve_var_get(it, var);
	strlist_add(&one, v != NULL ? v : "");
	sieve_flags_split(&one, out);
	strlist_free(&one);
}

static void put_flags(sieve_interp *it, const char *var, strlist *flags)
{
	if (var == NULL) {
		strlist_free(&it->flags);
		it->flags = *flags;
		return;
	}
	char *joined = strlist_join(flags, " ");
	sieve_var_set(it, var, joined);
	free(joined);
	strlist_free(flags);
}

static bool run_flagcmd(sieve_interp *it, const sieve_node *n)
{
	char *var = n->pos[0] != NULL ? sieve_expand(it, n->pos[0]->strs[0]) : NULL;
	strlist given, list, cur;
	sieve_expand_list(it, n->pos[1], &given);
	strlist_init(&list);
	sieve_flags_split(&given, &list);
	strlist_free(&given);
	const char *cmd = n->def->name;
	if (strcmp(cmd, "setflag") == 0) {
		put_flags(it, var, &list);
	} else {
		get_flags(it, var, &cur);
		for (size_t i = 0; i < list.n; i++) {
			if (cmd[0] == 'a' && !has(&cur, list.items[i]))
				strlist_add(&cur, list.items[i]);
			for (size_t k = 0; cmd[0] == 'r' && k < cur.n; k++)
				if (str_ascii_ieq(cur.items[k], list.items[i]))
					strlist_remove(&cur, cur.items[k--]);
		}
		strlist_free(&list);
		put_flags(it, var, &cur);
	}
	free(var);
	return true;
}

static bool check_flagcmd(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *v = n->pos[0];
	if (v != NULL && !(c->caps & CAP_VARIABLES))
		return sieve_fail(c, v->line, v->col, "%s with a variable name needs \"variables\"",
				  n->name);
	if (v != NULL && !sieve_var_name_valid(v->strs[0], strlen(v->strs[0])))
		return sieve_fail(c, v->line, v->col, "invalid variable name '%s'", v->strs[0]);
	return true;
}

static int test_hasflag(sieve_interp *it, const sieve_node *n)
{
	strlist values, keys, given;
	strlist_init(&values);
	if (n->pos[0] != NULL) {
		strlist vars;
		sieve_expand_list(it, n->pos[0], &vars);
		for (size_t i = 0; i < vars.n; i++) {
			strlist f;
			get_flags(it, vars.items[i], &f);
			for (size_t k = 0; k < f.n; k++)
				if (!has(&values, f.items[k]))
					strlist_add(&values, f.items[k]);
			strlist_free(&f);
		}
		strlist_free(&vars);
	} else {
		get_flags(it, NULL, &values);
	}
	sieve_expand_list(it, n->pos[1], &given);
	strlist_init(&keys);
	if (n->o.match == MT_COUNT || n->o.match == MT_VALUE) {
		keys = given;
	} else {
		for (size_t i = 0; i < given.n; i++) {
			/* keys are split on spaces like flags; wildcards stay (a key
			 * need not be a flag), but "\X" must name a system flag */
			const char *s = given.items[i];
			while (*s != '\0') {
				s += strspn(s, " ");
				size_t l = strcspn(s, " ");
				char *sys = l > 0 && s[0] == '\\' ? canonical(s, l) : NULL;
				if (l > 0 && (s[0] != '\\' || sys != NULL))
					strlist_add_owned(&keys, xstrndup(s, l));
				free(sys);
				s += l;
			}
		}
		strlist_free(&given);
	}
	bool r = sieve_match_values(it, &n->o, &values, &keys);
	strlist_free(&values);
	strlist_free(&keys);
	return r;
}

static void set_flags(sieve_opts *o, const char *tag, sieve_arg *a) { o->flags = a; }
const sieve_tag_def sieve_tags_flags[] = {
	{"flags", CAP_IMAP4FLAGS, 'L', 9, set_flags}, {NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const hasflag_tags[] = {sieve_tags_cmp, sieve_tags_match, NULL};

const sieve_def sieve_defs_flags[] = {
	{"setflag", CAP_IMAP4FLAGS, false, NULL, "SL", true, 0, 0, check_flagcmd, run_flagcmd, NULL},
	{"addflag", CAP_IMAP4FLAGS, false, NULL, "SL", true, 0, 0, check_flagcmd, run_flagcmd, NULL},
	{"removeflag", CAP_IMAP4FLAGS, false, NULL, "SL", true, 0, 0, check_flagcmd, run_flagcmd,
	 NULL},
	{"hasflag", CAP_IMAP4FLAGS, true, hasflag_tags, "LL", true, 0, 0, NULL, NULL, test_hasflag},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
