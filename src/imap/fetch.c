/* fetch.c — FETCH attribute lists and modifiers (see fetch.h); body-part
 * attributes are read by fetchbody.c. */
#include "imap/fetch.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"

static const struct {
	const char *name;
	unsigned items;
} simple_atts[] = {
	{"FLAGS", IMAP_FETCH_FLAGS},
	{"UID", IMAP_FETCH_UID},
	{"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
	{"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
	{"ENVELOPE", IMAP_FETCH_ENVELOPE},
	{"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
	{"BODY", IMAP_FETCH_BODY},
	{"RFC822", IMAP_FETCH_RFC822},
	{"RFC822.HEADER", IMAP_FETCH_RFC822_HEADER},
	{"RFC822.TEXT", IMAP_FETCH_RFC822_TEXT},
	{"MODSEQ", IMAP_FETCH_MODSEQ},
	{"SAVEDATE", IMAP_FETCH_SAVEDATE},
	{"PREVIEW", IMAP_FETCH_PREVIEW},
};

/* PREVIEW's modifiers after it, "(LAZY)" (RFC 8970 3): true when a is
 * such a list, false with *error_r when it is a list of anything else. */
static bool preview_mods(const imap_arg *a, bool *taken_r, const char **error_r)
{
	*taken_r = false;
	if (a == NULL || a->type != IMAP_ARG_LIST)
		return true;
	if (a->child == NULL || !imap_arg_atom_is(a->child, "LAZY")) {
		*error_r = "PREVIEW takes only the LAZY modifier.";
		return false;
	}
	for (const imap_arg *m = a->child; m != NULL; m = m->next) {
		if (!imap_arg_atom_is(m, "LAZY")) {
			*error_r = "PREVIEW takes only the LAZY modifier.";
			return false;
		}
	}
	*taken_r = true;
	return true;
}

#define FAST (IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE)

static const struct {
	const char *name;
	unsigned items;
} macros[] = {
	{"ALL", FAST | IMAP_FETCH_ENVELOPE},
	{"FAST", FAST},
	{"FULL", FAST | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY},
};

/* One fetch-att (not a macro). */
static bool parse_att(const imap_arg *a, imap_fetch *f, const char **error_r)
{
	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Expected a FETCH attribute.";
		return false;
	}
	for (size_t i = 0; i < sizeof(simple_atts) / sizeof(simple_atts[0]); i++) {
		if (str_ascii_ieq(a->str, simple_atts[i].name)) {
			f->items |= simple_atts[i].items;
			return true;
		}
	}
	imap_fetch_body *b = &f->bodies[f->nbodies++];
	return imap_fetch_body_parse(a->str, a->len, b, error_r);
}

/* "(" fetch-modifier *(SP fetch-modifier) ")" */
static bool parse_modifiers(const imap_arg *list, imap_fetch *f, const char **error_r)
{
	const imap_arg *a = list->child;
	if (a == NULL) {
		*error_r = "Empty FETCH modifier list.";
		return false;
	}
	while (a != NULL) {
		if (imap_arg_atom_is(a, "CHANGEDSINCE") && !f->has_changedsince) {
			if (!imap_arg_number64(a->next, &f->changedsince) || f->changedsince == 0) {
				*error_r = "CHANGEDSINCE needs a number from 1.";
				return false;
			}
			f->has_changedsince = true;
			f->items |= IMAP_FETCH_MODSEQ;
			a = a->next->next;
		} else if (imap_arg_atom_is(a, "VANISHED") && !f->vanished) {
			f->vanished = true;
			a = a->next;
		} else {
			*error_r = "Unknown or repeated FETCH modifier.";
			return false;
		}
	}
	if (f->vanished && !f->has_changedsince) {
		*error_r = "VANISHED needs CHANGEDSINCE.";
		return false;
	}
	return true;
}

static bool parse_atts(const imap_arg *a, imap_fetch *f, const char **error_r)
{
	if (a->type == IMAP_ARG_LIST) {
		if (a->child == NULL) {
			*error_r = "Empty FETCH attribute list.";
			return false;
		}
		f->bodies = xcalloc(a->count, sizeof(*f->bodies));
		for (const imap_arg *x = a->child; x != NULL; x = x->next) {
			bool taken = false;
			if (!parse_att(x, f, error_r) ||
			    (imap_arg_atom_is(x, "PREVIEW") && !preview_mods(x->next, &taken, error_r)))
				return false;
			if (taken)
				x = x->next;
		}
		return true;
	}
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (imap_arg_atom_is(a, macros[i].name)) {
			f->items = macros[i].items;
			return true;
		}
	}
	f->bodies = xcalloc(1, sizeof(*f->bodies));
	return parse_att(a, f, error_r);
}

bool imap_fetch_parse(const imap_arg *args, imap_fetch *f, const char **error_r)
{
	memset(f, 0, sizeof(*f));
	if (args == NULL) {
		*error_r = "Missing FETCH attributes.";
		return false;
	}
	if (!parse_atts(args, f, error_r))
		return false;
	const imap_arg *m = args->next;
	bool taken = false;
	if (imap_arg_atom_is(args, "PREVIEW") && m != NULL && m->type == IMAP_ARG_LIST &&
	    imap_arg_atom_is(m->child, "LAZY")) {
		if (!preview_mods(m, &taken, error_r))
			return false;
		m = m->next;
	}
	if (m == NULL)
		return true;
	if (m->type != IMAP_ARG_LIST || m->next != NULL) {
		*error_r = "Unexpected argument after the FETCH attributes.";
		return false;
	}
	return parse_modifiers(m, f, error_r);
}

void imap_fetch_free(imap_fetch *f)
{
	for (size_t i = 0; i < f->nbodies; i++)
		imap_fetch_body_free(&f->bodies[i]);
	free(f->bodies);
	memset(f, 0, sizeof(*f));
}
