/* imapurl.c — the RFC 5092 subset that names a message part (see
 * imapurl.h): scheme and server, the mailbox up to ";UIDVALIDITY=" or
 * "/;UID=", then the UID, SECTION and PARTIAL parts, each %-decoded.  No
 * I/O. */
#include "imap/imapurl.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "lib/strutil.h"

typedef struct cursor {
	const char *s;
	size_t len, pos;
} cursor;

static bool take(cursor *c, const char *word)
{
	size_t n = strlen(word);
	if (c->len - c->pos < n || !str_ascii_nieq(c->s + c->pos, word, n))
		return false;
	c->pos += n;
	return true;
}

/* RFC 3986 unreserved, sub-delims and the few more RFC 5092 allows
 * (achar and bchar: "&", "=", ":", "@", "/"); ";" only where allow_semi. */
static bool url_char(unsigned char ch, bool allow_semi)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return true;
	if (ch == ';')
		return allow_semi;
	return strchr("-._~!$'()*+,&=:@/", ch) != NULL;
}

/* %-decode s[0..n): NULL when an escape is bad, a byte is not allowed, or
 * the result holds a NUL. */
static char *decode(const char *s, size_t n, bool allow_semi)
{
	char *out = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n + 1 ? str_hexval(s[i + 1]) : -1;
			int lo = hi >= 0 && i + 2 < n ? str_hexval(s[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[k++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (url_char((unsigned char)s[i], allow_semi)) {
			out[k++] = s[i];
		} else {
			free(out);
			return NULL;
		}
	}
	out[k] = '\0';
	return out;
}

/* A number from the cursor up to the next "/" or ";" or the end. */
static bool number_until(cursor *c, const char *stops, uint64_t *n_r)
{
	size_t start = c->pos;
	while (c->pos < c->len && strchr(stops, c->s[c->pos]) == NULL)
		c->pos++;
	return imap_parse_number64(c->s + start, c->pos - start, n_r);
}

/* "imap://" [user [";AUTH=" type] "@"] host [":" port] */
static bool parse_server(cursor *c, imap_url *u)
{
	size_t start = c->pos;
	while (c->pos < c->len && c->s[c->pos] != '/')
		c->pos++;
	const char *srv = c->s + start;
	size_t n = c->pos - start;
	const char *at = memchr(srv, '@', n);
	const char *host = at ? at + 1 : srv;
	size_t hn = (size_t)(srv + n - host);
	const char *colon = memchr(host, ':', hn);
	if (colon != NULL)
		hn = (size_t)(colon - host); /* the port is not checked: one server, any port */
	if (hn == 0 || c->pos == c->len)
		return false;
	u->host = decode(host, hn, false);
	if (at != NULL) {
		const char *semi = memchr(srv, ';', (size_t)(at - srv));
		size_t un = (size_t)((semi ? semi : at) - srv);
		u->user = un > 0 ? decode(srv, un, false) : NULL;
		if (un > 0 && u->user == NULL)
			return false;
		if (semi != NULL && !str_ascii_nieq(semi, ";AUTH=", 6))
			return false;
	}
	return u->host != NULL;
}

/* Where the mailbox ends: at ";UIDVALIDITY=" or "/;UID=". */
static size_t mailbox_end(const cursor *c)
{
	for (size_t i = c->pos; i < c->len; i++) {
		size_t left = c->len - i;
		if ((left >= 13 && str_ascii_nieq(c->s + i, ";UIDVALIDITY=", 13)) ||
		    (left >= 6 && str_ascii_nieq(c->s + i, "/;UID=", 6)))
			return i;
	}
	return c->len;
}

static bool parse_tail(cursor *c, imap_url *u, const char **error_r)
{
	uint64_t n;
	if (take(c, ";UIDVALIDITY=")) {
		if (!number_until(c, "/;", &n) || n == 0 || n > UINT32_MAX) {
			*error_r = "Bad UIDVALIDITY in the URL";
			return false;
		}
		u->uidvalidity = (uint32_t)n;
	}
	if (!take(c, "/;UID=") || !number_until(c, "/;", &n) || n == 0 || n > UINT32_MAX) {
		*error_r = "The URL must name a message by UID";
		return false;
	}
	u->uid = (uint32_t)n;
	if (take(c, "/;SECTION=")) {
		size_t start = c->pos;
		while (c->pos < c->len && !(c->s[c->pos] == '/' && c->pos + 1 < c->len && c->s[c->pos + 1] == ';'))
			c->pos++;
		u->section = c->pos > start ? decode(c->s + start, c->pos - start, false) : NULL;
		if (u->section == NULL) {
			*error_r = "Bad SECTION in the URL";
			return false;
		}
	}
	if (take(c, "/;PARTIAL=")) {
		u->partial = true;
		u->count = UINT64_MAX;
		if (!number_until(c, ".;/", &u->start) ||
		    (take(c, ".") && (!number_until(c, ";/", &u->count) || u->count == 0))) {
			*error_r = "Bad PARTIAL in the URL";
			return false;
		}
	}
	if (c->pos != c->len) {
		*error_r = "The URL has parts this server does not take (URLAUTH?)";
		return false;
	}
	return true;
}

bool imap_url_parse(const char *s, size_t len, imap_url *u, const char **error_r)
{
	memset(u, 0, sizeof(*u));
	cursor c = {.s = s, .len = len};
	if (take(&c, "imap://") && !parse_server(&c, u)) {
		*error_r = "Bad server part in the URL";
		imap_url_free(u);
		return false;
	}
	if (!take(&c, "/")) {
		*error_r = "The URL must start with imap:// or /";
		imap_url_free(u);
		return false;
	}
	size_t end = mailbox_end(&c);
	u->mailbox = end > c.pos ? decode(s + c.pos, end - c.pos, false) : NULL;
	if (u->mailbox == NULL) {
		*error_r = "Bad mailbox name in the URL";
		imap_url_free(u);
		return false;
	}
	c.pos = end;
	if (!parse_tail(&c, u, error_r)) {
		imap_url_free(u);
		return false;
	}
	return true;
}

void imap_url_free(imap_url *u)
{
	free(u->user);
	free(u->host);
	free(u->mailbox);
	free(u->section);
	memset(u, 0, sizeof(*u));
}
