/* bodystruct.c — IMAP BODY and BODYSTRUCTURE (RFC 9051 7.5.2 body,
 * body-type-1part, body-type-mpart, body-ext-*) of a parsed part (see
 * imapfmt.h for the case and default choices).  Reads the tree; never
 * re-parses the message. */
#include "mime/imapfmt.h"

#include <stdlib.h>
#include <string.h>

#include "mime/crlf.h"

static bool write_params(buf *out, const mime_params *ps, bool default_charset)
{
	if (ps->n == 0)
		return default_charset ? buf_puts(out, "(\"CHARSET\" \"US-ASCII\")")
				       : buf_puts(out, "NIL");
	bool ok = buf_putc(out, '(');
	for (size_t i = 0; ok && i < ps->n; i++) {
		const mime_param *p = &ps->items[i];
		if (i > 0)
			ok = buf_putc(out, ' ');
		if (p->charset != NULL) {
			char *name = xasprintf("%s*", p->name);
			char *v = mime_param_encode_2231(p);
			ok = ok && imap_write_upper(out, name) && buf_putc(out, ' ') &&
			     imap_write_nstring(out, v);
			free(name);
			free(v);
		} else {
			ok = ok && imap_write_upper(out, p->name) && buf_putc(out, ' ') &&
			     imap_write_nstring(out, p->value);
		}
	}
	return ok && buf_putc(out, ')');
}

static bool write_disposition(buf *out, const mime_part *p)
{
	if (p->disposition == NULL)
		return buf_puts(out, "NIL");
	return buf_putc(out, '(') && imap_write_upper(out, p->disposition) &&
	       buf_putc(out, ' ') && write_params(out, &p->disp_params, false) &&
	       buf_putc(out, ')');
}

/* Content-Language: one tag as a string, several as a list. */
static bool write_language(buf *out, const char *v)
{
	if (v == NULL)
		return buf_puts(out, "NIL");
	strlist tags;
	strlist_init(&tags);
	for (const char *s = v; *s != '\0';) {
		s += strspn(s, " \t,");
		size_t n = strcspn(s, " \t,(");
		if (n > 0)
			strlist_add_owned(&tags, xstrndup(s, n));
		s += n;
		if (*s == '(')                   /* a comment: skip it */
			s += strcspn(s, ")") + (strchr(s, ')') ? 1 : 0);
	}
	bool ok;
	if (tags.n == 0)
		ok = buf_puts(out, "NIL");
	else if (tags.n == 1)
		ok = imap_write_nstring(out, tags.items[0]);
	else {
		ok = buf_putc(out, '(');
		for (size_t i = 0; ok && i < tags.n; i++)
			ok = (i == 0 || buf_putc(out, ' ')) && imap_write_nstring(out, tags.items[i]);
		ok = ok && buf_putc(out, ')');
	}
	strlist_free(&tags);
	return ok;
}

/* body-ext-1part / body-ext-mpart after md5 or params: dsp lang loc. */
static bool write_ext_tail(buf *out, const mime_part *p)
{
	return buf_putc(out, ' ') && write_disposition(out, p) &&
	       buf_putc(out, ' ') && write_language(out, p->language) &&
	       buf_putc(out, ' ') && imap_write_nstring(out, p->location);
}

static bool write_multipart(buf *out, const mime_message *m, const mime_part *p, bool ext)
{
	bool ok = buf_putc(out, '(');
	for (const mime_part *c = p->children; ok && c != NULL; c = c->next)
		ok = imap_write_body(out, m, c, ext);
	ok = ok && buf_putc(out, ' ') && imap_write_upper(out, p->subtype);
	if (ok && ext)
		ok = buf_putc(out, ' ') && write_params(out, &p->params, false) &&
		     write_ext_tail(out, p);
	return ok && buf_putc(out, ')');
}

/* body-fields: params id description encoding size */
static bool write_fields(buf *out, const mime_message *m, const mime_part *p)
{
	/* RFC 2045 5.2: only the text/plain default implies a charset (the
	 * message/rfc822 default of multipart/digest has none) */
	bool plain = p->opaque || (!p->type_given && strcmp(p->type, "text") == 0);
	mime_params none = { NULL, 0 };
	return write_params(out, p->opaque ? &none : &p->params, plain) &&
	       buf_putc(out, ' ') && imap_write_nstring(out, p->id) &&
	       buf_putc(out, ' ') && imap_write_nstring(out, p->description) &&
	       buf_putc(out, ' ') && imap_write_upper(out, p->encoding ? p->encoding : "7bit") &&
	       buf_printf(out, " %zu", mime_part_size(m, p));
}

static bool write_single(buf *out, const mime_message *m, const mime_part *p, bool ext)
{
	const char *type = p->opaque ? "text" : p->type;
	const char *subtype = p->opaque ? "plain" : p->subtype;
	bool ok = buf_putc(out, '(') && imap_write_upper(out, type) && buf_putc(out, ' ') &&
		  imap_write_upper(out, subtype) && buf_putc(out, ' ') && write_fields(out, m, p);
	if (ok && p->message != NULL)
		ok = buf_putc(out, ' ') && imap_write_envelope(out, m, p->message) &&
		     buf_putc(out, ' ') && imap_write_body(out, m, p->message, ext);
	if (ok && (p->message != NULL || strcmp(type, "text") == 0))
		ok = buf_printf(out, " %zu", mime_part_lines(m, p));
	if (ok && ext)
		ok = buf_putc(out, ' ') && imap_write_nstring(out, p->md5) && write_ext_tail(out, p);
	return ok && buf_putc(out, ')');
}

bool imap_write_body(buf *out, const mime_message *m, const mime_part *p, bool extended)
{
	if (p->multipart)
		return write_multipart(out, m, p, extended);
	return write_single(out, m, p, extended);
}
