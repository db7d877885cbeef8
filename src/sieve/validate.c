/* validate.c — the compile-time checks every command and test share
 * (RFC 5228 2.6-2.7, 3, 8.2): capabilities and `require`, tagged
 * arguments and their conflicts, positional argument types, tests and
 * blocks, if/elsif/else placement, comparators and match types (with
 * relational's operators), address parts and :index.  The checks peculiar
 * to one command live beside it, in its extension's file (check hooks). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

static const struct {
	const char *name;
	unsigned bit;
} caps[] = {
	{"fileinto", CAP_FILEINTO}, {"envelope", CAP_ENVELOPE},
	{"encoded-character", CAP_ENCODED}, {"copy", CAP_COPY}, {"mailbox", CAP_MAILBOX},
	{"reject", CAP_REJECT}, {"ereject", CAP_EREJECT}, {"vacation", CAP_VACATION},
	{"imap4flags", CAP_IMAP4FLAGS}, {"variables", CAP_VARIABLES}, {"body", CAP_BODY},
	{"relational", CAP_RELATIONAL}, {"subaddress", CAP_SUBADDRESS}, {"date", CAP_DATE},
	{"index", CAP_INDEX}, {"include", CAP_INCLUDE},
	{"comparator-i;ascii-numeric", CAP_NUMERIC}, {"comparator-i;octet", CAP_OCTET},
	{"comparator-i;ascii-casemap", CAP_CASEMAP},
};

unsigned sieve_cap_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (strcmp(caps[i].name, name) == 0)  /* capability names are case-sensitive */
			return caps[i].bit;
	return 0;
}

const char *sieve_capabilities(void)
{
	return "fileinto envelope encoded-character copy mailbox reject ereject vacation "
	       "imap4flags variables body relational subaddress date index include "
	       "comparator-i;ascii-numeric";
}

/* ---- the shared tags ---- */
static void set_cmp(sieve_opts *o, const char *tag, sieve_arg *a) { o->cmp_arg = a; }
static void set_match(sieve_opts *o, const char *tag, sieve_arg *a)
{
	static const char *const names[] = {"is", "contains", "matches", "value", "count"};
	for (int i = 0; i < 5; i++)
		if (strcmp(tag, names[i]) == 0)
			o->match = i;
	o->rel_arg = a;
}
static void set_addr(sieve_opts *o, const char *tag, sieve_arg *a)
{
	static const char *const names[] = {"all", "localpart", "domain", "user", "detail"};
	for (int i = 0; i < 5; i++)
		if (strcmp(tag, names[i]) == 0)
			o->addrpart = i;
}
static void set_index(sieve_opts *o, const char *tag, sieve_arg *a)
{
	if (strcmp(tag, "last") == 0) {
		o->last = true;
	} else {
		o->index = a->num;
		o->index_arg = a;
	}
}

enum { G_CMP = 1, G_MATCH, G_ADDR, G_INDEX, G_LAST };
const sieve_tag_def sieve_tags_cmp[] = {
	{"comparator", 0, 'S', G_CMP, set_cmp}, {NULL, 0, 0, 0, NULL}};
const sieve_tag_def sieve_tags_match[] = {
	{"is", 0, 0, G_MATCH, set_match}, {"contains", 0, 0, G_MATCH, set_match},
	{"matches", 0, 0, G_MATCH, set_match},
	{"value", CAP_RELATIONAL, 'S', G_MATCH, set_match},
	{"count", CAP_RELATIONAL, 'S', G_MATCH, set_match}, {NULL, 0, 0, 0, NULL}};
const sieve_tag_def sieve_tags_addr[] = {
	{"all", 0, 0, G_ADDR, set_addr}, {"localpart", 0, 0, G_ADDR, set_addr},
	{"domain", 0, 0, G_ADDR, set_addr}, {"user", CAP_SUBADDRESS, 0, G_ADDR, set_addr},
	{"detail", CAP_SUBADDRESS, 0, G_ADDR, set_addr}, {NULL, 0, 0, 0, NULL}};
const sieve_tag_def sieve_tags_index[] = {
	{"index", CAP_INDEX, 'N', G_INDEX, set_index},
	{"last", CAP_INDEX, 0, G_LAST, set_index}, {NULL, 0, 0, 0, NULL}};

