/* compose.c — building the MIME message of an API request (see compose.h):
 * the header with its encoded-words and folding, the body's structure, the
 * text alternative of an html body.  Pure; the transfer encoders for text
 * are mime/to7bit.c's.  Must not check the request (msgjson.c did) nor
 * send it (inject.c). */
#include "api/compose.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <strings.h>

#include "lib/strutil.h"
#include "mime/hdrwrite.h"
#include "mime/to7bit.h"

/* ---- addresses ---- */

/* A display name: a quoted-string when plain ASCII that fits, else
 * encoded-words (RFC 2047 5 (3): allowed as a word of a phrase). */
static void field_name(mime_hfield *f, const char *name)
{
	if (mime_plain_ascii(name) && strstr(name, "=?") == NULL && strlen(name) < 60) {
		buf q;
		buf_init(&q, BUF_UNBOUNDED);
		BUF_PUTC(&q, '"');
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				BUF_PUTC(&q, '\\');
			BUF_PUTC(&q, *p);
		}
		BUF_PUTC(&q, '"');
		mime_hfield_token(f, q.data, q.len);
		buf_free(&q);
		return;
	}
	mime_hfield_encoded(f, name);
}

static void field_address(mime_hfield *f, const api_addr *a)
{
	if (a->name == NULL) {
		mime_hfield_token(f, a->email, strlen(a->email));
		return;
	}
	field_name(f, a->name);
	char *angle = xasprintf("<%s>", a->email);
	mime_hfield_token(f, angle, strlen(angle));
	free(angle);
}

static void address_field(buf *out, const char *name, const api_addr *v, size_t n)
{
	if (n == 0)
		return;
	mime_hfield f;
	mime_hfield_start(&f, out, name);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			mime_hfield_glue(&f, ",");
		field_address(&f, &v[i]);
	}
	mime_hfield_end(&f);
}

/* ---- parameters (RFC 2045 5.1, RFC 2231) ---- */

