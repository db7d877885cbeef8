/* reader.c — IMAP command framing (see reader.h): line ends, literal
 * announcements, limits and skipping after errors.  Does not look at the
 * grammar inside lines (imap/parse.c does) and does no I/O. */
#include "imap/reader.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

/* Where the reader is inside the current command. */
typedef enum reader_state {
	RS_LINE,          /* storing a line of command text */
	RS_LITERAL,       /* storing literal data */
	RS_SKIP_LINE,     /* throwing away the rest of a bad line */
	RS_SKIP_LITERAL,  /* throwing away a non-synchronizing literal of a bad command */
	RS_CLOSED,        /* an error left us without a way to the next command */
} reader_state;

/* Recogniser of a literal announcement at the end of a line, one byte at a
 * time: "{" digits ["+"] "}" CR, optionally after "~". */
typedef enum mark_state { MK_NONE, MK_OPEN, MK_DIGITS, MK_PLUS, MK_CLOSE, MK_CLOSE_CR } mark_state;

typedef struct mark {
	mark_state st;
	bool lit8;
	bool plus;
	bool overflow;
	uint64_t n;
	unsigned char prev;
} mark;

struct imap_reader {
	imap_reader_limits lim;
	reader_state st;
	buf cmd;               /* the command so far */
	buf tag;               /* tag of a refused command */
	bool have_tag;
	bool returned;         /* cmd was handed out; clear it at the next feed */
	size_t line_bytes;     /* bytes of the current line so far, CR included */
	uint64_t total;        /* bytes of the command so far, stored or skipped */
	uint64_t remaining;    /* literal bytes still to come */
	imap_read_status pending;  /* error of the command being skipped */
	mark mk;
};

imap_reader_limits imap_reader_default_limits(void)
{
	imap_reader_limits l = {
		.max_line = 64 * 1024,
		.max_literal = 64 * 1024 * 1024,
		.max_nonsync = 64 * 1024 * 1024, /* LITERAL+ */
		.max_command = 64 * 1024 * 1024 + 256 * 1024,
	};
	return l;
}

/* Before login a client has shown nothing, so a command is small: LOGIN
 * with a long password, AUTHENTICATE PLAIN with SASL-IR, ID with a few
 * fields all fit in 8 KiB (Dovecot's imap-login allows 4 KiB lines).  A
 * bigger command closes the connection with nothing of it read (no_skip),
 * a synchronizing literal beyond the limit included: it gets no "+ ". */
imap_reader_limits imap_reader_preauth_limits(void)
{
	imap_reader_limits l = {
		.max_line = IMAP_PREAUTH_COMMAND_MAX,
		.max_literal = IMAP_PREAUTH_COMMAND_MAX,
		.max_nonsync = IMAP_LITERAL_MINUS_MAX,
		.max_command = IMAP_PREAUTH_COMMAND_MAX,
		.no_skip = true,
	};
	return l;
}

imap_reader *imap_reader_new(const imap_reader_limits *limits)
{
	imap_reader *r = xcalloc(1, sizeof(*r));
	r->lim = *limits;
	size_t cmdmax = r->lim.max_command > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)r->lim.max_command;
	buf_init(&r->cmd, cmdmax);
	buf_init(&r->tag, 256);
	imap_reader_reset(r);
	return r;
}

void imap_reader_destroy(imap_reader **rp)
{
	if (*rp == NULL)
		return;
	buf_free(&(*rp)->cmd);
	buf_free(&(*rp)->tag);
	free(*rp);
	*rp = NULL;
}

static void start_line(imap_reader *r)
{
	r->line_bytes = 0;
	memset(&r->mk, 0, sizeof(r->mk));
}

/* Ready for the next command.  A buffer grown by a big command (an APPEND
 * literal) is let go, so an idle session keeps nothing large. */
static void start_command(imap_reader *r)
{
	if (r->cmd.cap > 64 * 1024) {
		size_t max = r->cmd.max;
		buf_free(&r->cmd);
		buf_init(&r->cmd, max);
	}
	buf_clear(&r->cmd);
	r->total = 0;
	r->remaining = 0;
	r->pending = IMAP_READ_MORE;
	r->st = RS_LINE;
	start_line(r);
}

void imap_reader_reset(imap_reader *r)
{
	buf_clear(&r->tag);
	r->have_tag = false;
	r->returned = false;
	start_command(r);
}

static void mark_byte(mark *m, unsigned char c)
{
	if (c == '{') {
		m->st = MK_OPEN;
		m->lit8 = m->prev == '~';
		m->plus = m->overflow = false;
		m->n = 0;
	} else if (c >= '0' && c <= '9' && (m->st == MK_OPEN || m->st == MK_DIGITS)) {
		if (m->n > (UINT64_MAX - 9) / 10)
			m->overflow = true;
		else
			m->n = m->n * 10 + (uint64_t)(c - '0');
		m->st = MK_DIGITS;
	} else if (c == '+' && m->st == MK_DIGITS) {
		m->st = MK_PLUS;
	} else if (c == '}' && (m->st == MK_DIGITS || m->st == MK_PLUS)) {
		m->plus = m->st == MK_PLUS;
		m->st = MK_CLOSE;
	} else if (c == '\r' && m->st == MK_CLOSE) {
		m->st = MK_CLOSE_CR;
	} else {
		m->st = MK_NONE;
	}
	m->prev = c;
}

