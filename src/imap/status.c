/* status.c — STATUS items (see status.h): one table of names and the item
 * list of the response (the counting is statuscount.c's). */
#include "imap/status.h"

#include "imap/args.h"

static const struct {
	const char *name;
	unsigned bit;
} items_table[] = {
	{"MESSAGES", IMAP_STATUS_MESSAGES}, {"RECENT", IMAP_STATUS_RECENT},
	{"UIDNEXT", IMAP_STATUS_UIDNEXT},   {"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY},
	{"UNSEEN", IMAP_STATUS_UNSEEN},     {"SIZE", IMAP_STATUS_SIZE},
	{"DELETED", IMAP_STATUS_DELETED},   {"HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ},
};
#define N_ITEMS (sizeof(items_table) / sizeof(items_table[0]))

static unsigned item_bit(const imap_arg *a, bool rev2)
{
	for (size_t k = 0; k < N_ITEMS; k++)
		if (imap_arg_atom_is(a, items_table[k].name))
			return rev2 && items_table[k].bit == IMAP_STATUS_RECENT ? 0 : items_table[k].bit;
	return 0;
}

bool imap_status_items_parse(const imap_arg *list, bool rev2, unsigned *items_r,
                             const char **error_r)
{
	*items_r = 0;
	if (list == NULL || list->type != IMAP_ARG_LIST || list->count == 0) {
		*error_r = "STATUS items must be a list of one or more names";
		return false;
	}
	for (const imap_arg *a = list->child; a != NULL; a = a->next) {
		unsigned bit = item_bit(a, rev2);
		if (bit == 0) {
			*error_r = "Unknown STATUS item";
			return false;
		}
		*items_r |= bit;
	}
	return true;
}

void imap_status_write_items(buf *out, unsigned items, const imap_status_counts *c)
{
	const unsigned long long values[N_ITEMS] = {
		c->messages, c->recent, c->uidnext, c->uidvalidity,
		c->unseen,   c->size, c->deleted, c->highestmodseq};
	const char *sep = "";
	BUF_PUTC(out, '(');
	for (size_t k = 0; k < N_ITEMS; k++) {
		if (!(items & items_table[k].bit))
			continue;
		BUF_PRINTF(out, "%s%s %llu", sep, items_table[k].name, values[k]);
		sep = " ";
	}
	BUF_PUTC(out, ')');
}
