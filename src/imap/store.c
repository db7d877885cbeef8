/* store.c — STORE arguments (see store.h). */
#include "imap/store.h"

#include <string.h>

#include "imap/args.h"
#include "lib/strutil.h"

/* "(UNCHANGEDSINCE n)": the only STORE modifier we know. */
static bool parse_modifiers(const imap_arg *list, imap_store *st, const char **error_r)
{
	const imap_arg *a = list->child;
	if (a == NULL) {
		*error_r = "Empty STORE modifier list.";
		return false;
	}
	while (a != NULL) {
		if (!imap_arg_atom_is(a, "UNCHANGEDSINCE")) {
			*error_r = "Unknown STORE modifier.";
			return false;
		}
		if (st->has_unchangedsince) {
			*error_r = "UNCHANGEDSINCE given twice.";
			return false;
		}
		if (!imap_arg_number64(a->next, &st->unchangedsince)) {
			*error_r = "UNCHANGEDSINCE needs a number.";
			return false;
		}
		st->has_unchangedsince = true;
		a = a->next->next;
	}
	return true;
}

/* [+-]FLAGS[.SILENT] */
static bool parse_item(const imap_arg *a, imap_store *st)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM)
		return false;
	const char *s = a->str;
	if (*s == '+' || *s == '-') {
		st->mode = *s == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
		s++;
	}
	if (str_ascii_ieq(s, "FLAGS"))
		return true;
	st->silent = str_ascii_ieq(s, "FLAGS.SILENT");
	return st->silent;
}

bool imap_store_parse(const imap_arg *args, imap_store *st, const char **error_r)
{
	memset(st, 0, sizeof(*st));
	imap_flags_init(&st->flags);
	const imap_arg *a = args;
	if (a != NULL && a->type == IMAP_ARG_LIST) {
		if (!parse_modifiers(a, st, error_r))
			return false;
		a = a->next;
	}
	if (!parse_item(a, st)) {
		*error_r = "Expected FLAGS, +FLAGS or -FLAGS, optionally with .SILENT.";
		return false;
	}
	a = a->next;
	if (a == NULL) {
		*error_r = "Missing flags after FLAGS.";
		return false;
	}
	if (a->type == IMAP_ARG_LIST) {
		if (a->next != NULL) {
			*error_r = "Unexpected argument after the flag list.";
			return false;
		}
		return imap_flags_parse_list(a, &st->flags, error_r);
	}
	for (; a != NULL; a = a->next)
		if (!imap_flags_add_arg(&st->flags, a, error_r))
			return false;
	imap_flags_normalize(&st->flags);
	return true;
}

void imap_store_free(imap_store *st)
{
	imap_flags_free(&st->flags);
}