static uint64_t mark_size(const mark *m)
{
	return m->overflow ? UINT64_MAX : m->n;
}

/* Keep the tag of the command in cmd (its first line) for the error reply:
 * 1*<ASTRING-CHAR except "+"> followed by a space. */
static void keep_tag(imap_reader *r)
{
	buf_clear(&r->tag);
	r->have_tag = false;
	const char *s = buf_str(&r->cmd);
	size_t i = 0;
	for (; i < r->cmd.len && s[i] != ' '; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\+", c) != NULL)
			return;
	}
	if (i == 0 || i >= r->cmd.len)
		return;
	r->have_tag = buf_append(&r->tag, s, i);
}

static imap_read_status close_reader(imap_reader *r, imap_read_status why);

/* A bad command begins: remember why and its tag, stop storing. */
static void begin_skip(imap_reader *r, imap_read_status why)
{
	if (r->pending == IMAP_READ_MORE) {
		r->pending = why;
		keep_tag(r);
	}
	buf_clear(&r->cmd);
	r->st = RS_SKIP_LINE;
}

/* Report the error of a bad command and get ready for the next. */
static imap_read_status end_skip(imap_reader *r, imap_read_status why)
{
	if (r->pending == IMAP_READ_MORE)
		keep_tag(r);
	else
		why = r->pending;
	start_command(r);
	r->returned = true; /* the tag stays readable until the next feed */
	return why;
}

static imap_read_status close_reader(imap_reader *r, imap_read_status why)
{
	if (r->pending == IMAP_READ_MORE)
		keep_tag(r);
	else
		why = r->pending;
	buf_clear(&r->cmd);
	r->st = RS_CLOSED;
	return why;
}

/* A command passed a limit while its text or a non-synchronizing literal was
 * coming in: skip the rest (IMAP_READ_MORE, the state set to skip_state), or
 * under no_skip close at once and return why. */
static imap_read_status refuse(imap_reader *r, imap_read_status why, reader_state skip_state)
{
	if (r->lim.no_skip)
		return close_reader(r, why);
	begin_skip(r, why);
	r->st = skip_state;
	return IMAP_READ_MORE;
}

/* A non-synchronizing literal announced at the end of a line (stored or
 * skipped).  Returns an event, or IMAP_READ_MORE to go on reading. */
static imap_read_status nonsync_literal(imap_reader *r, uint64_t n)
{
	if (n > r->lim.max_literal)
		return close_reader(r, IMAP_READ_LITERAL_TOO_LARGE);
	r->remaining = n;
	if (r->st == RS_SKIP_LINE)
		r->st = RS_SKIP_LITERAL;
	else if (n > r->lim.max_nonsync)
		return refuse(r, IMAP_READ_NONSYNC_TOO_LARGE, RS_SKIP_LITERAL);
	else if (n > r->lim.max_command - r->total)
		return refuse(r, IMAP_READ_COMMAND_TOO_LARGE, RS_SKIP_LITERAL);
	else
		r->st = RS_LITERAL;
	return IMAP_READ_MORE;
}

/* A synchronizing literal announced at the end of a stored line.  Refused,
 * the command ends there: the client must not send the data without our
 * "+ " (RFC 9051 7.5).  Under no_skip (before login) the reader closes
 * instead: a client that sent the bytes anyway would have them read as
 * commands, and a client that has not logged in gets no such benefit of
 * the doubt. */
static imap_read_status sync_literal(imap_reader *r, uint64_t n)
{
	imap_read_status why = n > r->lim.max_literal             ? IMAP_READ_LITERAL_TOO_LARGE
	                       : n > r->lim.max_command - r->total ? IMAP_READ_COMMAND_TOO_LARGE
	                                                           : IMAP_READ_MORE;
	if (why != IMAP_READ_MORE)
		return r->lim.no_skip ? close_reader(r, why) : end_skip(r, why);
	r->remaining = n;
	r->st = RS_LITERAL;
	return IMAP_READ_CONTINUE;
}

/* The LF of a line (stored or skipped) has just been consumed. */
static imap_read_status line_end(imap_reader *r)
{
	bool crlf = r->mk.prev == '\r';
	mark m = r->mk;
	bool skipping = r->st == RS_SKIP_LINE;
	start_line(r);
	if (!crlf)
		return end_skip(r, IMAP_READ_BARE_LF);
	if (m.st == MK_CLOSE_CR) {
		if (m.plus)
			return nonsync_literal(r, mark_size(&m));
		if (skipping)
			return end_skip(r, r->pending);
		return sync_literal(r, mark_size(&m));
	}
	if (skipping)
		return end_skip(r, r->pending);
	/* the command is complete: drop its CRLF, keep it until the next feed */
	buf_truncate(&r->cmd, r->cmd.len - 2);
	r->total = 0;
	r->st = RS_LINE;
	r->returned = true;
	return IMAP_READ_COMMAND;
}

