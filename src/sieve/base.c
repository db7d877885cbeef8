/* base.c — the control commands and actions of RFC 5228 sections 3 and 4
 * that need no extension: require, if, elsif, else, stop, keep, discard,
 * redirect (with RFC 3894's :copy). */
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

static bool run_nothing(sieve_interp *it, const sieve_node *n) { return true; }

static bool run_stop(sieve_interp *it, const sieve_node *n)
{
	it->stopped = true;
	return true;
}

static bool run_keep(sieve_interp *it, const sieve_node *n)
{
	sieve_action a = {.kind = SIEVE_ACT_KEEP};
	strlist_init(&a.flags);
	sieve_action_flags(it, n, &a.flags);
	return sieve_result_add(it, &a);
}

static bool run_discard(sieve_interp *it, const sieve_node *n)
{
	sieve_action a = {.kind = SIEVE_ACT_DISCARD};
	return sieve_result_add(it, &a);
}

static bool run_redirect(sieve_interp *it, const sieve_node *n)
{
	char *given = sieve_expand(it, n->pos[0]->strs[0]);
	char *addr = sieve_address_spec(given);
	if (addr == NULL) {
		sieve_rt_error(it, "redirect: invalid address '%s'", given);
		free(given);
		return false;
	}
	free(given);
	sieve_action a = {.kind = SIEVE_ACT_REDIRECT, .target = addr, .copy = n->o.copy};
	return sieve_result_add(it, &a);
}

static bool check_redirect(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	if (sieve_arg_constant(a) && !sieve_valid_address(a->strs[0]))
		return sieve_fail(c, a->line, a->col, "redirect: invalid address '%s'", a->strs[0]);
	return true;
}

static void set_copy(sieve_opts *o, const char *tag, sieve_arg *a) { o->copy = true; }
const sieve_tag_def sieve_tags_copy[] = {
	{"copy", CAP_COPY, 0, 7, set_copy}, {NULL, 0, 0, 0, NULL}};

static const sieve_tag_def *const keep_tags[] = {sieve_tags_flags, NULL};
static const sieve_tag_def *const redirect_tags[] = {sieve_tags_copy, NULL};

const sieve_def sieve_defs_base[] = {
	{"require", 0, false, NULL, "L", false, 0, 0, NULL, run_nothing, NULL},
	{"if", 0, false, NULL, "", false, 3, 1, NULL, NULL, NULL},
	{"elsif", 0, false, NULL, "", false, 3, 1, NULL, NULL, NULL},
	{"else", 0, false, NULL, "", false, 0, 1, NULL, NULL, NULL},
	{"stop", 0, false, NULL, "", false, 0, 0, NULL, run_stop, NULL},
	{"keep", 0, false, keep_tags, "", false, 0, 0, NULL, run_keep, NULL},
	{"discard", 0, false, NULL, "", false, 0, 0, NULL, run_discard, NULL},
	{"redirect", 0, false, redirect_tags, "S", false, 0, 0, check_redirect, run_redirect, NULL},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
