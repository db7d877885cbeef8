/* imapurl.h — IMAP URLs (RFC 5092) naming one message or one of its parts,
 * as CATENATE (RFC 4469) takes them: "/INBOX;UIDVALIDITY=385759045/;UID=20"
 * relative to this server, or "imap://user@host/..." absolute, optionally
 * followed by "/;SECTION=1.2" and "/;PARTIAL=0.1024".  Parsing only:
 * whether the URL names this server and account, and what it names, is
 * the caller's to check.  URLAUTH (RFC 4467) is not supported. */
#ifndef YUBIN_IMAP_IMAPURL_H
#define YUBIN_IMAP_IMAPURL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct imap_url {
	char *user;           /* absolute form: the user, %-decoded, or NULL */
	char *host;           /* absolute form: the host, or NULL (relative) */
	char *mailbox;        /* %-decoded (UTF-8) */
	uint32_t uidvalidity; /* 0: not given */
	uint32_t uid;
	char *section;        /* %-decoded, or NULL for the whole message */
	bool partial;
	uint64_t start, count;
} imap_url;

/* Parse s[0..len) into u; false with a sentence (u then needs no free). */
bool imap_url_parse(const char *s, size_t len, imap_url *u, const char **error_r);
void imap_url_free(imap_url *u);

#endif