/* Scan line bytes (stored when storing) up to and including an LF. */
static size_t feed_line(imap_reader *r, const unsigned char *p, size_t len, imap_read_status *st_r)
{
	size_t i = 0;
	bool lf = false;
	while (i < len) {
		unsigned char c = p[i++];
		if (c == '\n') {
			lf = true;
			break;
		}
		mark_byte(&r->mk, c);
		r->line_bytes++;
		r->total++;
		if (r->st == RS_SKIP_LINE)
			continue;
		/* max_line + 1: the CR of the CRLF may follow a full line */
		if (r->line_bytes > r->lim.max_line + 1 || r->total + 1 > r->lim.max_command) {
			if (!buf_append(&r->cmd, p, i - 1))
				abort(); /* within max_command by the test above */
			imap_read_status why = refuse(r, r->line_bytes > r->lim.max_line + 1
			                                     ? IMAP_READ_LINE_TOO_LONG
			                                     : IMAP_READ_COMMAND_TOO_LARGE, RS_SKIP_LINE);
			if (why != IMAP_READ_MORE) {
				*st_r = why;
				return i;
			}
			/* the rest of this line is skipped by the same loop */
		}
	}
	if (r->st == RS_LINE && !buf_append(&r->cmd, p, i))
		abort(); /* within max_command by the test above */
	if (lf) {
		r->total++;
		*st_r = line_end(r);
	}
	return i;
}

/* Literal bytes: stored, or swallowed while skipping. */
static size_t feed_literal(imap_reader *r, const unsigned char *p, size_t len)
{
	size_t n = r->remaining < len ? (size_t)r->remaining : len;
	if (r->st == RS_LITERAL && !buf_append(&r->cmd, p, n))
		abort(); /* announced size was checked against max_command */
	r->remaining -= n;
	r->total += n;
	if (r->remaining == 0)
		r->st = r->st == RS_LITERAL ? RS_LINE : RS_SKIP_LINE;
	return n;
}

size_t imap_reader_feed(imap_reader *r, const void *data, size_t len, imap_read_status *st_r)
{
	const unsigned char *p = data;
	size_t used = 0;
	*st_r = IMAP_READ_MORE;
	if (r->returned) {
		r->returned = false;
		if (r->st == RS_LINE && r->line_bytes == 0)
			buf_clear(&r->cmd);
		buf_clear(&r->tag);
		r->have_tag = false;
	}
	while (*st_r == IMAP_READ_MORE) {
		if (r->st == RS_CLOSED) {
			*st_r = IMAP_READ_CLOSED;
			break;
		}
		if (r->st == RS_LITERAL || r->st == RS_SKIP_LITERAL) {
			/* before the end-of-input test: a literal of 0 bytes ends at once */
			used += feed_literal(r, p + used, len - used);
			if (r->st == RS_LITERAL || r->st == RS_SKIP_LITERAL)
				break;
			continue;
		}
		if (used == len)
			break;
		used += feed_line(r, p + used, len - used, st_r);
	}
	return used;
}

void imap_reader_set_limits(imap_reader *r, const imap_reader_limits *limits)
{
	r->lim = *limits;
	r->cmd.max = r->lim.max_command > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)r->lim.max_command;
}

const char *imap_reader_command(const imap_reader *r, size_t *len_r)
{
	*len_r = r->cmd.len;
	return buf_str(&r->cmd);
}

const char *imap_reader_tag(const imap_reader *r)
{
	return r->have_tag ? buf_str(&r->tag) : NULL;
}

bool imap_reader_must_close(const imap_reader *r)
{
	return r->st == RS_CLOSED;
}

bool imap_reader_in_command(const imap_reader *r)
{
	if (r->st != RS_LINE)
		return true;
	return !r->returned && (r->cmd.len > 0 || r->line_bytes > 0);
}

const char *imap_read_status_message(imap_read_status st)
{
	switch (st) {
	case IMAP_READ_LINE_TOO_LONG:
		return "[TOOBIG] Command line too long.";
	case IMAP_READ_LITERAL_TOO_LARGE:
		return "[TOOBIG] Literal too large.";
	case IMAP_READ_NONSYNC_TOO_LARGE:
		return "[TOOBIG] Non-synchronizing literal too large (LITERAL- allows 4096 bytes); "
		       "use a synchronizing literal.";
	case IMAP_READ_COMMAND_TOO_LARGE:
		return "[TOOBIG] Command too large.";
	case IMAP_READ_BARE_LF:
		return "Command line must end with CRLF.";
	case IMAP_READ_CLOSED:
		return "Connection closed after an unrecoverable command error.";
	case IMAP_READ_MORE:
	case IMAP_READ_COMMAND:
	case IMAP_READ_CONTINUE:
		break;
	}
	return "";
}
