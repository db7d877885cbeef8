/* dsnparam.c — RFC 3461 parameter values (see dsnparam.h).  Owns the
 * grammar of RET, NOTIFY, ENVID and ORCPT and their limits; must not decide
 * replies (smtp/parse.c maps a refusal to a status) or build reports
 * (delivery/dsn.c). */
#include "envelope/dsnparam.h"

#include <string.h>

#include "envelope/address.h"
#include "envelope/xtext.h"
#include "lib/strutil.h"

static const struct {
	const char *name;
	unsigned bit;
} notify_names[] = {
	{"NEVER", DSN_NOTIFY_NEVER},
	{"SUCCESS", DSN_NOTIFY_SUCCESS},
	{"FAILURE", DSN_NOTIFY_FAILURE},
	{"DELAY", DSN_NOTIFY_DELAY},
};

static bool word_is(const char *v, size_t n, const char *word)
{
	return n == strlen(word) && str_ascii_nieq(v, word, n);
}

bool dsnparam_parse_ret(const char *v, size_t n, dsn_ret *ret_r)
{
	if (word_is(v, n, "FULL"))
		*ret_r = DSN_RET_FULL;
	else if (word_is(v, n, "HDRS"))
		*ret_r = DSN_RET_HDRS;
	else
		return false;
	return true;
}

bool dsnparam_parse_notify(const char *v, size_t n, unsigned *notify_r)
{
	unsigned mask = 0;
	size_t i = 0;
	do {
		const char *comma = memchr(v + i, ',', n - i);
		size_t len = comma ? (size_t)(comma - (v + i)) : n - i;
		unsigned bit = 0;
		for (size_t k = 0; k < sizeof notify_names / sizeof notify_names[0]; k++)
			if (word_is(v + i, len, notify_names[k].name))
				bit = notify_names[k].bit;
		if (bit == 0 || (mask & bit) != 0)
			return false;
		mask |= bit;
		i += len + 1;
	} while (i <= n);
	if ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER)
		return false; /* NEVER stands alone */
	*notify_r = mask;
	return true;
}

/* Every byte printable ASCII, space included (RFC 3461 4.2 and 4.4). */
static bool printable_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

bool dsnparam_parse_envid(const char *v, size_t n, char **envid_r)
{
	if (n == 0 || n > DSN_ENVID_MAX)
		return false;
	buf b;
	buf_init(&b, DSN_ENVID_MAX);
	bool ok = xtext_decode(v, n, &b) && printable_ascii(b.data, b.len);
	if (ok)
		*envid_r = buf_steal(&b);
	buf_free(&b);
	return ok;
}

bool dsnparam_parse_orcpt(const char *v, size_t n, bool unitext, char **orcpt_r)
{
	const char *semi = memchr(v, ';', n);
	if (n > DSN_ORCPT_MAX || semi == NULL)
		return false;
	size_t tlen = (size_t)(semi - v), alen = n - tlen - 1;
	const char *a = semi + 1;
	buf b;
	buf_init(&b, 4 * DSN_ORCPT_MAX);
	bool ok;
	if (word_is(v, tlen, "rfc822"))
		ok = buf_puts(&b, "rfc822;") && xtext_decode(a, alen, &b) &&
		     printable_ascii(b.data + 7, b.len - 7);
	else if (word_is(v, tlen, "utf-8"))
		ok = buf_puts(&b, "utf-8;") && xtext_utf8_decode(a, alen, unitext, &b) &&
		     envelope_valid_utf8(b.data + 6, b.len - 6);
	else
		ok = false;
	ok = ok && alen > 0;
	if (ok)
		*orcpt_r = buf_steal(&b);
	buf_free(&b);
	return ok;
}

const char *dsnparam_ret_name(dsn_ret ret)
{
	return ret == DSN_RET_FULL ? "FULL" : ret == DSN_RET_HDRS ? "HDRS" : NULL;
}

bool dsnparam_notify_format(unsigned notify, buf *out)
{
	bool first = true;
	for (size_t k = 0; k < sizeof notify_names / sizeof notify_names[0]; k++) {
		if (!(notify & notify_names[k].bit))
			continue;
		if ((!first && !buf_putc(out, ',')) || !buf_puts(out, notify_names[k].name))
			return false;
		first = false;
	}
	return true;
}

bool dsnparam_mail(dsn_ret ret, const char *envid, buf *out)
{
	size_t start = out->len;
	bool ok = ret == DSN_RET_UNSET || buf_printf(out, " RET=%s", dsnparam_ret_name(ret));
	if (ok && envid != NULL)
		ok = buf_puts(out, " ENVID=") && xtext_encode(envid, strlen(envid), out);
	if (!ok)
		buf_truncate(out, start);
	return ok;
}

bool dsnparam_rcpt(unsigned notify, const char *orcpt, buf *out)
{
	size_t start = out->len;
	bool ok = notify == 0 || (buf_puts(out, " NOTIFY=") && dsnparam_notify_format(notify, out));
	const char *semi = orcpt ? strchr(orcpt, ';') : NULL;
	if (ok && semi != NULL) {
		size_t before = out->len;
		bool utf8 = str_ascii_nieq(orcpt, "utf-8;", 6);
		ok = buf_printf(out, " ORCPT=%s;", utf8 ? "utf-8" : "rfc822") &&
		     (utf8 ? xtext_utf8_encode(semi + 1, out) : xtext_encode(semi + 1, strlen(semi + 1), out));
		if (ok && out->len - before - 7 > DSN_ORCPT_MAX)
			buf_truncate(out, before); /* too long for the next hop: leave it out */
	}
	if (!ok)
		buf_truncate(out, start);
	return ok;
}

bool dsnparam_wants(unsigned notify, unsigned what)
{
	if (notify == 0)
		return what == DSN_NOTIFY_FAILURE || what == DSN_NOTIFY_DELAY;
	return (notify & what) != 0;
}
