/* to7bit.c — the 8BITMIME downgrade (see to7bit.h).  Owns the walk over
 * the MIME tree (mime.c) and the two encoders; must not decide when a
 * message is converted or what happens to its signatures (delivery's
 * job).  Output is written in source order: every byte outside a
 * converted part's header and body is copied as it was, so boundaries,
 * the parts without 8-bit bytes and the order of header fields stay put. */
#include "mime/to7bit.h"

#include <string.h>

#include "lib/strutil.h"
#include "mime/header.h"
#include "mime/mime.h"

/* ---- quoted-printable (RFC 2045 6.7) ---- */

/* A byte that may stand for itself (rules 2 and 3; white space only when
 * not last on its line, which the caller checks). */
static bool qp_literal(unsigned char c)
{
	return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
}

/* One line (no LF in it) into out, soft-broken at TO7BIT_LINE. */
static bool qp_line(const unsigned char *s, size_t n, buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char line[TO7BIT_LINE + 4];
	size_t col = 0;
	bool continued = false;
	for (size_t j = 0; j < n; j++) {
		unsigned char c = s[j];
		bool last = j + 1 == n;
		bool lit = qp_literal(c) && !(last && (c == ' ' || c == '\t'));
		size_t w = lit ? 1 : 3;
		/* room for a soft break "=" after it, unless it ends the line */
		if (col + w > TO7BIT_LINE - (last ? 0 : 1)) {
			line[col++] = '=';
			line[col++] = '\n';
			if (!buf_append(out, line, col))
				return false;
			col = 0;
			continued = true;
		}
		/* at a line start: no "-" of ours (a boundary look-alike) and no
		 * "From " (mbox readers would quote it), after a soft break too */
		if (col == 0 && ((continued && c == '-') ||
		                 (c == 'F' && n - j >= 5 && memcmp(s + j, "From ", 5) == 0)))
			lit = false;
		if (lit) {
			line[col++] = (char)c;
		} else {
			line[col++] = '=';
			line[col++] = hex[c >> 4];
			line[col++] = hex[c & 15];
		}
	}
	return buf_append(out, line, col);
}

bool to7bit_qp(const char *body, size_t len, buf *out)
{
	const unsigned char *p = (const unsigned char *)body, *end = p + len;
	while (p < end) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (!qp_line(p, n, out) || (nl != NULL && !buf_putc(out, '\n')))
			return false;
		p += n + (nl ? 1 : 0);
	}
	return true;
}

/* ---- base64 (RFC 2045 6.8) ---- */

typedef struct b64_state {
	buf *out;
	unsigned char in[3];
	size_t n_in;
	size_t col;
	bool ok;
} b64_state;

static void b64_flush(b64_state *st)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (st->n_in == 0 || !st->ok)
		return;
	unsigned char *b = st->in;
	if (st->n_in < 3)
		memset(b + st->n_in, 0, 3 - st->n_in);
	char q[5] = {al[b[0] >> 2], al[((b[0] & 3) << 4) | (b[1] >> 4)],
	             st->n_in > 1 ? al[((b[1] & 15) << 2) | (b[2] >> 6)] : '=',
	             st->n_in > 2 ? al[b[2] & 63] : '=', '\n'};
	/* a line is ended before the group that would not fit, never after
	 * the last one (the caller decides about the final line end) */
	if (st->col + 4 > TO7BIT_LINE) {
		st->ok = buf_putc(st->out, '\n');
		st->col = 0;
	}
	st->ok = st->ok && buf_append(st->out, q, 4);
	st->col += 4;
	st->n_in = 0;
}

static void b64_byte(b64_state *st, unsigned char c)
{
	st->in[st->n_in++] = c;
	if (st->n_in == 3)
		b64_flush(st);
}

bool to7bit_base64(const char *body, size_t len, buf *out)
{
	b64_state st = {.out = out, .ok = true};
	for (size_t i = 0; i < len && st.ok; i++) {
		if (body[i] == '\n')
			b64_byte(&st, '\r');
		b64_byte(&st, (unsigned char)body[i]);
	}
	b64_flush(&st);
	if (st.ok && len > 0 && body[len - 1] == '\n')
		st.ok = buf_putc(out, '\n');
	return st.ok;
}

/* ---- the walk ---- */

typedef struct conv {
	const char *d;
	buf *out;
	const char *why;
} conv;

