/* notify.c — the NOTIFY grammar and its rules, and the filter matching
 * (see notify.h).  Pure: unit-tested and fuzzed. */
#include "imap/notify.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "imap/fetch.h"

static const struct {
	const char *name;
	unsigned bit;          /* 0: known, not supported (BADEVENT) */
} event_names[] = {
	{"MessageNew", IMAP_NOTIFY_MESSAGE_NEW},
	{"MessageExpunge", IMAP_NOTIFY_MESSAGE_EXPUNGE},
	{"FlagChange", IMAP_NOTIFY_FLAG_CHANGE},
	{"MailboxName", IMAP_NOTIFY_MAILBOX_NAME},
	{"SubscriptionChange", IMAP_NOTIFY_SUBSCRIPTION_CHANGE},
	{"AnnotationChange", 0},
	{"MailboxMetadataChange", 0},
	{"ServerMetadataChange", 0},
};

static const struct {
	const char *name;
	imap_notify_filter filter;
} filter_names[] = {
	{"selected", IMAP_NOTIFY_SELECTED},   {"selected-delayed", IMAP_NOTIFY_SELECTED_DELAYED},
	{"inboxes", IMAP_NOTIFY_INBOXES},     {"personal", IMAP_NOTIFY_PERSONAL},
	{"subscribed", IMAP_NOTIFY_SUBSCRIBED}, {"subtree", IMAP_NOTIFY_SUBTREE},
	{"mailboxes", IMAP_NOTIFY_MAILBOXES},
};

/* The attributes a new message's FETCH may carry: what the view knows. */
#define NEW_ITEMS                                                                              \
	(IMAP_FETCH_FLAGS | IMAP_FETCH_UID | IMAP_FETCH_MODSEQ | IMAP_FETCH_INTERNALDATE |            \
	 IMAP_FETCH_RFC822_SIZE)

static bool is_selected(imap_notify_filter f)
{
	return f == IMAP_NOTIFY_SELECTED || f == IMAP_NOTIFY_SELECTED_DELAYED;
}

/* MessageNew's "(" fetch-att *(SP fetch-att) ")". */
static imap_notify_status new_items(const imap_arg *list, imap_notify_group *g, const char **err_r)
{
	imap_fetch f = {0};
	imap_arg alone = *list; /* what follows is more events, not FETCH modifiers */
	alone.next = NULL;
	bool ok = list->child != NULL && imap_fetch_parse(&alone, &f, err_r);
	if (ok && (f.nbodies > 0 || (f.items & ~(unsigned)NEW_ITEMS)))
		ok = !(*err_r = "MessageNew fetch attributes here: FLAGS UID MODSEQ INTERNALDATE RFC822.SIZE");
	if (ok)
		g->new_items = f.items;
	else if (list->child == NULL)
		*err_r = "Empty MessageNew fetch attribute list";
	imap_fetch_free(&f);
	return ok ? IMAP_NOTIFY_OK : IMAP_NOTIFY_BAD;
}

static imap_notify_status parse_events(const imap_arg *a, imap_notify_group *g, const char **err_r)
{
	if (imap_arg_atom_is(a, "NONE") && a->next == NULL)
		return IMAP_NOTIFY_OK;
	if (a == NULL || a->type != IMAP_ARG_LIST || a->child == NULL || a->next != NULL) {
		*err_r = "Events are a list or NONE, at the end of the group";
		return IMAP_NOTIFY_BAD;
	}
	bool unsupported = false;
	for (const imap_arg *e = a->child; e != NULL; e = e->next) {
		size_t k = 0;
		while (k < sizeof event_names / sizeof event_names[0] && !imap_arg_atom_is(e, event_names[k].name))
			k++;
		if (k == sizeof event_names / sizeof event_names[0]) {
			*err_r = "Unknown event";
			return IMAP_NOTIFY_BAD;
		}
		unsupported = unsupported || event_names[k].bit == 0;
		g->events |= event_names[k].bit;
		if (event_names[k].bit == IMAP_NOTIFY_MESSAGE_NEW && e->next != NULL && e->next->type == IMAP_ARG_LIST) {
			e = e->next;
			if (!is_selected(g->filter)) {
				*err_r = "MessageNew fetch attributes are for the selected mailbox only";
				return IMAP_NOTIFY_BAD;
			}
			if (new_items(e, g, err_r) != IMAP_NOTIFY_OK)
				return IMAP_NOTIFY_BAD;
		}
	}
	unsigned pair = g->events & (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE);
	if (pair != 0 && pair != (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE)) {
		*err_r = "MessageNew and MessageExpunge go together";
		return IMAP_NOTIFY_BAD;
	}
	if ((g->events & IMAP_NOTIFY_FLAG_CHANGE) && pair == 0) {
		*err_r = "FlagChange needs MessageNew and MessageExpunge";
		return IMAP_NOTIFY_BAD;
	}
	if (unsupported) {
		*err_r = "[BADEVENT (" IMAP_NOTIFY_SUPPORTED ")] Not an event this server sends";
		return IMAP_NOTIFY_BADEVENT;
	}
	return IMAP_NOTIFY_OK;
}