static const sieve_def *const all_defs[] = {
	sieve_defs_base, sieve_defs_tests, sieve_defs_fileinto, sieve_defs_reject,
	sieve_defs_vacation, sieve_defs_flags, sieve_defs_vars, sieve_defs_body,
	sieve_defs_date, sieve_defs_include,
};

const sieve_def *sieve_def_find(const char *name, bool is_test)
{
	for (size_t i = 0; i < sizeof(all_defs) / sizeof(all_defs[0]); i++)
		for (const sieve_def *d = all_defs[i]; d->name != NULL; d++)
			if (d->is_test == is_test && strcmp(d->name, name) == 0)
				return d;
	return NULL;
}

bool sieve_arg_constant(const sieve_arg *a)
{
	for (size_t i = 0; i < a->nstrs; i++)
		if (strstr(a->strs[i], "${") != NULL)
			return false;
	return true;
}

static const sieve_tag_def *find_tag(const sieve_def *d, const char *name)
{
	if (d->tags == NULL)
		return NULL;
	for (const sieve_tag_def *const *t = d->tags; *t != NULL; t++)
		for (const sieve_tag_def *td = *t; td->name != NULL; td++)
			if (strcmp(td->name, name) == 0)
				return td;
	return NULL;
}

static bool arg_fits(char type, const sieve_arg *a)
{
	if (type == 'N')
		return a->kind == SARG_NUMBER;
	if (type == 'S')
		return a->kind == SARG_STRLIST && !a->is_list;
	return a->kind == SARG_STRLIST;
}

static const char *type_name(char type)
{
	return type == 'N' ? "a number" : type == 'S' ? "a string" : "a string list";
}

/* Tagged arguments: known, available, not repeated, not in conflict. */
static bool check_tags(sieve_compiler *c, sieve_node *n, size_t *i_r)
{
	const char *what = n->def->is_test ? "test" : "command";
	size_t i = 0;
	for (; i < n->nargs && n->args[i]->kind == SARG_TAG; i++) {
		sieve_arg *a = n->args[i];
		const sieve_tag_def *td = find_tag(n->def, a->tag);
		if (td == NULL || (td->cap != 0 && !(c->caps & td->cap)))
			return sieve_fail(c, a->line, a->col, "unknown tagged argument ':%s' for the %s %s",
					  a->tag, n->name, what);
		unsigned g = td->group != 0 ? 1u << td->group : 0;
		if (g != 0 && (n->o.groups & g))
			return sieve_fail(c, a->line, a->col,
					  "tagged argument ':%s' conflicts with an earlier one of the same kind", a->tag);
		n->o.groups |= g;
		sieve_arg *val = NULL;
		if (td->argtype != 0) {
			if (i + 1 >= n->nargs || !arg_fits(td->argtype, n->args[i + 1]))
				return sieve_fail(c, a->line, a->col, "tagged argument ':%s' needs %s after it",
						  a->tag, type_name(td->argtype));
			val = n->args[++i];
		}
		td->set(&n->o, a->tag, val);
	}
	*i_r = i;
	return true;
}

static bool check_positional(sieve_compiler *c, sieve_node *n, size_t i)
{
	const char *want = n->def->pos;
	size_t nwant = strlen(want), have = n->nargs - i;
	size_t skip = n->def->opt_first && have + 1 == nwant ? 1 : 0;
	for (size_t k = i; k < n->nargs; k++)
		if (n->args[k]->kind == SARG_TAG)
			return sieve_fail(c, n->args[k]->line, n->args[k]->col,
					  "tagged argument ':%s' after the positional arguments of %s",
					  n->args[k]->tag, n->name);
	if (have + skip != nwant) {
		const sieve_arg *a = have > nwant - skip ? n->args[i + nwant - skip] : NULL;
		return sieve_fail(c, a != NULL ? a->line : n->line, a != NULL ? a->col : n->col,
				  "the %s %s takes %zu positional argument%s, not %zu", n->name,
				  n->def->is_test ? "test" : "command", nwant - skip,
				  nwant - skip == 1 ? "" : "s", have);
	}
	for (size_t k = 0; k < have; k++) {
		sieve_arg *a = n->args[i + k];
		char t = want[k + skip];
		if (!arg_fits(t, a))
			return sieve_fail(c, a->line, a->col, "argument %zu of %s must be %s",
					  k + 1, n->name, type_name(t));
		n->pos[k + skip] = a;
	}
	n->npos = nwant;
	return true;
}

