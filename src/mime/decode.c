/* decode.c — base64 and quoted-printable decoding (see decode.h).  Pure
 * byte transforms; knows nothing about parts or IMAP. */
#include "mime/decode.h"
#include "lib/strutil.h"

#include <string.h>

mime_cte mime_cte_of(const char *e)
{
	if (e == NULL || strcmp(e, "7bit") == 0 || strcmp(e, "8bit") == 0 ||
	    strcmp(e, "binary") == 0)
		return MIME_CTE_IDENTITY;
	if (strcmp(e, "base64") == 0)
		return MIME_CTE_BASE64;
	if (strcmp(e, "quoted-printable") == 0)
		return MIME_CTE_QP;
	return MIME_CTE_UNKNOWN;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

bool mime_base64_decode(buf *out, const char *data, size_t start, size_t end)
{
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '=')
			break;                   /* padding: the data is over */
		int v = b64val(c);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (!buf_putc(out, (char)((acc >> bits) & 0xff)))
				return false;
		}
	}
	return true;
}

/* One line's content [s, e) without its line end; soft: it ended in '='. */
static bool qp_line(buf *out, const char *s, const char *e, bool *soft)
{
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;                             /* transport padding */
	*soft = e > s && e[-1] == '=';
	if (*soft)
		e--;
	for (const char *p = s; p < e; p++) {
		int h, l;
		if (*p == '=' && e - p >= 3 && (h = str_hexval(p[1])) >= 0 && (l = str_hexval(p[2])) >= 0) {
			if (!buf_putc(out, (char)(h * 16 + l)))
				return false;
			p += 2;
		} else if (!buf_putc(out, *p)) {
			return false;
		}
	}
	return true;
}

bool mime_qp_decode(buf *out, const char *data, size_t start, size_t end)
{
	const char *p = data + start, *e = data + end;
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *ce = nl == NULL ? e : nl;
		if (ce > p && ce[-1] == '\r' && nl != NULL)
			ce--;
		bool soft;
		if (!qp_line(out, p, ce, &soft))
			return false;
		if (nl == NULL)
			break;
		if (!soft && !buf_append(out, "\r\n", 2))
			return false;
		p = nl + 1;
	}
	return true;
}
