/* notify.h — the NOTIFY command's arguments (RFC 5465 8) read into a
 * struct, and which of its event groups applies to a mailbox.  No I/O and
 * no session: what is sent, and when, is notify_cmd.c's.
 *
 * Supported events: MessageNew (with FLAGS / UID / MODSEQ / INTERNALDATE /
 * RFC822.SIZE as its fetch attributes, for the selected mailbox only),
 * MessageExpunge, FlagChange, MailboxName, SubscriptionChange.  The
 * annotation and metadata events are answered NO [BADEVENT]. */
#ifndef YUBIN_IMAP_NOTIFY_H
#define YUBIN_IMAP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parse.h"
#include "lib/strutil.h"

enum imap_notify_event {
	IMAP_NOTIFY_MESSAGE_NEW = 1u << 0,
	IMAP_NOTIFY_MESSAGE_EXPUNGE = 1u << 1,
	IMAP_NOTIFY_FLAG_CHANGE = 1u << 2,
	IMAP_NOTIFY_MAILBOX_NAME = 1u << 3,
	IMAP_NOTIFY_SUBSCRIPTION_CHANGE = 1u << 4,
};
#define IMAP_NOTIFY_MESSAGE_EVENTS \
	(IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | IMAP_NOTIFY_FLAG_CHANGE)
/* For NO [BADEVENT (...)]. */
#define IMAP_NOTIFY_SUPPORTED "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange"

typedef enum imap_notify_filter {
	IMAP_NOTIFY_SELECTED,
	IMAP_NOTIFY_SELECTED_DELAYED,
	IMAP_NOTIFY_INBOXES,
	IMAP_NOTIFY_PERSONAL,
	IMAP_NOTIFY_SUBSCRIBED,
	IMAP_NOTIFY_SUBTREE,
	IMAP_NOTIFY_MAILBOXES,
} imap_notify_filter;

typedef struct imap_notify_group {
	imap_notify_filter filter;
	strlist names;          /* SUBTREE / MAILBOXES: the mailboxes (decoded) */
	unsigned events;        /* IMAP_NOTIFY_*; 0 for NONE */
	unsigned new_items;     /* MessageNew's fetch attributes: IMAP_FETCH_* */
} imap_notify_group;

typedef struct imap_notify_set {
	bool none;              /* NOTIFY NONE */
	bool status;            /* NOTIFY SET STATUS */
	imap_notify_group *groups;
	size_t n;
} imap_notify_set;

typedef enum imap_notify_status {
	IMAP_NOTIFY_OK,
	IMAP_NOTIFY_BAD,        /* a syntax or rule error: the sentence says which */
	IMAP_NOTIFY_BADEVENT,   /* an event this server does not send */
} imap_notify_status;

/* Decodes a mailbox argument as the session reads names. */
typedef bool imap_notify_name_fn(void *ctx, const imap_arg *a, char **name_r, const char **error_r);

/* The arguments of NOTIFY (args: its first argument) into set, checking
 * RFC 5465 5's rules: MessageNew and MessageExpunge together, FlagChange
 * only with them, fetch attributes only for the selected mailbox, one
 * selected filter.  *error_r is a sentence for the BAD or NO. */
imap_notify_status imap_notify_parse(const imap_arg *args, imap_notify_name_fn *name_in, void *ctx,
                                     imap_notify_set *set, const char **error_r);
void imap_notify_set_free(imap_notify_set *set);

/* The group for the selected mailbox, or NULL. */
const imap_notify_group *imap_notify_for_selected(const imap_notify_set *set);
/* The first other group whose filter takes mailbox name (subscribed: it
 * is; "." is the hierarchy delimiter), or NULL. */
const imap_notify_group *imap_notify_for_mailbox(const imap_notify_set *set, const char *name,
                                                 bool subscribed);

#endif
