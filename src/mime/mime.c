/* mime.c — builds the MIME part tree of a message by one forward scan (see
 * mime.h).  Owns boundary matching and the limits; the Content-* fields are
 * read by partfields.c, and nothing here renders anything. */
#include "mime/mime.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "mime/crlf.h"
#include "mime/partfields.h"

typedef struct boundary {
	const char *s;
	size_t n;
} boundary;

typedef struct parser {
	mime_message *m;
	const char *data;
	size_t len;
	boundary stack[MIME_MAX_DEPTH + 1];
	size_t nstack;
} parser;

/* Where a scan stopped: at the start of a boundary delimiter line of stack
 * entry `hit` (close: it was a close delimiter), or at the end (hit < 0). */
typedef struct stop {
	size_t at;
	size_t after;      /* after the delimiter line and its line end */
	int hit;
	bool close;
} stop;

static size_t line_end(const parser *ps, size_t p)
{
	const char *nl = memchr(ps->data + p, '\n', ps->len - p);
	return nl == NULL ? ps->len : (size_t)(nl - ps->data) + 1;
}

/* Is [p, le) "--" boundary ["--"] *LWSP line-end of a stacked boundary?
 * The innermost match wins. */
static int match_boundary(const parser *ps, size_t p, size_t le, bool *close)
{
	const char *d = ps->data;
	if (le - p < 3 || d[p] != '-' || d[p + 1] != '-')
		return -1;
	for (size_t k = ps->nstack; k-- > 0;) {
		const boundary *b = &ps->stack[k];
		if (le - p - 2 < b->n || memcmp(d + p + 2, b->s, b->n) != 0)
			continue;
		size_t q = p + 2 + b->n;
		*close = q + 1 < le && d[q] == '-' && d[q + 1] == '-';
		if (*close)
			q += 2;
		while (q < le && (d[q] == ' ' || d[q] == '\t' || d[q] == '\r' || d[q] == '\n'))
			q++;
		if (q == le)
			return (int)k;
	}
	return -1;
}

/* Scan lines from p (a line start) to the next boundary delimiter line. */
static stop scan(const parser *ps, size_t p)
{
	stop s = { ps->len, ps->len, -1, false };
	if (ps->nstack == 0)
		return s;
	while (p < ps->len) {
		size_t le = line_end(ps, p);
		int k = match_boundary(ps, p, le, &s.close);
		if (k >= 0) {
			s.at = p;
			s.after = le;
			s.hit = k;
			return s;
		}
		p = le;
	}
	return s;
}

/* End of content that a delimiter at s.at ends: its line end is the
 * delimiter's, but never before `start`. */
static size_t content_end(const parser *ps, size_t start, const stop *s)
{
	size_t e = s->at;
	if (s->hit < 0)
		return e;
	if (e > start && ps->data[e - 1] == '\n')
		e--;
	if (e > start && ps->data[e - 1] == '\r')
		e--;
	return e;
}

static mime_part *new_part(parser *ps, mime_part *parent, size_t start)
{
	mime_part *p = xcalloc(1, sizeof *p);
	p->parent = parent;
	p->depth = parent == NULL ? 0 : parent->depth + 1;
	p->hdr_start = p->hdr_end = p->body_start = p->body_end = start;
	ps->m->nparts++;
	return p;
}

/* The header block from p->hdr_start: up to and including the blank line,
 * or up to a delimiter line (then the part has no body). */
static bool scan_header(const parser *ps, mime_part *p, stop *s)
{
	size_t q = p->hdr_start;
	while (q < ps->len) {
		size_t le = line_end(ps, q);
		bool close;
		int k = match_boundary(ps, q, le, &close);
		if (k >= 0) {            /* its line end is the delimiter's */
			*s = (stop){ q, le, k, close };
			p->hdr_end = p->body_start = p->body_end = content_end(ps, p->hdr_start, s);
			return false;
		}
		if (ps->data[q] == '\n' || (ps->data[q] == '\r' && le == q + 2 && ps->data[q + 1] == '\n')) {
			p->hdr_end = p->body_start = le;
			return true;
		}
		q = le;
	}
	p->hdr_end = p->body_start = p->body_end = ps->len;
	*s = (stop){ ps->len, ps->len, -1, false };
	return false;
}

static stop parse_entity(parser *ps, mime_part *p);

/* The children of a multipart whose boundary is on top of the stack. */
static stop parse_children(parser *ps, mime_part *p)
{
	int own = (int)ps->nstack - 1;
	stop s = scan(ps, p->body_start);        /* the preamble */
	mime_part **tail = &p->children;
	while (s.hit == own && !s.close) {
		if (ps->m->nparts >= MIME_MAX_PARTS) {
			ps->m->limited = true;
			break;                           /* the rest stays in the epilogue */
		}
		mime_part *c = new_part(ps, p, s.after);
		*tail = c;
		tail = &c->next;
		p->nchildren++;
		s = parse_entity(ps, c);
	}
	ps->nstack--;
	if (s.hit == own)
		s = scan(ps, s.after);               /* the epilogue */
	return s;
}

