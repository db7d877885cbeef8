/* listargs.c — LIST / LSUB arguments (see listargs.h): one table per kind of
 * option, and the order of the parts of the extended form:
 *   LIST [SP "(" select-opts ")"] SP ref SP (pattern / "(" patterns ")")
 *        [SP "RETURN" SP "(" return-opts ")"] */
#include "imap/listargs.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "imap/mailbox.h"
#include "imap/status.h"

typedef struct option {
	const char *name;
	unsigned bit;
} option;

static const option select_options[] = {
	{"SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED},
	{"REMOTE", IMAP_LIST_SEL_REMOTE},
	{"RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH},
	{"SPECIAL-USE", IMAP_LIST_SEL_SPECIAL_USE},
};

static const option return_options[] = {
	{"SUBSCRIBED", IMAP_LIST_RET_SUBSCRIBED},
	{"CHILDREN", IMAP_LIST_RET_CHILDREN},
	{"SPECIAL-USE", IMAP_LIST_RET_SPECIAL_USE},
	{"STATUS", IMAP_LIST_RET_STATUS},
};

static unsigned option_bit(const option *table, size_t n, const imap_arg *a)
{
	for (size_t k = 0; k < n; k++)
		if (imap_arg_atom_is(a, table[k].name))
			return table[k].bit;
	return 0;
}

static bool parse_select(const imap_arg *list, imap_list_args *la, const char **error_r)
{
	for (const imap_arg *a = list->child; a != NULL; a = a->next) {
		unsigned bit = option_bit(select_options, sizeof(select_options) / sizeof(option), a);
		if (bit == 0) {
			*error_r = "Unknown LIST selection option";
			return false;
		}
		la->select |= bit;
	}
	/* RFC 5258 3: it only modifies another selection option */
	if ((la->select & IMAP_LIST_SEL_RECURSIVEMATCH) &&
	    !(la->select & (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE))) {
		*error_r = "RECURSIVEMATCH needs another selection option";
		return false;
	}
	return true;
}

static bool parse_return(const imap_arg *list, bool rev2, imap_list_args *la, const char **error_r)
{
	for (const imap_arg *a = list->child; a != NULL; a = a->next) {
		unsigned bit = option_bit(return_options, sizeof(return_options) / sizeof(option), a);
		if (bit == 0) {
			*error_r = "Unknown LIST return option";
			return false;
		}
		if (bit == IMAP_LIST_RET_STATUS) {
			unsigned items;
			a = a->next;
			if (!imap_status_items_parse(a, rev2, &items, error_r))
				return false;
			la->status_items |= items;
		}
		la->ret |= bit;
	}
	return true;
}

static bool add_pattern(const imap_arg *a, bool utf8, imap_list_args *la, const char **error_r)
{
	char *pattern;
	if (!imap_mailbox_parse_pattern(a, utf8, &pattern, error_r))
		return false;
	strlist_add_owned(&la->patterns, pattern);
	return true;
}

/* One pattern, or a parenthesized list of one or more. */
static bool parse_patterns(const imap_arg *a, bool utf8, imap_list_args *la, const char **error_r)
{
	if (a->type != IMAP_ARG_LIST)
		return add_pattern(a, utf8, la, error_r);
	la->extended = true;
	if (a->child == NULL) {
		*error_r = "The pattern list is empty";
		return false;
	}
	for (const imap_arg *p = a->child; p != NULL; p = p->next)
		if (!add_pattern(p, utf8, la, error_r))
			return false;
	return true;
}

bool imap_list_args_parse(const imap_arg *args, bool lsub, bool utf8, bool rev2,
                          imap_list_args *la, const char **error_r)
{
	const imap_arg *a = args;
	memset(la, 0, sizeof(*la));
	strlist_init(&la->patterns);
	*error_r = lsub ? "LSUB needs a reference and a pattern" : "LIST needs a reference and a pattern";
	if (!lsub && a != NULL && a->type == IMAP_ARG_LIST) {
		la->extended = true;
		if (!parse_select(a, la, error_r))
			return false;
		a = a->next;
	}
	if (a == NULL || a->next == NULL || !imap_mailbox_parse_pattern(a, utf8, &la->ref, error_r))
		return false;
	a = a->next;
	if ((lsub && a->type == IMAP_ARG_LIST) || !parse_patterns(a, utf8, la, error_r))
		return false;
	a = a->next;
	if (a != NULL) {
		la->extended = true;
		if (lsub || !imap_arg_atom_is(a, "RETURN") || a->next == NULL ||
		    a->next->type != IMAP_ARG_LIST || a->next->next != NULL) {
			*error_r = lsub ? "LSUB needs a reference and a pattern"
			                : "Only RETURN (options) may follow the patterns";
			return false;
		}
		if (!parse_return(a->next, rev2, la, error_r))
			return false;
	}
	if (la->select & IMAP_LIST_SEL_SUBSCRIBED)
		la->ret |= IMAP_LIST_RET_SUBSCRIBED;    /* RFC 5258 3.1 */
	if (la->select & IMAP_LIST_SEL_SPECIAL_USE)
		la->ret |= IMAP_LIST_RET_SPECIAL_USE;   /* the attributes it selected by */
	return true;
}

void imap_list_args_free(imap_list_args *la)
{
	free(la->ref);
	la->ref = NULL;
	strlist_free(&la->patterns);
}