/* Comparator, match type and relational operator fit together. */
static bool check_compare(sieve_compiler *c, sieve_node *n)
{
	sieve_opts *o = &n->o;
	o->cmp = CMP_CASEMAP;
	if (o->cmp_arg != NULL) {
		const char *name = o->cmp_arg->strs[0];
		if (strcmp(name, "i;octet") == 0)
			o->cmp = CMP_OCTET;
		else if (strcmp(name, "i;ascii-casemap") == 0)
			o->cmp = CMP_CASEMAP;
		else if (strcmp(name, "i;ascii-numeric") == 0 && (c->caps & CAP_NUMERIC))
			o->cmp = CMP_NUMERIC;
		else
			return sieve_fail(c, o->cmp_arg->line, o->cmp_arg->col,
					  "unknown comparator '%s'", name);
	}
	if (o->cmp == CMP_NUMERIC && (o->match == MT_CONTAINS || o->match == MT_MATCHES))
		return sieve_fail(c, o->cmp_arg->line, o->cmp_arg->col,
				  "comparator 'i;ascii-numeric' does not support the :%s match type",
				  o->match == MT_CONTAINS ? "contains" : "matches");
	if (o->match == MT_VALUE || o->match == MT_COUNT) {
		if (!sieve_arg_constant(o->rel_arg) ||
		    (o->rel = sieve_relop_parse(o->rel_arg->strs[0])) < 0)
			return sieve_fail(c, o->rel_arg->line, o->rel_arg->col,
					  "invalid relational operator '%s'", o->rel_arg->strs[0]);
	}
	if (o->last && o->index_arg == NULL)
		return sieve_fail(c, n->line, n->col, "the :last tag needs :index");
	if (o->index_arg != NULL && o->index == 0)
		return sieve_fail(c, o->index_arg->line, o->index_arg->col,
				  ":index counts from 1");
	return true;
}

/* RFC 5229 3: "${a.b}" names a variable namespace; none is supported, and
 * a reference to an unknown one is an error. */
static bool check_namespaces(sieve_compiler *c, const sieve_arg *a)
{
	for (size_t k = 0; k < a->nstrs; k++) {
		for (const char *s = strstr(a->strs[k], "${"); s != NULL; s = strstr(s + 2, "${")) {
			const char *e = s + 2;
			while (isalnum((unsigned char)*e) || *e == '_' || *e == '.')
				e++;
			const char *dot = memchr(s + 2, '.', (size_t)(e - s - 2));
			bool well_formed = *e == '}' && dot != NULL && e[-1] != '.' &&
					   memmem(s + 2, (size_t)(e - s - 2), "..", 2) == NULL;
			if (well_formed && sieve_var_name_valid(s + 2, (size_t)(dot - s - 2)))
				return sieve_fail(c, a->slines[k], a->scols[k],
						  "variable namespace '%.*s' is not supported",
						  (int)(dot - s - 2), s + 2);
		}
	}
	return true;
}

static bool decode_strings(sieve_compiler *c, sieve_node *n)
{
	for (size_t i = 0; (c->caps & CAP_VARIABLES) && i < n->nargs; i++)
		if (!check_namespaces(c, n->args[i]))
			return false;
	if (!(c->caps & CAP_ENCODED))
		return true;
	for (size_t i = 0; i < n->nargs; i++)
		for (size_t k = 0; k < n->args[i]->nstrs; k++) {
			char *why = NULL;
			if (!sieve_encoded_decode(&n->args[i]->strs[k], &why)) {
				bool r = sieve_fail(c, n->args[i]->line, n->args[i]->col, "%s", why);
				free(why);
				return r;
			}
		}
	return true;
}

static bool validate_block(sieve_compiler *c, sieve_node **cmds, size_t n, bool top);