static bool usable_boundary(const char *b)
{
	size_t n = b == NULL ? 0 : strlen(b);
	return n > 0 && n <= MIME_MAX_BOUNDARY;
}

/* message/rfc822 or message/global: IMAP shows these with an envelope, so
 * one that cannot be looked into is made opaque. */
static bool is_message(const mime_part *p)
{
	return strcmp(p->type, "message") == 0 &&
	       (strcmp(p->subtype, "rfc822") == 0 || strcmp(p->subtype, "global") == 0);
}

/* A message part in an encoding we can look through (RFC 2046 5.2.1). */
static bool encapsulates(const mime_part *p)
{
	if (!is_message(p))
		return false;
	return p->encoding == NULL || strcmp(p->encoding, "7bit") == 0 ||
	       strcmp(p->encoding, "8bit") == 0 || strcmp(p->encoding, "binary") == 0;
}

/* A malformed message can use one line end twice ("--inner\n--outer": the
 * LF ends the inner delimiter line and starts the outer delimiter).  The
 * part then keeps that line end, so that its children stay inside it. */
static size_t inner_end(const mime_part *p, size_t end)
{
	const mime_part *last = p->message;
	for (const mime_part *c = p->children; c != NULL; c = c->next)
		last = c;
	return last != NULL && last->body_end > end ? last->body_end : end;
}

/* The body of p, whose header has been read. */
static stop parse_body(parser *ps, mime_part *p)
{
	bool room = p->depth < MIME_MAX_DEPTH && ps->m->nparts < MIME_MAX_PARTS;
	stop s;
	if (strcmp(p->type, "multipart") == 0) {
		const char *b = mime_params_get(&p->params, "boundary");
		if (room && usable_boundary(b)) {
			ps->stack[ps->nstack++] = (boundary){ b, strlen(b) };
			s = parse_children(ps, p);
			p->multipart = p->nchildren > 0;
		} else {
			s = scan(ps, p->body_start);
		}
		p->opaque = !p->multipart;
	} else if (encapsulates(p) && room) {
		p->message = new_part(ps, p, p->body_start);
		s = parse_entity(ps, p->message);
	} else {
		p->opaque = is_message(p);
		s = scan(ps, p->body_start);
	}
	if (!room && (p->opaque || p->depth >= MIME_MAX_DEPTH))
		ps->m->limited = true;
	p->body_end = content_end(ps, p->body_start, &s);
	p->body_end = inner_end(p, p->body_end);
	return s;
}

/* A header and a body from p->hdr_start, up to the next delimiter line of
 * any enclosing multipart (or the end). */
static stop parse_entity(parser *ps, mime_part *p)
{
	stop s;
	bool has_body = scan_header(ps, p, &s);
	bool digest = p->parent != NULL && p->parent->type != NULL &&
		      strcmp(p->parent->type, "multipart") == 0 &&
		      strcmp(p->parent->subtype, "digest") == 0;
	mime_part_read_fields(ps->data, p, digest);
	if (!has_body) {
		p->opaque = strcmp(p->type, "multipart") == 0 || is_message(p);
		return s;
	}
	return parse_body(ps, p);
}

mime_message *mime_parse(const char *data, size_t len)
{
	mime_message *m = xcalloc(1, sizeof *m);
	m->data = data;
	m->len = len;
	parser ps = { .m = m, .data = data, .len = len, .nstack = 0 };
	m->root = new_part(&ps, NULL, 0);
	parse_entity(&ps, m->root);
	return m;
}

static void free_part(mime_part *p)
{
	while (p != NULL) {
		mime_part *next = p->next;
		free_part(p->children);
		free_part(p->message);
		mime_part_free_fields(p);
		free(p);
		p = next;
	}
}

void mime_free(mime_message **msg)
{
	if (*msg == NULL)
		return;
	free_part((*msg)->root);
	free(*msg);
	*msg = NULL;
}

mime_part *mime_part_child(const mime_part *p, size_t n)
{
	mime_part *c = p->children;
	while (c != NULL && n > 1) {
		c = c->next;
		n--;
	}
	return n == 1 ? c : NULL;
}

bool mime_part_is(const mime_part *p, const char *type, const char *subtype)
{
	return strcmp(p->type, type) == 0 && strcmp(p->subtype, subtype) == 0;
}

size_t mime_part_size(const mime_message *m, const mime_part *p)
{
	return mime_crlf_size(m->data, p->body_start, p->body_end);
}

size_t mime_part_lines(const mime_message *m, const mime_part *p)
{
	return mime_lines(m->data, p->body_start, p->body_end);
}