static to7bit_status copy(conv *cv, size_t from, size_t to)
{
	return buf_append(cv->out, cv->d + from, to - from) ? TO7BIT_CONVERTED : TO7BIT_TOO_BIG;
}

/* Preamble, epilogue and delimiter lines: MIME readers ignore the first
 * two (RFC 2046 5.1.1) and the last are ASCII, so a stray 8-bit byte there
 * becomes '?' rather than a reason to return the message. */
static to7bit_status copy_gap(conv *cv, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		char c = (unsigned char)cv->d[i] >= 0x80 ? '?' : cv->d[i];
		if (!buf_putc(cv->out, c))
			return TO7BIT_TOO_BIG;
	}
	return TO7BIT_CONVERTED;
}

static bool has_field(const conv *cv, const mime_part *p, const char *name)
{
	mime_field f;
	return mime_header_find(cv->d, p->hdr_start, p->hdr_end, name, &f);
}

/* p's header with its Content-Transfer-Encoding fields left out and `add`
 * (whole field lines, or "") put after the last field, before the blank
 * line. */
static to7bit_status put_header(conv *cv, const mime_part *p, const char *add)
{
	size_t pos = p->hdr_start, last = p->hdr_start;
	mime_field f;
	while (mime_header_next(cv->d, p->hdr_end, &pos, &f)) {
		if (!mime_field_is(cv->d, &f, "Content-Transfer-Encoding") &&
		    !buf_append(cv->out, cv->d + f.start, f.end - f.start))
			return TO7BIT_TOO_BIG;
		last = f.end;
	}
	if (!buf_puts(cv->out, add))
		return TO7BIT_TOO_BIG;
	return copy(cv, last, p->body_start);
}

/* Text that is mostly ASCII reads best as quoted-printable; anything else
 * (and every non-text type) goes in base64. */
static bool wants_qp(const conv *cv, const mime_part *p)
{
	if (strcmp(p->type, "text") != 0)
		return false;
	size_t esc = 0, n = p->body_end - p->body_start;
	for (size_t i = p->body_start; i < p->body_end; i++) {
		unsigned char c = (unsigned char)cv->d[i];
		if (c >= 0x80 || c == '=' || c == 0x7f || (c < 0x20 && c != '\t' && c != '\n'))
			esc++;
	}
	/* up to a third escaped: longer than base64 by then, but still text a
	 * person can read in a raw view */
	return esc * 3 <= n;
}

/* A leaf in an identity encoding: encoded, with a new
 * Content-Transfer-Encoding (and at the top, what makes it MIME). */
static to7bit_status encode_leaf(conv *cv, const mime_part *p)
{
	bool qp = wants_qp(cv, p);
	buf add;
	buf_init(&add, 512);
	bool ok = true;
	if (p->parent == NULL && !has_field(cv, p, "MIME-Version"))
		ok = buf_puts(&add, "MIME-Version: 1.0\n");
	if (ok && !has_field(cv, p, "Content-Type"))
		/* 8-bit text of no declared charset (RFC 1428) */
		ok = buf_puts(&add, "Content-Type: text/plain; charset=unknown-8bit\n");
	ok = ok && buf_printf(&add, "Content-Transfer-Encoding: %s\n", qp ? "quoted-printable" : "base64");
	to7bit_status st = ok ? put_header(cv, p, buf_str(&add)) : TO7BIT_TOO_BIG;
	buf_free(&add);
	if (st != TO7BIT_CONVERTED)
		return st;
	const char *body = cv->d + p->body_start;
	size_t n = p->body_end - p->body_start;
	ok = qp ? to7bit_qp(body, n, cv->out) : to7bit_base64(body, n, cv->out);
	return ok ? TO7BIT_CONVERTED : TO7BIT_TOO_BIG;
}

/* A leaf that claims an encoding already and still has 8-bit bytes (not
 * valid, but met): in quoted-printable they become =XX, which is what a
 * tolerant decoder made of them; in base64 they are dropped, as every
 * decoder ignores them (RFC 2045 6.8). */
static to7bit_status repair_leaf(conv *cv, const mime_part *p, bool qp)
{
	static const char hex[] = "0123456789ABCDEF";
	to7bit_status st = copy(cv, p->hdr_start, p->body_start);
	for (size_t i = p->body_start; st == TO7BIT_CONVERTED && i < p->body_end; i++) {
		unsigned char c = (unsigned char)cv->d[i];
		bool ok = c < 0x80 ? buf_putc(cv->out, (char)c)
		        : qp ? buf_putc(cv->out, '=') && buf_putc(cv->out, hex[c >> 4]) &&
		                   buf_putc(cv->out, hex[c & 15])
		             : true;
		if (!ok)
			st = TO7BIT_TOO_BIG;
	}
	return st;
}

