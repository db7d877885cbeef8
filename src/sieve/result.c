/* result.c — the action list of one run (RFC 5228 2.10): duplicates
 * merged (2.10.3: the same folder or the same redirect address once, keep
 * and fileinto "INBOX" being one), the implicit keep cancelled by every
 * action but vacation and the :copy variants (2.10.2, RFC 3894), and the
 * conflicts that make a run fail: a second reject, reject with vacation
 * or with a delivering action (RFC 5429 2.1-2.2), a second vacation, too
 * many redirects (2.10.4) or actions. */
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

static const char *kind_name(sieve_action_kind k)
{
	static const char *const names[] = {"keep", "fileinto", "redirect", "discard",
					    "reject", "ereject", "vacation"};
	return names[k];
}

static bool is_store(const sieve_action *a)
{
	return a->kind == SIEVE_ACT_KEEP || a->kind == SIEVE_ACT_FILEINTO;
}

static const char *folder(const sieve_action *a)
{
	return a->kind == SIEVE_ACT_KEEP ? "INBOX" : a->target;
}

static bool same_folder(const char *x, const char *y)
{
	bool ix = str_ascii_ieq(x, "INBOX"), iy = str_ascii_ieq(y, "INBOX");
	return ix || iy ? ix && iy : strcmp(x, y) == 0;
}

void sieve_action_clear(sieve_action *a)
{
	free(a->target);
	strlist_free(&a->flags);
	free(a->vac.subject);
	free(a->vac.from);
	strlist_free(&a->vac.addresses);
	free(a->vac.handle);
	free(a->vac.reason);
}

static bool is_reject(sieve_action_kind k)
{
	return k == SIEVE_ACT_REJECT || k == SIEVE_ACT_EREJECT;
}

/* A conflict with an action already in the list, or NULL. */
static const sieve_action *conflict(const sieve_result *r, const sieve_action *a)
{
	for (size_t i = 0; i < r->n; i++) {
		const sieve_action *o = &r->actions[i];
		if (is_reject(a->kind) && (is_reject(o->kind) || o->kind == SIEVE_ACT_VACATION ||
					   is_store(o) || o->kind == SIEVE_ACT_REDIRECT))
			return o;
		if (is_reject(o->kind) && (a->kind == SIEVE_ACT_VACATION || is_store(a) ||
					   a->kind == SIEVE_ACT_REDIRECT))
			return o;
		if (a->kind == SIEVE_ACT_VACATION && o->kind == SIEVE_ACT_VACATION)
			return o;
	}
	return NULL;
}

/* Merge a duplicate into the earlier action; true when it was one. */
static bool merge(sieve_result *r, sieve_action *a)
{
	for (size_t i = 0; i < r->n; i++) {
		sieve_action *o = &r->actions[i];
		bool dup = (is_store(a) && is_store(o) && same_folder(folder(a), folder(o))) ||
			   (a->kind == SIEVE_ACT_REDIRECT && o->kind == SIEVE_ACT_REDIRECT &&
			    str_ascii_ieq(a->target, o->target)) ||
			   (a->kind == SIEVE_ACT_DISCARD && o->kind == SIEVE_ACT_DISCARD);
		if (!dup)
			continue;
		for (size_t f = 0; f < a->flags.n; f++)
			if (!strlist_contains(&o->flags, a->flags.items[f]))
				strlist_add(&o->flags, a->flags.items[f]);
		o->copy = o->copy && a->copy;
		o->create = o->create || a->create;
		return true;
	}
	return false;
}

bool sieve_result_add(sieve_interp *it, sieve_action *a)
{
	sieve_result *r = it->res;
	a->line = it->cur_line;
	const sieve_action *c = conflict(r, a);
	if (c != NULL) {
		sieve_rt_error(it, "%s action conflicts with the earlier %s action (line %u)",
			       kind_name(a->kind), kind_name(c->kind), c->line);
		sieve_action_clear(a);
		return false;
	}
	/* before merging: a fileinto "A" after a fileinto :copy "A" still
	 * cancels the implicit keep (RFC 5228 4.1, RFC 3894 3); Pigeonhole
	 * drops the duplicate with its effect, we do not */
	if (a->kind != SIEVE_ACT_VACATION && !a->copy)
		r->implicit_keep = false;
	if (merge(r, a)) {
		sieve_action_clear(a);
		return true;
	}
	if (a->kind == SIEVE_ACT_REDIRECT && ++it->redirects > SIEVE_MAX_REDIRECTS) {
		sieve_rt_error(it, "more than %d redirects", SIEVE_MAX_REDIRECTS);
		sieve_action_clear(a);
		return false;
	}
	if (r->n >= SIEVE_MAX_ACTIONS) {
		sieve_rt_error(it, "more than %d actions", SIEVE_MAX_ACTIONS);
		sieve_action_clear(a);
		return false;
	}
	r->actions = xrealloc(r->actions, (r->n + 1) * sizeof(*a));
	r->actions[r->n++] = *a;
	return true;
}
