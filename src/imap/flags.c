/* flags.c — flag arguments and flag lists (see flags.h). */
#include "imap/flags.h"

#include <stdlib.h>
#include <strings.h>

#include "imap/args.h"

static const struct {
	const char *name;
	unsigned bit;
} system_flags[] = {
	{"\\Seen", IMAP_FLAG_SEEN},
	{"\\Answered", IMAP_FLAG_ANSWERED},
	{"\\Flagged", IMAP_FLAG_FLAGGED},
	{"\\Deleted", IMAP_FLAG_DELETED},
	{"\\Draft", IMAP_FLAG_DRAFT},
};

void imap_flags_init(imap_flags *f)
{
	f->system = 0;
	strlist_init(&f->keywords);
}

void imap_flags_free(imap_flags *f)
{
	strlist_free(&f->keywords);
	f->system = 0;
}

unsigned imap_flag_system_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++)
		if (str_ascii_ieq(name, system_flags[i].name))
			return system_flags[i].bit;
	return 0;
}

bool imap_flag_keyword_valid(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!imap_is_atom_char((unsigned char)s[i]))
			return false;
	return true;
}

bool imap_flags_add_arg(imap_flags *f, const imap_arg *a, const char **error_r)
{
	if (a == NULL || a->type != IMAP_ARG_ATOM) {
		*error_r = "Expected a flag.";
		return false;
	}
	if (a->str[0] == '\\') {
		unsigned bit = imap_flag_system_bit(a->str);
		if (bit == 0) {
			*error_r = str_ascii_ieq(a->str, "\\Recent") ? "The \\Recent flag cannot be set."
			                                             : "Unknown system flag.";
			return false;
		}
		if (a->len < 2 || !imap_flag_keyword_valid(a->str + 1, a->len - 1)) {
			*error_r = "Invalid flag.";
			return false;
		}
		f->system |= bit;
		return true;
	}
	if (!imap_flag_keyword_valid(a->str, a->len)) {
		*error_r = "Invalid character in a keyword.";
		return false;
	}
	strlist_add(&f->keywords, a->str);
	return true;
}

static int cmp_keyword(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

void imap_flags_normalize(imap_flags *f)
{
	strlist *l = &f->keywords;
	if (l->n < 2)
		return;
	qsort(l->items, l->n, sizeof(*l->items), cmp_keyword);
	size_t w = 1;
	for (size_t i = 1; i < l->n; i++) {
		if (str_ascii_ieq(l->items[i], l->items[w - 1]))
			free(l->items[i]);
		else
			l->items[w++] = l->items[i];
	}
	l->n = w;
}

bool imap_flags_parse_list(const imap_arg *list, imap_flags *f, const char **error_r)
{
	if (list == NULL || list->type != IMAP_ARG_LIST) {
		*error_r = "Expected a parenthesized flag list.";
		return false;
	}
	for (const imap_arg *a = list->child; a != NULL; a = a->next)
		if (!imap_flags_add_arg(f, a, error_r))
			return false;
	imap_flags_normalize(f);
	return true;
}