static bool enc_is(const mime_part *p, const char *name)
{
	return p->encoding != NULL && strcmp(p->encoding, name) == 0;
}

static to7bit_status emit(conv *cv, const mime_part *p);

/* A multipart: its own header (7bit from now on), then the children and
 * the delimiter lines between them. */
static to7bit_status emit_multipart(conv *cv, const mime_part *p)
{
	to7bit_status st = put_header(cv, p, "");
	size_t pos = p->body_start;
	for (const mime_part *c = p->children; st == TO7BIT_CONVERTED && c != NULL; c = c->next) {
		st = copy_gap(cv, pos, c->hdr_start);
		if (st == TO7BIT_CONVERTED)
			st = emit(cv, c);
		pos = c->body_end;
	}
	return st == TO7BIT_CONVERTED ? copy_gap(cv, pos, p->body_end) : st;
}

/* message/rfc822: converted inside, and 7bit outside (RFC 2046 5.2.1
 * allows no other encoding than 7bit, 8bit or binary). */
static to7bit_status emit_message(conv *cv, const mime_part *p)
{
	const mime_part *m = p->message;
	to7bit_status st = put_header(cv, p, "Content-Transfer-Encoding: 7bit\n");
	if (st == TO7BIT_CONVERTED)
		st = copy(cv, p->body_start, m->hdr_start);
	if (st == TO7BIT_CONVERTED)
		st = emit(cv, m);
	return st == TO7BIT_CONVERTED ? copy(cv, m->body_end, p->body_end) : st;
}

static to7bit_status emit(conv *cv, const mime_part *p)
{
	if (!str_has_8bit(cv->d + p->hdr_start, p->body_end - p->hdr_start))
		return copy(cv, p->hdr_start, p->body_end);
	if (str_has_8bit(cv->d + p->hdr_start, p->body_start - p->hdr_start)) {
		cv->why = "8-bit bytes in a header field";
		return TO7BIT_HEADER;
	}
	bool message = strcmp(p->type, "message") == 0;
	if (p->multipart)
		return emit_multipart(cv, p);
	if (message && strcmp(p->subtype, "rfc822") == 0 && p->message != NULL)
		return emit_message(cv, p);
	if (enc_is(p, "quoted-printable") || enc_is(p, "base64"))
		return repair_leaf(cv, p, enc_is(p, "quoted-printable"));
	if (p->encoding != NULL && !enc_is(p, "7bit") && !enc_is(p, "8bit") && !enc_is(p, "binary")) {
		cv->why = "8-bit bytes in a part with an unknown Content-Transfer-Encoding";
		return TO7BIT_STRUCTURE;
	}
	if (strcmp(p->type, "multipart") == 0) {
		cv->why = "8-bit bytes in a multipart whose parts cannot be found";
		return TO7BIT_STRUCTURE;
	}
	/* message/global may be encoded (RFC 6532 3.5); the other message
	 * types may not (RFC 2046 5.2) */
	if (message && strcmp(p->subtype, "global") != 0) {
		cv->why = "8-bit bytes in a message part that may not be encoded";
		return TO7BIT_STRUCTURE;
	}
	return encode_leaf(cv, p);
}

to7bit_status to7bit_convert(const char *msg, size_t len, buf *out, const char **why_r)
{
	*why_r = NULL;
	if (!str_has_8bit(msg, len))
		return TO7BIT_CLEAN;
	mime_message *m = mime_parse(msg, len);
	conv cv = {.d = msg, .out = out};
	size_t start = out->len;
	to7bit_status st = copy(&cv, 0, m->root->hdr_start);
	if (st == TO7BIT_CONVERTED)
		st = emit(&cv, m->root);
	if (st == TO7BIT_CONVERTED)
		st = copy_gap(&cv, m->root->body_end, len);
	mime_free(&m);
	if (st == TO7BIT_TOO_BIG)
		cv.why = "the converted message is too big";
	if (st != TO7BIT_CONVERTED)
		buf_truncate(out, start);
	*why_r = cv.why;
	return st;
}
