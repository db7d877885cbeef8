/* reader.h — the IMAP command framer: fed the bytes of a connection as they
 * arrive, it finds where each command ends (RFC 9051 2.2, 4.3), including
 * every literal form: synchronizing {n}, non-synchronizing {n+} (LITERAL+ and
 * LITERAL-, RFC 7888) and literal8 ~{n} / ~{n+} (RFC 3516).  It knows nothing
 * about the grammar inside a line; imap/parse.c reads the finished command.
 *
 * Framing rules:
 * - A line ends only at CRLF.  A bare LF ends the line and the command with
 *   IMAP_READ_BARE_LF (the client thinks the line is over, so that is where
 *   the next command starts).  Bare CR and NUL are left to the parser.
 * - A line whose last bytes before CRLF are {n}, {n+}, ~{n} or ~{n+}
 *   announces a literal of n bytes; the command goes on after them.
 * - A whole command is held in memory (at most max_command bytes) and handed
 *   out with its literals in place and without the final CRLF.
 *
 * Errors and resynchronisation (one report per bad command):
 * - Synchronizing literal too large (IMAP_READ_LITERAL_TOO_LARGE, or
 *   IMAP_READ_COMMAND_TOO_LARGE when it would pass max_command): reported as
 *   soon as its line ends, before the client sends a byte of it.  The client
 *   waits for "+ " and gets the tagged reply instead, so the command ends
 *   there and the next line is a new command.  The connection stays usable.
 * - Line too long (IMAP_READ_LINE_TOO_LONG) or command text passing
 *   max_command: the rest of the bad command is skipped without storing it,
 *   then the error is reported.  Skipping follows the literals the client
 *   announces: a synchronizing one ends the command (the client waits for a
 *   "+ " that never comes); a non-synchronizing one of at most max_literal
 *   bytes is read and thrown away, and skipping goes on after it.
 * - Non-synchronizing literal above max_nonsync (4096 under LITERAL-) but
 *   within max_literal: IMAP_READ_NONSYNC_TOO_LARGE.  The client sends the
 *   bytes without waiting, so they are swallowed (counted, not stored) with
 *   the rest of the command, and the error is reported at its end.  The
 *   connection stays usable (RFC 7888 section 4 lets the server choose).
 * - Non-synchronizing literal above max_literal (while reading or skipping):
 *   swallowing that much is not worth it, so the error is reported at once
 *   and imap_reader_must_close() becomes true: the server sends its BAD (or
 *   BYE) and closes.  Every later feed consumes nothing.
 * - no_skip (the limits before login): any size error above (line, literal,
 *   command, either literal form) closes the reader at once instead, even a
 *   refused synchronizing literal, whose bytes a misbehaving client may send
 *   anyway: nothing of a refused command is ever read as a command.
 * After any error imap_reader_tag() gives the bad command's tag when its
 * first line began with a usable one, so the reply can be tagged. */
#ifndef YUBIN_IMAP_READER_H
#define YUBIN_IMAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* The most a LITERAL- server accepts in a non-synchronizing literal. */
#define IMAP_LITERAL_MINUS_MAX 4096

typedef struct imap_reader_limits {
	size_t max_line;        /* one line of command text, CRLF and literal data excluded */
	uint64_t max_literal;   /* one literal (any form) */
	uint64_t max_nonsync;   /* one {n+} literal: IMAP_LITERAL_MINUS_MAX for LITERAL-,
	                         * max_literal for LITERAL+ */
	uint64_t max_command;   /* the whole command: lines, CRLFs and literal data */
	bool no_skip;           /* a command over a limit is never skipped: the reader
	                         * reports it and closes (see the top of this file) */
} imap_reader_limits;

typedef enum imap_read_status {
	IMAP_READ_MORE = 0,           /* everything fed was consumed; feed more */
	IMAP_READ_COMMAND,            /* a whole command: imap_reader_command() */
	IMAP_READ_CONTINUE,           /* send "+ " now: the client waits before a literal */
	IMAP_READ_LINE_TOO_LONG,      /* the errors: see the top of this file */
	IMAP_READ_LITERAL_TOO_LARGE,
	IMAP_READ_NONSYNC_TOO_LARGE,
	IMAP_READ_COMMAND_TOO_LARGE,
	IMAP_READ_BARE_LF,
	IMAP_READ_CLOSED,             /* an earlier error closed the reader */
} imap_read_status;

typedef struct imap_reader imap_reader;

/* Limits after login: 64 KiB lines, 64 MiB literals of either form
 * (LITERAL+), commands up to one literal plus a few lines. */
imap_reader_limits imap_reader_default_limits(void);

/* The limits before login (RFC 9051 leaves them to the server): a command
 * with its literals at most IMAP_PREAUTH_COMMAND_MAX bytes, LITERAL- for
 * {n+}, no_skip. */
#define IMAP_PREAUTH_COMMAND_MAX 8192
imap_reader_limits imap_reader_preauth_limits(void);

/* A reader with these limits (copied).  Never NULL. */
imap_reader *imap_reader_new(const imap_reader_limits *limits);
/* Free it and set *rp to NULL. */
void imap_reader_destroy(imap_reader **rp);

/* Consume bytes from data[0..len) until something happens, and return how
 * many were consumed; the caller keeps the rest for the next call (the reader
 * never reads ahead into the next command, so pipelined input is safe).
 * *st_r says what happened.  A command handed out by the previous call is
 * forgotten when this is called. */
size_t imap_reader_feed(imap_reader *r, const void *data, size_t len, imap_read_status *st_r);

/* After IMAP_READ_COMMAND: the command without its final CRLF (literal data
 * in place, so it may hold any byte) and its length.  NUL-terminated for
 * convenience.  Valid until the next feed, reset or destroy. */
const char *imap_reader_command(const imap_reader *r, size_t *len_r);

/* After an error: the tag of the refused command, or NULL when its first line
 * did not start with a tag that can be echoed. */
const char *imap_reader_tag(const imap_reader *r);

/* True once an error left the stream where the next command cannot be found. */
bool imap_reader_must_close(const imap_reader *r);

/* True while part of a command is buffered or being skipped. */
bool imap_reader_in_command(const imap_reader *r);

/* New limits (copied), from the next byte on: call between commands (at
 * login, for the large limits). */
void imap_reader_set_limits(imap_reader *r, const imap_reader_limits *limits);

/* Forget everything (after STARTTLS, or to start over after must_close). */
void imap_reader_reset(imap_reader *r);

/* A sentence for the BAD reply to an error status ("" for the others). */
const char *imap_read_status_message(imap_read_status st);

#endif
