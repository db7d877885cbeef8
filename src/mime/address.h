/* address.h — RFC 5322 3.4 address lists as IMAP ENVELOPE wants them:
 * mailboxes (with display names from phrases or quoted strings), groups
 * (a start marker, the members, an end marker), the obsolete source route
 * (RFC 5322 4.4 obs-route: "<@a,@b:user@host>"), and comments (dropped, but
 * a comment after a bare addr-spec becomes the name when there is no other,
 * as "user@host (Name)" means).  Encoded-words are left as they are.  Works
 * on an unfolded value; tolerant: never fails, skips only empty items. */
#ifndef YUBIN_MIME_ADDRESS_H
#define YUBIN_MIME_ADDRESS_H

#include <stddef.h>

typedef struct mime_address {
	char *name;      /* display name or NULL */
	char *route;     /* "@a,@b" or NULL */
	char *mailbox;   /* local part (quoted strings keep their quotes);
	                  * the group name at a group start; NULL at a group end */
	char *host;      /* domain, "" when the address has none; NULL at a group
	                  * start or end (the IMAP group markers) */
} mime_address;

typedef struct mime_addrlist {
	mime_address *items;
	size_t n;
	size_t cap;
} mime_addrlist;

/* Parse value into out (which it initialises). */
void mime_parse_addresses(const char *value, mime_addrlist *out);
void mime_addrlist_free(mime_addrlist *l);

#endif
