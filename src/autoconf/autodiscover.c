/* autodiscover.c — Outlook's Autodiscover POX ([MS-OXDSCLI]): a strict
 * minimal scanner for the request, and the settings and error answers.
 * The scanner knows just enough XML to find two elements: it never reads
 * a DTD and never expands an entity (no XXE, no billion laughs), and every
 * name, value and nesting level has a bound.  Which endpoints exist is
 * offer.c's. */
#include "autoconf/autoconf.h"

#include <stdlib.h>
#include <string.h>

#define SCAN_MAX_DEPTH 16
#define SCAN_MAX_NAME 128
#define SCAN_MAX_VALUE 1024

/* The three elements on the way to what we read: the path must match. */
static const char *const path_email[] = {"Autodiscover", "Request", "EMailAddress"};
static const char *const path_schema[] = {"Autodiscover", "Request", "AcceptableResponseSchema"};

typedef struct scanner {
	const char *p, *end;
	char *stack[SCAN_MAX_DEPTH];   /* open elements' names, prefixes kept */
	int depth;
	bool root_seen;
	buf *capture;                  /* the text of the element being read, or NULL */
	buf email, schema;
} scanner;

static bool starts(const scanner *s, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(s->end - s->p) >= n && memcmp(s->p, lit, n) == 0;
}