/* one-or-more-mailbox */
static bool parse_names(const imap_arg *a, imap_notify_name_fn *name_in, void *ctx, strlist *out,
                        const char **err_r)
{
	const imap_arg *one = a->type == IMAP_ARG_LIST ? a->child : a;
	if (one == NULL) {
		*err_r = "An empty mailbox list";
		return false;
	}
	for (; one != NULL; one = a->type == IMAP_ARG_LIST ? one->next : NULL) {
		char *name = NULL;
		if (one->type == IMAP_ARG_LIST || !name_in(ctx, one, &name, err_r)) {
			free(name);
			if (*err_r == NULL)
				*err_r = "Expected a mailbox name";
			return false;
		}
		strlist_add_owned(out, name);
	}
	return true;
}

static imap_notify_status parse_group(const imap_arg *a, imap_notify_name_fn *name_in, void *ctx,
                                      imap_notify_group *g, const char **err_r)
{
	if (a->type != IMAP_ARG_LIST || a->child == NULL) {
		*err_r = "An event group is (filter events)";
		return IMAP_NOTIFY_BAD;
	}
	const imap_arg *x = a->child;
	size_t k = 0;
	while (k < sizeof filter_names / sizeof filter_names[0] && !imap_arg_atom_is(x, filter_names[k].name))
		k++;
	if (k == sizeof filter_names / sizeof filter_names[0]) {
		*err_r = "Unknown mailbox filter";
		return IMAP_NOTIFY_BAD;
	}
	g->filter = filter_names[k].filter;
	x = x->next;
	if (g->filter == IMAP_NOTIFY_SUBTREE || g->filter == IMAP_NOTIFY_MAILBOXES) {
		if (x == NULL || !parse_names(x, name_in, ctx, &g->names, err_r)) {
			if (x == NULL)
				*err_r = "subtree and mailboxes need mailbox names";
			return IMAP_NOTIFY_BAD;
		}
		x = x->next;
	}
	if (x == NULL) {
		*err_r = "An event group needs events (or NONE)";
		return IMAP_NOTIFY_BAD;
	}
	return parse_events(x, g, err_r);
}

imap_notify_status imap_notify_parse(const imap_arg *args, imap_notify_name_fn *name_in, void *ctx,
                                     imap_notify_set *set, const char **error_r)
{
	memset(set, 0, sizeof(*set));
	*error_r = NULL;
	if (imap_arg_atom_is(args, "NONE") && args->next == NULL) {
		set->none = true;
		return IMAP_NOTIFY_OK;
	}
	if (!imap_arg_atom_is(args, "SET")) {
		*error_r = "NOTIFY SET or NOTIFY NONE";
		return IMAP_NOTIFY_BAD;
	}
	const imap_arg *a = args->next;
	if (imap_arg_atom_is(a, "STATUS")) {
		set->status = true;
		a = a->next;
	}
	if (a == NULL) {
		*error_r = "NOTIFY SET needs event groups";
		return IMAP_NOTIFY_BAD;
	}
	imap_notify_status worst = IMAP_NOTIFY_OK;
	bool have_selected = false;
	for (; a != NULL; a = a->next) {
		set->groups = xrealloc(set->groups, (set->n + 1) * sizeof(*set->groups));
		imap_notify_group *g = &set->groups[set->n++];
		memset(g, 0, sizeof(*g));
		strlist_init(&g->names);
		const char *err = NULL;
		imap_notify_status st = parse_group(a, name_in, ctx, g, &err);
		if (st == IMAP_NOTIFY_OK && is_selected(g->filter) && have_selected) {
			st = IMAP_NOTIFY_BAD;
			err = "One selected or selected-delayed group at most";
		}
		have_selected = have_selected || is_selected(g->filter);
		if (st == IMAP_NOTIFY_BAD)
			return *error_r = err, IMAP_NOTIFY_BAD;
		if (st == IMAP_NOTIFY_BADEVENT && worst == IMAP_NOTIFY_OK) {
			worst = st;
			*error_r = err;
		}
	}
	return worst;
}

void imap_notify_set_free(imap_notify_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		strlist_free(&set->groups[i].names);
	free(set->groups);
	memset(set, 0, sizeof(*set));
}

const imap_notify_group *imap_notify_for_selected(const imap_notify_set *set)
{
	for (size_t i = 0; set != NULL && i < set->n; i++)
		if (is_selected(set->groups[i].filter))
			return &set->groups[i];
	return NULL;
}

static bool in_subtree(const char *name, const char *top)
{
	size_t n = strlen(top);
	return strncmp(name, top, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

const imap_notify_group *imap_notify_for_mailbox(const imap_notify_set *set, const char *name,
                                                 bool subscribed)
{
	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const imap_notify_group *g = &set->groups[i];
		bool take = false;
		switch (g->filter) {
		case IMAP_NOTIFY_SELECTED:
		case IMAP_NOTIFY_SELECTED_DELAYED:
			break;
		case IMAP_NOTIFY_INBOXES: /* where delivery puts new mail */
			take = strcmp(name, "INBOX") == 0;
			break;
		case IMAP_NOTIFY_PERSONAL:
			take = true;
			break;
		case IMAP_NOTIFY_SUBSCRIBED:
			take = subscribed;
			break;
		case IMAP_NOTIFY_SUBTREE:
			for (size_t k = 0; !take && k < g->names.n; k++)
				take = in_subtree(name, g->names.items[k]);
			break;
		case IMAP_NOTIFY_MAILBOXES:
			take = strlist_contains(&g->names, name);
			break;
		}
		if (take)
			return g;
	}
	return NULL;
}
