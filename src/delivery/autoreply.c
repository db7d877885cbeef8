/* autoreply.c — building vacation replies and reject refusals (see
 * autoreply.h).  Must not decide whether one is due, nor send it. */
#include "delivery/autoreply.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/dsn.h"
#include "mime/charset.h"
#include "mime/hdrwrite.h"
#include "mime/header.h"
#include "mime/to7bit.h"
#include "lib/strutil.h"

/* Where the original's header block ends (its blank line, or the end). */
static size_t header_end(const char *msg, size_t len)
{
	if (len > 0 && msg[0] == '\n')
		return 0;
	const char *p = memmem(msg, len, "\n\n", 2);
	return p ? (size_t)(p - msg) + 1 : len;
}

static char *original(const char *msg, size_t len, const char *name)
{
	return mime_header_value(msg, 0, header_end(msg, len), name);
}

/* Printable ASCII text in lines short enough for 7bit (RFC 5322 2.1.1). */
static bool ascii_text(const char *s, size_t n)
{
	size_t col = 0;
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		if (c == '\n') {
			col = 0;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c >= 0x7f || ++col > 998)
			return false;
	}
	return true;
}

static void put_common(buf *out, const autoreply_info *i, const char *from, const char *subject)
{
	BUF_PRINTF(out, "From: %s\nTo: <%s>\n", from, i->to);
	mime_put_unstructured(out, "Subject", subject);
	BUF_PUTS(out, "Date: ");
	dsn_put_date(out, i->now);
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 0, sizeof r); /* the time below still makes it unique enough */
	char hex[2 * sizeof r + 1];
	str_hex(r, sizeof r, hex);
	BUF_PRINTF(out, "\nMessage-ID: <%s.%lld@%s>\n", hex, (long long)i->now, i->hostname);
}

/* One field copied as the original had it (unfolded), when present. */
static void put_ref(buf *out, const char *name, const char *value)
{
	if (value != NULL && value[0] != '\0' && strlen(value) < 900)
		BUF_PRINTF(out, "%s: %s\n", name, value);
}

void autoreply_vacation(const autoreply_info *i, const sieve_vacation *v, const char *msg, size_t len, buf *out)
{
	char *subject;
	if (v->subject != NULL) {
		subject = xstrdup(v->subject);
	} else {
		char *raw = original(msg, len, "Subject");
		char *text = raw ? mime_decode_header(raw) : NULL;
		subject = xasprintf("Auto: %s", text ? text : "");
		free(raw);
		free(text);
	}
	char *from = v->from ? xstrdup(v->from) : xasprintf("<%s>", i->user);
	put_common(out, i, from, subject);
	char *id = original(msg, len, "Message-ID");
	char *refs = original(msg, len, "References");
	put_ref(out, "In-Reply-To", id);
	if (id != NULL && refs != NULL && strlen(refs) + strlen(id) < 900) {
		BUF_PRINTF(out, "References: %s %s\n", refs, id);
	} else {
		put_ref(out, "References", id);
	}
	BUF_PUTS(out, "Auto-Submitted: auto-replied (vacation)\nMIME-Version: 1.0\n");
	const char *reason = v->reason ? v->reason : "";
	size_t rlen = strlen(reason);
	if (v->mime) {
		/* the reason is a MIME entity: its own header fields, a blank
		 * line, its body (RFC 5230 4.4); a reason without a header
		 * block gets an empty one */
		if (rlen == 0 || reason[0] == '\n' || memchr(reason, ':', strcspn(reason, "\n")) == NULL)
			BUF_PUTC(out, '\n');
		BUF_APPEND(out, reason, rlen);
	} else if (ascii_text(reason, rlen)) {
		BUF_PUTS(out, "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n");
		BUF_APPEND(out, reason, rlen);
	} else {
		BUF_PUTS(out, "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n");
		to7bit_qp(reason, rlen, out);
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		BUF_PUTC(out, '\n');
	free(subject);
	free(from);
	free(id);
	free(refs);
}

void autoreply_refusal(const autoreply_info *i, const char *reason, const char *msg, size_t len, buf *out)
{
	char *from = xasprintf("Mail Delivery System <MAILER-DAEMON@%s>", i->hostname);
	char *raw = original(msg, len, "Subject");
	char *text = raw ? mime_decode_header(raw) : NULL;
	char *subject = xasprintf("Refused: %s", text ? text : "your message");
	put_common(out, i, from, subject);
	char *id = original(msg, len, "Message-ID");
	put_ref(out, "In-Reply-To", id);
	unsigned char r[8];
	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 7, sizeof r);
	char hex[2 * sizeof r + 1], boundary[40];
	str_hex(r, sizeof r, hex);
	snprintf(boundary, sizeof boundary, "=_yubin_refusal_%s", hex);
	BUF_PRINTF(out,
	           "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	           "Content-Type: multipart/report; report-type=disposition-notification;\n"
	           " boundary=\"%s\"\n\nThis is a MIME-formatted message.\n\n--%s\n",
	           boundary, boundary);
	size_t rlen = strlen(reason);
	BUF_PUTS(out, "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n");
	buf human;
	buf_init(&human, BUF_UNBOUNDED);
	BUF_PRINTF(&human, "Your message to <%s> was refused by the recipient's mail filter.\n"
	                   "The reason given:\n\n", i->user);
	BUF_APPEND(&human, reason, rlen);
	if (rlen == 0 || reason[rlen - 1] != '\n')
		BUF_PUTC(&human, '\n');
	to7bit_qp(human.data, human.len, out);
	buf_free(&human);
	BUF_PRINTF(out, "\n--%s\nContent-Type: message/disposition-notification\n\n", boundary);
	BUF_PRINTF(out, "Reporting-UA: %s; yubin\nFinal-Recipient: rfc822; %s\n", i->hostname, i->user);
	put_ref(out, "Original-Message-ID", id);
	BUF_PUTS(out, "Disposition: automatic-action/MDN-sent-automatically; deleted\n");
	BUF_PRINTF(out, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	size_t he = header_end(msg, len);
	BUF_APPEND(out, msg, he);
	if (he > 0 && msg[he - 1] != '\n')
		BUF_PUTC(out, '\n');
	BUF_PRINTF(out, "\n--%s--\n", boundary);
	free(from);
	free(raw);
	free(text);
	free(subject);
	free(id);
}
