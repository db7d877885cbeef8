/* names.h — the form of mailbox names on this session's wire, and the one
 * pair of functions that crosses it (RFC 9051 5.1, RFC 6855 3): after
 * ENABLE IMAP4rev2 or ENABLE UTF8=ACCEPT names are UTF-8, before it they
 * are modified UTF-7 (RFC 3501 5.1.3).  Every command that reads a mailbox
 * name, and every response that shows one, goes through here; the encodings
 * themselves are mailbox.c's. */
#ifndef YUBIN_IMAP_NAMES_H
#define YUBIN_IMAP_NAMES_H

#include <stdbool.h>

#include "imap/session.h"
#include "lib/buf.h"

/* True when the session's names are UTF-8 (else modified UTF-7). */
bool imap_names_utf8(const imap_session *s);

/* A mailbox-name argument as the UTF-8 name folders use (INBOX folded):
 * *name_r malloc'd.  False with a sentence for BAD (not valid UTF-8, not
 * canonical modified UTF-7, control characters, empty). */
bool imap_name_in(const imap_session *s, const imap_arg *a, char **name_r, const char **error_r);

/* Read a mailbox-name argument, answering the command (tag) when it is
 * none: BAD when a is not an astring (the grammar), NO [CANNOT] when it is
 * one but can name no mailbox (invalid modified UTF-7 or UTF-8, control
 * characters, empty, too long), as a name of the right form that the
 * server cannot use gets NO (RFC 9051 6.3).  *name_r malloc'd on success. */
bool imap_name_arg(imap_session *s, const char *tag, const imap_arg *a, char **name_r);

/* Append name as the client must read it, an IMAP string.  False, with
 * nothing written, when name cannot be shown (not valid UTF-8: not a name
 * this server makes). */
bool imap_name_out(const imap_session *s, buf *out, const char *name);

#endif