static bool attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$&+-.^_`|~", c) != NULL;
}

void compose_param(buf *out, const char *name, const char *value)
{
	if (mime_plain_ascii(value) && strpbrk(value, "\"\\") == NULL && strlen(name) + strlen(value) + 6 <= MIME_LINE_SOFT) {
		BUF_PRINTF(out, ";\n %s=\"%s\"", name, value);
		return;
	}
	/* percent-encoded UTF-8, cut into pieces of a line each, never inside
	 * a %XX */
	buf enc;
	buf_init(&enc, BUF_UNBOUNDED);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (attr_char(*p))
			BUF_PUTC(&enc, (char)*p);
		else
			BUF_PRINTF(&enc, "%%%02X", *p);
	size_t piece = MIME_LINE_SOFT - strlen(name) - 20;
	if (enc.len + 8 <= piece) {
		BUF_PRINTF(out, ";\n %s*=UTF-8''%s", name, enc.data);
	} else {
		size_t at = 0;
		for (int k = 0; at < enc.len; k++) {
			size_t n = enc.len - at < piece ? enc.len - at : piece;
			if (at + n < enc.len && n >= 2 && enc.data[at + n - 1] == '%')
				n -= 1;
			else if (at + n < enc.len && n >= 2 && enc.data[at + n - 2] == '%')
				n -= 2;
			BUF_PRINTF(out, ";\n %s*%d*=%s%.*s", name, k, k == 0 ? "UTF-8''" : "", (int)n, enc.data + at);
			at += n;
		}
	}
	buf_free(&enc);
}

/* ---- the body ---- */

void compose_base64(buf *out, const char *data, size_t len)
{
	unsigned char line[80];
	for (size_t at = 0; at < len; at += 57) {
		size_t n = len - at < 57 ? len - at : 57;
		int k = EVP_EncodeBlock(line, (const unsigned char *)data + at, (int)n);
		BUF_APPEND(out, line, (size_t)k);
		BUF_PUTC(out, '\n');
	}
}

/* text with every CRLF and lone CR as LF, ending with an LF. */
static char *lf_text(const char *s, size_t *len_r)
{
	size_t n = strlen(s), k = 0;
	char *t = xmalloc(n + 2);
	if (memchr(s, '\r', n) == NULL) { /* the usual case */
		memcpy(t, s, n);
		k = n;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				continue;
			t[k++] = s[i] == '\r' ? '\n' : s[i];
		}
	}
	if (k == 0 || t[k - 1] != '\n')
		t[k++] = '\n';
	t[k] = '\0';
	*len_r = k;
	return t;
}

/* Can t (LF line ends) go as it is, 7bit?  Printable ASCII and tabs only,
 * lines of at most 76 characters, none ending in white space (which a
 * relay may strip), and no "=_" (which starts our boundaries): what
 * quoted-printable would leave unchanged anyway. */
static bool plain_7bit(const char *t, size_t len)
{
	for (const char *eq = memchr(t, '=', len); eq != NULL; eq = memchr(eq + 1, '=', len - (size_t)(eq + 1 - t)))
		if ((size_t)(eq + 1 - t) < len && eq[1] == '_')
			return false;
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(t + at, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - (t + at)) : len - at;
		if (n > 76 || (n > 0 && (t[at + n - 1] == ' ' || t[at + n - 1] == '\t')))
			return false;
		for (size_t i = str_printable_run(t + at, n); i < n; i++)
			if (t[at + i] != '\t' && (t[at + i] < 0x20 || t[at + i] > 0x7e))
				return false;
		at += n + 1;
	}
	return true;
}

static void text_part(buf *out, const char *subtype, const char *text)
{
	size_t len;
	char *t = lf_text(text, &len);
	if (plain_7bit(t, len)) {
		BUF_PRINTF(out, "Content-Type: text/%s; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n", subtype);
		BUF_APPEND(out, t, len);
	} else {
		BUF_PRINTF(out, "Content-Type: text/%s; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
		           subtype);
		if (!to7bit_qp(t, len, out)) /* cannot fail on an unbounded buffer */
			abort();
	}
	free(t);
}

static void attachment_part(buf *out, const api_attachment *a)
{
	BUF_PRINTF(out, "Content-Type: %s", a->content_type);
	compose_param(out, "name", a->filename);
	BUF_PUTS(out, "\nContent-Disposition: attachment");
	compose_param(out, "filename", a->filename);
	BUF_PUTS(out, "\nContent-Transfer-Encoding: base64\n\n");
	compose_base64(out, a->data, a->len);
}

typedef struct parts {
	const api_msg *m;
	char boundary[2][48];     /* mixed, alternative */
} parts;

static void multipart_start(buf *out, const char *subtype, const char *boundary)
{
	BUF_PRINTF(out, "Content-Type: multipart/%s;\n boundary=\"%s\"\n\n", subtype, boundary);
}

/* The text, or the text and the html as alternatives. */
static void body_entity(buf *out, const parts *p)
{
	const api_msg *m = p->m;
	if (m->html == NULL) {
		text_part(out, "plain", m->text);
		return;
	}
	const char *b = p->boundary[1];
	multipart_start(out, "alternative", b);
	BUF_PRINTF(out, "--%s\n", b);
	if (m->text != NULL) {
		text_part(out, "plain", m->text);
	} else {
		buf t;
		buf_init(&t, BUF_UNBOUNDED);
		compose_html_to_text(m->html, &t);
		text_part(out, "plain", buf_str(&t));
		buf_free(&t);
	}
	BUF_PRINTF(out, "\n--%s\n", b);
	text_part(out, "html", m->html);
	BUF_PRINTF(out, "\n--%s--\n", b);
}

static void top_entity(buf *out, const parts *p)
{
	if (p->m->n_att == 0) {
		body_entity(out, p);
		return;
	}
	const char *b = p->boundary[0];
	multipart_start(out, "mixed", b);
	BUF_PRINTF(out, "--%s\n", b);
	body_entity(out, p);
	for (size_t i = 0; i < p->m->n_att; i++) {
		BUF_PRINTF(out, "\n--%s\n", b);
		attachment_part(out, &p->m->att[i]);
	}
	BUF_PRINTF(out, "\n--%s--\n", b);
}

/* ---- the header ---- */

static void date_field(buf *out, time_t now)
{
	struct tm tm;
	char d[64];
	gmtime_r(&now, &tm);
	strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	BUF_PRINTF(out, "Date: %s\n", d);
}

static void extra_fields(buf *out, const api_msg *m)
{
	for (size_t i = 0; i < m->n_hdr; i++)
		mime_put_unstructured(out, m->hdr[i].name, m->hdr[i].value);
	if (m->tags.n > 0) {
		char *t = strlist_join(&m->tags, ", ");
		mime_put_unstructured(out, "X-Yubin-Tags", t);
		free(t);
	}
	for (size_t i = 0; i < m->n_meta; i++) {
		char *name = xasprintf("X-Yubin-Meta-%s", m->meta[i].name);
		mime_put_unstructured(out, name, m->meta[i].value);
		free(name);
	}
}

void compose_message(const api_msg *m, const compose_opts *o, buf *out, char **message_id_r)
{
	unsigned char rnd[16];
	if (o->random != NULL)
		memcpy(rnd, o->random, sizeof rnd);
	else if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) /* the kernel's: a few µs less than RAND_bytes */
		abort(); /* 16 bytes never come short once the pool is ready */
	char hex[33];
	str_hex(rnd, sizeof rnd, hex);
	parts p = {.m = m};
	snprintf(p.boundary[0], sizeof p.boundary[0], "=_yubin_%s_m", hex);
	snprintf(p.boundary[1], sizeof p.boundary[1], "=_yubin_%s_a", hex);
	*message_id_r = xasprintf("<%s@%s>", hex, o->hostname);

	address_field(out, "From", &m->from, 1);
	address_field(out, "To", m->to.v, m->to.n);
	address_field(out, "Cc", m->cc.v, m->cc.n);
	address_field(out, "Reply-To", m->reply_to.v, m->reply_to.n);
	if (m->subject != NULL)
		mime_put_unstructured(out, "Subject", m->subject);
	date_field(out, o->now);
	BUF_PRINTF(out, "Message-ID: %s\n", *message_id_r);
	BUF_PUTS(out, "MIME-Version: 1.0\n");
	extra_fields(out, m);
	top_entity(out, &p);
}

/* ---- html to text ---- */

typedef struct h2t {
	buf *out;
	int newlines;             /* line ends at the end of out */
	bool space;               /* a blank is owed before the next word */
} h2t;

static void h2t_newline(h2t *h)
{
	h->space = false;
	if (h->newlines >= 2 || h->out->len == 0)
		return;
	BUF_PUTC(h->out, '\n');
	h->newlines++;
}

static void h2t_char(h2t *h, const char *s, size_t n)
{
	if (h->space && h->newlines == 0 && h->out->len > 0)
		BUF_PUTC(h->out, ' ');
	h->space = false;
	BUF_APPEND(h->out, s, n);
	h->newlines = 0;
}

/* An entity at s ('&'); its length, with the text it stands for in
 * out_r (UTF-8), or 0 when it is none we decode. */
static size_t entity(const char *s, char out_r[8], size_t *n_r)
{
	static const struct {
		const char *name;
		const char *text;
	} named[] = {{"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"},
	             {"nbsp;", " "}};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (strncmp(s + 1, named[i].name, strlen(named[i].name)) == 0) {
			*n_r = strlen(named[i].text);
			memcpy(out_r, named[i].text, *n_r);
			return 1 + strlen(named[i].name);
		}
	if (s[1] != '#')
		return 0;
	bool hexa = s[2] == 'x' || s[2] == 'X';
	const char *p = s + 2 + hexa;
	char *end;
	unsigned long cp = strtoul(p, &end, hexa ? 16 : 10);
	if (end == p || *end != ';' || cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || end - p > 8)
		return 0;
	unsigned char *o = (unsigned char *)out_r;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		*n_r = 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*n_r = 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*n_r = 3;
	} else {
		o[0] = (unsigned char)(0xf0 | cp >> 18);
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*n_r = 4;
	}
	return (size_t)(end - s) + 1;
}

/* The tag's name (lower case, without '/') into name; true for an end tag. */
static bool tag_name(const char *s, size_t n, char name[16])
{
	size_t i = 1, k = 0;
	bool end = i < n && s[i] == '/';
	i += end;
	while (i < n && k < 15 && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	                           (s[i] >= '0' && s[i] <= '9')))
		name[k++] = (char)(s[i++] | 0x20);
	name[k] = '\0';
	return end;
}

static bool breaks_line(const char *name, bool end)
{
	static const char *const blocks[] = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
	                                     "ul", "ol", "table", "blockquote", "pre", "hr"};
	if (strcmp(name, "br") == 0)
		return true;
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		if (strcmp(name, blocks[i]) == 0)
			return end || strcmp(name, "hr") == 0;
	return false;
}

/* Where the element skipped from s ends ("</script>"), or NULL. */
static const char *skip_element(const char *s, const char *name)
{
	char close[24];
	snprintf(close, sizeof close, "</%s", name);
	for (const char *p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<'))
		if (strncasecmp(p, close, strlen(close)) == 0) {
			const char *gt = strchr(p, '>');
			return gt ? gt + 1 : NULL;
		}
	return NULL;
}

void compose_html_to_text(const char *html, buf *out)
{
	h2t h = {out, 0, false};
	const char *p = html;
	while (*p) {
		if (*p == '<') {
			const char *gt = strchr(p, '>');
			if (gt == NULL)
				break; /* an unfinished tag: the rest is markup */
			char name[16];
			bool end = tag_name(p, (size_t)(gt - p), name);
			p = gt + 1;
			if (!end && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
			             strcmp(name, "head") == 0)) {
				const char *after = skip_element(p, name);
				p = after ? after : p + strlen(p);
			} else if (breaks_line(name, end)) {
				h2t_newline(&h);
			}
		} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			h.space = true;
			p++;
		} else if (*p == '&') {
			char t[8];
			size_t n = 0, used = entity(p, t, &n);
			if (used == 0) {
				h2t_char(&h, p, 1);
				p++;
			} else {
				h2t_char(&h, t, n);
				p += used;
			}
		} else {
			size_t n = strcspn(p, "<& \t\r\n");
			h2t_char(&h, p, n);
			p += n;
		}
	}
	while (out->len > 0 && out->data[out->len - 1] == '\n')
		buf_truncate(out, out->len - 1);
	BUF_PUTC(out, '\n');
}