bool sieve_validate_node(sieve_compiler *c, sieve_node *n, bool is_test)
{
	const char *what = is_test ? "test" : "command";
	n->def = sieve_def_find(n->name, is_test);
	if (n->def == NULL || (n->def->cap != 0 && !(c->caps & n->def->cap))) {
		if (n->def == NULL && sieve_def_find(n->name, !is_test) != NULL)
			return sieve_fail(c, n->line, n->col, "'%s' is a %s, not a %s", n->name,
					  is_test ? "command" : "test", what);
		return sieve_fail(c, n->line, n->col, "unknown %s '%s'%s", what, n->name,
				  n->def != NULL ? " (its extension is not required)" : "");
	}
	size_t i = 0;
	if (!decode_strings(c, n) || !check_tags(c, n, &i) || !check_positional(c, n, i) ||
	    !check_compare(c, n))
		return false;
	int tests = n->def->tests;
	if (tests == 0 && n->has_tests)
		return sieve_fail(c, n->tests[0]->line, n->tests[0]->col, "%s takes no tests", n->name);
	if (tests != 0 && !n->has_tests)
		return sieve_fail(c, n->line, n->col, "%s needs %s", n->name,
				  tests == 2 ? "a test list" : "a test");
	if (tests == 2 && !n->test_list)
		return sieve_fail(c, n->tests[0]->line, n->tests[0]->col,
				  "%s needs a test list in parentheses", n->name);
	if ((tests == 1 || tests == 3) && (n->test_list || n->ntests != 1))
		return sieve_fail(c, n->line, n->col, "%s takes one test, not a test list", n->name);
	if (n->def->block && !n->has_block)
		return sieve_fail(c, n->line, n->col, "%s needs a block '{ ... }'", n->name);
	if (!n->def->block && n->has_block)
		return sieve_fail(c, n->line, n->col, "%s takes no block", n->name);
	for (size_t k = 0; k < n->ntests; k++)
		if (!sieve_validate_node(c, n->tests[k], true))
			return false;
	if (n->def->check != NULL && !n->def->check(c, n))
		return false;
	return validate_block(c, n->block, n->nblock, false);
}

static bool validate_require(sieve_compiler *c, sieve_node *n)
{
	if (n->nargs != 1 || n->args[0]->kind != SARG_STRLIST || n->has_tests || n->has_block)
		return sieve_fail(c, n->line, n->col, "require takes one string list");
	sieve_arg *a = n->args[0];
	for (size_t k = 0; k < a->nstrs; k++) {
		unsigned bit = sieve_cap_bit(a->strs[k]);
		if (bit == 0)
			return sieve_fail(c, a->slines[k], a->scols[k], "unknown Sieve capability '%s'",
					  a->strs[k]);
		c->caps |= bit;
	}
	n->def = sieve_def_find("require", false);
	return true;
}

static bool validate_block(sieve_compiler *c, sieve_node **cmds, size_t n, bool top)
{
	bool others = false;
	for (size_t i = 0; i < n; i++) {
		sieve_node *cmd = cmds[i];
		if (strcmp(cmd->name, "require") == 0) {
			if (!top || others)
				return sieve_fail(c, cmd->line, cmd->col,
						  "require must come before every other command, at the top level");
			if (!validate_require(c, cmd))
				return false;
			continue;
		}
		others = true;
		if (strcmp(cmd->name, "elsif") == 0 || strcmp(cmd->name, "else") == 0) {
			const char *prev = i > 0 ? cmds[i - 1]->name : "";
			if (strcmp(prev, "if") != 0 && strcmp(prev, "elsif") != 0)
				return sieve_fail(c, cmd->line, cmd->col,
						  "%s must follow an if or elsif block", cmd->name);
		}
		if (!sieve_validate_node(c, cmd, false))
			return false;
		if (top && strcmp(cmd->name, "stop") == 0)
			top = false;   /* nothing after a top-level stop runs */
		if (top && cmd->def->cap == CAP_VACATION)
			c->seen_vacation = true;
		if (top && (cmd->def->cap == CAP_REJECT || cmd->def->cap == CAP_EREJECT))
			c->seen_reject = true;
		if (top && c->seen_vacation && c->seen_reject)
			return sieve_fail(c, cmd->line, cmd->col,
					  "reject/ereject conflicts with vacation: both would send a response");
	}
	return true;
}

bool sieve_validate_script(sieve_compiler *c, sieve_script *s);
bool sieve_validate_script(sieve_compiler *c, sieve_script *s)
{
	if (!validate_block(c, s->cmds, s->ncmds, true))
		return false;
	s->caps = c->caps;
	return true;
}