/* Move past the first occurrence of lit; false when there is none. */
static bool skip_past(scanner *s, const char *lit)
{
	size_t n = strlen(lit);
	for (const char *q = s->p; (size_t)(s->end - q) >= n; q++)
		if (memcmp(q, lit, n) == 0) {
			s->p = q + n;
			return true;
		}
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_name_char(char c)
{
	return !is_space(c) && c != '/' && c != '>' && c != '<' && c != '=' && c != '"' && c != '\'' &&
	       c != '&' && c != '\0';
}

/* A reference after '&' (s->p on '&'): one of the five predefined
 * entities or a character reference.  Appends its character to out (may
 * be NULL); false for anything else. */
static bool reference(scanner *s, buf *out)
{
	static const struct { const char *name; char c; } predefined[] = {
		{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''},
	};
	for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++)
		if (starts(s, predefined[i].name)) {
			s->p += strlen(predefined[i].name);
			if (out != NULL)
				BUF_PUTC(out, predefined[i].c);
			return true;
		}
	if (!starts(s, "&#"))
		return false;
	s->p += 2;
	bool hex = s->p < s->end && *s->p == 'x';
	s->p += hex;
	unsigned long cp = 0;
	int digits = 0;
	for (; s->p < s->end && *s->p != ';'; s->p++, digits++) {
		int v = hex ? str_hexval(*s->p) : (*s->p >= '0' && *s->p <= '9' ? *s->p - '0' : -1);
		if (v < 0 || digits >= 8)
			return false;
		cp = cp * (hex ? 16 : 10) + (unsigned long)v;
	}
	if (s->p == s->end || digits == 0 || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	s->p++;
	if (out != NULL) {   /* as UTF-8 */
		if (cp < 0x80) {
			BUF_PUTC(out, (char)cp);
		} else if (cp < 0x800) {
			BUF_PUTC(out, (char)(0xC0 | (cp >> 6)));
			BUF_PUTC(out, (char)(0x80 | (cp & 0x3F)));
		} else if (cp < 0x10000) {
			BUF_PUTC(out, (char)(0xE0 | (cp >> 12)));
			BUF_PUTC(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
			BUF_PUTC(out, (char)(0x80 | (cp & 0x3F)));
		} else {
			BUF_PUTC(out, (char)(0xF0 | (cp >> 18)));
			BUF_PUTC(out, (char)(0x80 | ((cp >> 12) & 0x3F)));
			BUF_PUTC(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
			BUF_PUTC(out, (char)(0x80 | (cp & 0x3F)));
		}
	}
	return true;
}

/* Character data up to the next '<' into s->capture (when set). */
static autodiscover_status text(scanner *s)
{
	while (s->p < s->end && *s->p != '<') {
		if (*s->p == '\0')
			return AUTODISCOVER_MALFORMED;
		if (*s->p == '&') {
			if (!reference(s, s->capture))
				return AUTODISCOVER_MALFORMED;
			continue;
		}
		if (s->depth == 0 && !is_space(*s->p))
			return AUTODISCOVER_MALFORMED;   /* text outside the root element */
		if (s->capture != NULL)
			BUF_PUTC(s->capture, *s->p);
		s->p++;
		if (s->capture != NULL && s->capture->len > SCAN_MAX_VALUE)
			return AUTODISCOVER_TOO_BIG;
	}
	return AUTODISCOVER_OK;
}

/* A name at s->p (malloc'd, prefix kept), or NULL. */
static char *name(scanner *s)
{
	const char *start = s->p;
	while (s->p < s->end && is_name_char(*s->p))
		s->p++;
	size_t n = (size_t)(s->p - start);
	if (n == 0 || n > SCAN_MAX_NAME)
		return NULL;
	const char *colon = memchr(start, ':', n);
	size_t after = colon ? n - 1 - (size_t)(colon - start) : 0;
	if (colon != NULL && (colon == start || after == 0 || memchr(colon + 1, ':', after) != NULL))
		return NULL;   /* one prefix at most, neither part empty */
	return xstrndup(start, n);
}

/* The local part of a name: after its prefix. */
static const char *local_name(const char *qname)
{
	const char *colon = strchr(qname, ':');
	return colon ? colon + 1 : qname;
}

static void skip_space(scanner *s)
{
	while (s->p < s->end && is_space(*s->p))
		s->p++;
}

/* Attributes up to '>' or "/>": each name="value" or name='value'. */
static autodiscover_status attributes(scanner *s, bool *empty_r)
{
	for (int n = 0;; n++) {
		const char *before = s->p;
		skip_space(s);
		if (starts(s, "/>") || starts(s, ">")) {
			*empty_r = *s->p == '/';
			s->p += *empty_r ? 2 : 1;
			return AUTODISCOVER_OK;
		}
		if (s->p == before || n >= 32)
			return n >= 32 ? AUTODISCOVER_TOO_BIG : AUTODISCOVER_MALFORMED;
		char *attr = name(s);
		if (attr == NULL)
			return AUTODISCOVER_MALFORMED;
		free(attr);
		skip_space(s);
		if (s->p == s->end || *s->p != '=')
			return AUTODISCOVER_MALFORMED;
		s->p++;
		skip_space(s);
		if (s->p == s->end || (*s->p != '"' && *s->p != '\''))
			return AUTODISCOVER_MALFORMED;
		char quote = *s->p++;
		while (s->p < s->end && *s->p != quote) {
			if (*s->p == '<' || *s->p == '\0')
				return AUTODISCOVER_MALFORMED;
			if (*s->p == '&' ? !reference(s, NULL) : (s->p++, false))
				return AUTODISCOVER_MALFORMED;
		}
		if (s->p == s->end)
			return AUTODISCOVER_MALFORMED;
		s->p++;
	}
}

static bool on_path(const scanner *s, const char *const *path)
{
	if (s->depth != 3)
		return false;
	for (int i = 0; i < 3; i++)
		if (strcmp(local_name(s->stack[i]), path[i]) != 0)
			return false;
	return true;
}

static autodiscover_status start_tag(scanner *s)
{
	s->p++;
	char *n = name(s);
	if (n == NULL)
		return AUTODISCOVER_MALFORMED;
	if (s->depth == 0 && (s->root_seen || strcmp(local_name(n), "Autodiscover") != 0)) {
		free(n);
		return AUTODISCOVER_MALFORMED;
	}
	if (s->depth == SCAN_MAX_DEPTH) {
		free(n);
		return AUTODISCOVER_TOO_BIG;
	}
	s->root_seen = true;
	s->stack[s->depth++] = n;
	bool empty = false;
	autodiscover_status st = attributes(s, &empty);
	if (st != AUTODISCOVER_OK)
		return st;
	s->capture = on_path(s, path_email) ? &s->email : on_path(s, path_schema) ? &s->schema : NULL;
	if (s->capture != NULL)
		buf_clear(s->capture);   /* a repeated element: the last one counts */
	if (empty) {
		free(s->stack[--s->depth]);
		s->capture = NULL;
	}
	return AUTODISCOVER_OK;
}

static autodiscover_status end_tag(scanner *s)
{
	s->p += 2;
	char *n = name(s);
	skip_space(s);
	bool ok = n != NULL && s->depth > 0 && strcmp(n, s->stack[s->depth - 1]) == 0 && s->p < s->end &&
	          *s->p == '>';
	free(n);
	if (!ok)
		return AUTODISCOVER_MALFORMED;
	s->p++;
	free(s->stack[--s->depth]);
	s->capture = NULL;
	return AUTODISCOVER_OK;
}

/* One markup construct at '<'. */
static autodiscover_status markup(scanner *s)
{
	if (starts(s, "<?"))
		return skip_past(s, "?>") ? AUTODISCOVER_OK : AUTODISCOVER_MALFORMED;
	if (starts(s, "<!--"))
		return skip_past(s, "-->") ? AUTODISCOVER_OK : AUTODISCOVER_MALFORMED;
	if (starts(s, "<![CDATA[")) {
		if (s->depth == 0)
			return AUTODISCOVER_MALFORMED;
		const char *from = s->p + 9;
		s->p = from;
		if (!skip_past(s, "]]>"))
			return AUTODISCOVER_MALFORMED;
		if (s->capture != NULL)
			BUF_APPEND(s->capture, from, (size_t)(s->p - 3 - from));
		return s->capture != NULL && s->capture->len > SCAN_MAX_VALUE ? AUTODISCOVER_TOO_BIG
		                                                              : AUTODISCOVER_OK;
	}
	if (starts(s, "<!"))
		return AUTODISCOVER_DTD;   /* DOCTYPE, ENTITY, ...: never read */
	if (starts(s, "</"))
		return end_tag(s);
	return start_tag(s);
}

static char *trimmed(const buf *b)
{
	const char *t = buf_str(b);
	size_t n = b->len;
	while (n > 0 && is_space(*t))
		t++, n--;
	while (n > 0 && is_space(t[n - 1]))
		n--;
	return n > 0 && memchr(t, '\0', n) == NULL ? xstrndup(t, n) : NULL;
}

autodiscover_status autodiscover_parse(const char *body, size_t len, autodiscover_request *req)
{
	*req = (autodiscover_request){0};
	scanner s = {.p = body, .end = body + len};
	/* bounded by the body (AUTODISCOVER_MAX_BODY) and checked as they grow */
	buf_init(&s.email, BUF_UNBOUNDED);
	buf_init(&s.schema, BUF_UNBOUNDED);
	if (starts(&s, "\xEF\xBB\xBF"))
		s.p += 3;
	autodiscover_status st = AUTODISCOVER_OK;
	while (st == AUTODISCOVER_OK && s.p < s.end)
		st = *s.p == '<' ? markup(&s) : text(&s);
	if (st == AUTODISCOVER_OK && (s.depth != 0 || !s.root_seen))
		st = AUTODISCOVER_MALFORMED;
	while (s.depth > 0)
		free(s.stack[--s.depth]);
	if (st == AUTODISCOVER_OK) {
		req->email = trimmed(&s.email);
		req->schema = trimmed(&s.schema);
	}
	buf_free(&s.email);
	buf_free(&s.schema);
	return st;
}

void autodiscover_request_free(autodiscover_request *req)
{
	free(req->email);
	free(req->schema);
	*req = (autodiscover_request){0};
}

static const char *const protocol_types[] = {"IMAP", "POP3", "SMTP"};

static void protocol(buf *out, const autoconf_offer *o, const autoconf_endpoint *e, const char *address)
{
	BUF_PRINTF(out, "      <Protocol>\n        <Type>%s</Type>\n        <Server>", protocol_types[e->proto]);
	autoconf_xml_text(out, o->hostname);
	BUF_PRINTF(out, "</Server>\n        <Port>%d</Port>\n        <DomainRequired>off</DomainRequired>\n"
	           "        <LoginName>", e->port);
	autoconf_xml_text(out, address);
	/* Encryption overrides SSL and tells implicit TLS (SSL) from STARTTLS
	 * (TLS); SSL on alone would send Outlook to TLS on 143 or 587 */
	BUF_PRINTF(out, "</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n"
	           "        <Encryption>%s</Encryption>\n        <AuthRequired>on</AuthRequired>\n",
	           e->implicit_tls ? "SSL" : "TLS");
	if (e->proto == AUTOCONF_SMTP)
		BUF_PUTS(out, "        <UsePOPAuth>on</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n");
	BUF_PUTS(out, "      </Protocol>\n");
}

void autodiscover_settings(const autoconf_offer *o, const char *address, buf *out)
{
	BUF_PUTS(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	         "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
	         "  <Response xmlns=\"" AUTODISCOVER_SCHEMA_2006A "\">\n    <User>\n      <DisplayName>");
	autoconf_xml_text(out, address);
	BUF_PUTS(out, "</DisplayName>\n    </User>\n    <Account>\n      <AccountType>email</AccountType>\n"
	         "      <Action>settings</Action>\n");
	for (int p = AUTOCONF_IMAP; p <= AUTOCONF_SMTP; p++) {
		const autoconf_endpoint *e = autoconf_offer_first(o, (autoconf_proto)p);
		if (e != NULL)
			protocol(out, o, e, address);
	}
	BUF_PUTS(out, "    </Account>\n  </Response>\n</Autodiscover>\n");
}

void autodiscover_error(int code, const char *time_text, unsigned long id, buf *out)
{
	const char *message = code == 500   ? "The email address cannot be found."
	                      : code == 501 ? "This address has no configuration options."
	                      : code == 601 ? "The requested schema is not available."
	                                    : "Invalid Request";
	BUF_PRINTF(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	           "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
	           "  <Response>\n    <Error Time=\"%s\" Id=\"%lu\">\n      <ErrorCode>%d</ErrorCode>\n"
	           "      <Message>%s</Message>\n      <DebugData />\n    </Error>\n  </Response>\n"
	           "</Autodiscover>\n", time_text, id, code, message);
}
