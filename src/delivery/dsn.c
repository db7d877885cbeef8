/* dsn.c — the delivery status notification message (see dsn.h).  Owns the
 * layout of the report (RFC 3464 fields, RFC 6522 multipart/report, RFC 6533
 * utf-8 addresses); must not decide when a report is sent or to whom.
 *
 * Every value that came from elsewhere (remote replies, addresses, ENVID) is
 * written through put_value(): control bytes (CR and LF included) become
 * spaces and long values are folded, so a remote server can neither start a
 * header line of its own nor push a line past RFC 5322's 998 octets.  No
 * such value is ever written at the start of a line, so none can pose as a
 * MIME boundary delimiter either; the boundary is checked against the
 * original, the only text we copy verbatim. */
#include "delivery/dsn.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "envelope/xtext.h"

#define FOLD_COL 76   /* fold at the first space after this column */
#define FORCE_COL 900 /* no space for this long: break anyway (RFC 5322 2.1.1) */

enum {
	V_UTF8 = 0,  /* bytes >= 0x80 kept (text/plain; charset=utf-8, header To:) */
	V_ASCII = 1, /* bytes >= 0x80 become '?' (message/delivery-status is 7bit) */
};

/* Length of s without trailing spaces and control bytes, so that a folded
 * value never ends in a line of white space only. */
static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && ((unsigned char)s[n - 1] <= 0x20 || s[n - 1] == 0x7f))
		n--;
	return n;
}

/* Append s starting at column col: control bytes become spaces, and at a
 * space past FOLD_COL the line is continued with cont (which starts with
 * "\n" and ends in white space, so unfolding gives the value back). */
static bool put_value(buf *out, const char *s, int mode, size_t col, const char *cont)
{
	if (s == NULL)
		s = "";
	size_t n = trimmed_len(s), cont_col = strlen(cont) - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c >= 0x80 && mode == V_ASCII)
			c = '?';
		bool utf8_cont = (c & 0xc0) == 0x80; /* never split a UTF-8 sequence */
		if ((c == ' ' && col >= FOLD_COL) || (col >= FORCE_COL && !utf8_cont)) {
			if (!buf_append(out, cont, strlen(cont) - (c == ' ')))
				return false;
			col = cont_col - (c == ' ');
		}
		if (!buf_putc(out, (char)c))
			return false;
		col++;
	}
	return true;
}

/* "Name: value\n" for a value from elsewhere, folded as a header field. */
static bool put_field(buf *out, const char *name, const char *value, int mode)
{
	return buf_printf(out, "%s: ", name) && put_value(out, value, mode, strlen(name) + 2, "\n ") &&
	       buf_putc(out, '\n');
}

/* RFC 5322 date-time in UTC.  Names are spelled out here rather than taken
 * from strftime, whose %a and %b follow the locale. */
static bool put_date(buf *out, time_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm); /* out of range: 1900-01-01 rather than nothing */
	return buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
	                  months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool dsn_put_date(buf *out, time_t t)
{
	return put_date(out, t);
}

static bool put_date_field(buf *out, const char *name, time_t t)
{
	return buf_printf(out, "%s: ", name) && put_date(out, t) && buf_putc(out, '\n');
}

static bool has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* "Name: type;address\n": rfc822 for ASCII, utf-8 (RFC 6533) otherwise.
 * An ORCPT that already carries its type ("rfc822;..." or "utf-8;...",
 * RFC 3461 4.2) is written as given. */
static bool put_address_field(buf *out, const char *name, const char *addr)
{
	size_t t = strspn(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
	if (t > 0 && addr[t] == ';' && !has_non_ascii(addr))
		return put_field(out, name, addr, V_ASCII);
	if (t > 0 && addr[t] == ';') /* typed but raw UTF-8: encode it, keep the type */
		return buf_printf(out, "%s: %.*s", name, (int)(t + 1), addr) &&
		       xtext_utf8_encode(addr + t + 1, out) && buf_putc(out, '\n');
	if (!has_non_ascii(addr))
		return buf_printf(out, "%s: rfc822;", name) && put_value(out, addr, V_ASCII, 0, "\n ") &&
		       buf_putc(out, '\n');
	return buf_printf(out, "%s: utf-8;", name) && xtext_utf8_encode(addr, out) && buf_putc(out, '\n');
}

/* Copy s keeping only characters that may stand in a Message-ID or a MIME
 * boundary (letters, digits, "-._"), at most max of them. */
static void safe_token(char *dst, size_t max, const char *s)
{
	size_t n = 0;
	for (; s != NULL && *s && n < max; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_')
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

/* A boundary that does not occur in the original: built from the queue id
 * and the time, with a counter bumped until it is absent (the original is
 * finite, so this ends).  "=_" cannot occur in base64 or quoted-printable
 * text.  At most 8 + 24 + 1 + 20 + 1 + 10 = 64 characters, within RFC
 * 2046's 70: the qid is cut to 24. */
static char *make_boundary(const dsn_info *info, const char *original, size_t len)
{
	char q[25];
	safe_token(q, 24, info->qid);
	for (unsigned n = 0;; n++) {
		char *b = xasprintf("=_yubin.%s.%lld.%u", q, (long long)info->now, n);
		if (memmem(original, len, b, strlen(b)) == NULL)
			return b;
		free(b);
	}
}

/* A 3463 status code "c.sss.ddd"; anything else is replaced by the generic
 * code for the action. */
static bool status_ok(const char *s)
{
	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return false;
	s += 2;
	for (int part = 0; part < 2; part++) {
		size_t d = strspn(s, "0123456789");
		if (d < 1 || d > 3 || s[d] != (part == 0 ? '.' : '\0'))
			return false;
		s += d + 1;
	}
	return true;
}

/* What is said about each action: the Action field, the code when the
 * status given is unusable, the Subject when it is the gravest action of
 * the report, the first sentence, and the heading over its recipients. */
static const struct {
	const char *field, *status, *subject, *intro, *heading;
} actions[] = {
	[DSN_ACTION_FAILED] = {"failed", "5.0.0", "Undelivered Mail Returned to Sender",
	                       "could not be delivered to one or more",
	                       "Could not be delivered; the mail system has given up:\n\n"},
	[DSN_ACTION_DELAYED] = {"delayed", "4.0.0", "Delayed Mail (still being retried)",
	                        "has not yet been delivered to one or more",
	                        "Not delivered yet; the mail system keeps trying, you do not\n"
	                        "need to send the message again:\n\n"},
	[DSN_ACTION_DELIVERED] = {"delivered", "2.0.0", "Delivered Mail (delivery report)",
	                          "has been delivered to one or more",
	                          "Delivered into the recipient's mailbox, as you asked to be told:\n\n"},
	[DSN_ACTION_RELAYED] = {"relayed", "2.0.0", "Delivered Mail (delivery report)",
	                        "has been delivered to one or more",
	                        "Handed to the next mail server, which sends no delivery reports;\n"
	                        "this is the last report about these recipients:\n\n"},
};

static const char *rcpt_status(const dsn_rcpt *r)
{
	return status_ok(r->status) ? r->status : actions[r->action].status;
}

/* The action that names the report: failed before delayed before success. */
static dsn_action gravest(const dsn_rcpt *r, size_t n)
{
	dsn_action g = DSN_ACTION_DELIVERED;
	for (size_t i = 0; i < n; i++) {
		if (r[i].action == DSN_ACTION_FAILED)
			return DSN_ACTION_FAILED;
		if (r[i].action == DSN_ACTION_DELAYED)
			g = DSN_ACTION_DELAYED;
	}
	return g;
}

static bool put_headers(const dsn_info *info, dsn_action kind, const char *boundary, buf *out)
{
	char q[65], h[256];
	safe_token(q, 64, info->qid);
	safe_token(h, 255, info->reporting_mta);
	return buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", h) &&
	       buf_puts(out, "To: <") && put_value(out, info->sender, V_UTF8, 5, "\n ") &&
	       buf_puts(out, ">\n") &&
	       buf_printf(out, "Subject: %s\n", actions[kind].subject) &&
	       put_date_field(out, "Date", info->now) &&
	       buf_printf(out, "Message-ID: <%s.%lld.dsn@%s>\n", q, (long long)info->now, h) &&
	       buf_puts(out, "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n") &&
	       buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\n"
	                       "\tboundary=\"%s\"\n\nThis is a MIME-encapsulated message.\n\n",
	                  boundary);
}

/* One recipient in the readable part. */
static bool put_text_rcpt(const dsn_rcpt *r, buf *out)
{
	static const char cont[] = "\n      ";
	bool ok = buf_puts(out, "  <") && put_value(out, r->address, V_UTF8, 3, cont) &&
	          buf_puts(out, ">\n");
	if (ok && r->remote_mta != NULL)
		ok = buf_puts(out, "    remote server: ") &&
		     put_value(out, r->remote_mta, V_UTF8, 19, cont) && buf_putc(out, '\n');
	if (ok && r->reason != NULL)
		ok = buf_puts(out, "    reason: ") && put_value(out, r->reason, V_UTF8, 12, cont) &&
		     buf_putc(out, '\n');
	if (ok && r->diagnostic != NULL)
		ok = buf_puts(out, r->remote_mta != NULL ? "    it replied: " : "    the server replied: ") &&
		     put_value(out, r->diagnostic, V_UTF8, r->remote_mta != NULL ? 16 : 24, cont) &&
		     buf_putc(out, '\n');
	if (ok && r->reason == NULL && r->diagnostic == NULL)
		ok = buf_printf(out, "    status: %s\n", rcpt_status(r));
	if (ok && r->action == DSN_ACTION_DELAYED && r->will_retry_until > 0)
		ok = buf_puts(out, "    we keep trying until: ") && put_date(out, r->will_retry_until) &&
		     buf_putc(out, '\n');
	return ok && buf_putc(out, '\n');
}

/* The recipients whose action is `action`, under its heading. */
static bool put_text_group(const dsn_rcpt *r, size_t n, dsn_action action, buf *out)
{
	bool any = false, ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		if (r[i].action != action)
			continue;
		if (!any)
			ok = buf_puts(out, actions[action].heading);
		any = true;
		ok = ok && put_text_rcpt(&r[i], out);
	}
	return ok;
}

static bool put_text_part(const dsn_info *info, const dsn_rcpt *r, size_t n, dsn_action kind,
                          const char *boundary, buf *out)
{
	bool ok = buf_printf(out, "--%s\nContent-Type: text/plain; charset=utf-8\n\n", boundary) &&
	       buf_puts(out, "This is the mail system at ") &&
	       put_value(out, info->reporting_mta, V_UTF8, 27, "\n ") &&
	       buf_printf(out, ".\n\nA message you sent %s\n", actions[kind].intro) &&
	       buf_puts(out, "of its recipients.  The message had queue id ") &&
	       put_value(out, info->qid, V_UTF8, 45, "\n ") &&
	       buf_puts(out, " and arrived on\n") && put_date(out, info->arrival) &&
	       buf_puts(out, ".\n\n");
	for (dsn_action a = DSN_ACTION_FAILED; ok && a <= DSN_ACTION_RELAYED; a++)
		ok = put_text_group(r, n, a, out);
	return ok && buf_puts(out, info->headers_only ? "The machine-readable report and the original message's\n"
	                                                "headers follow.\n\n"
	                                              : "The machine-readable report and the original message\n"
	                                                "follow.\n\n");
}

/* The per-recipient fields of message/delivery-status (RFC 3464 2.3). */
static bool put_status_rcpt(const dsn_rcpt *r, buf *out)
{
	bool ok = buf_putc(out, '\n');
	if (ok && r->orig != NULL)
		ok = put_address_field(out, "Original-Recipient", r->orig);
	ok = ok && put_address_field(out, "Final-Recipient", r->address) &&
	     buf_printf(out, "Action: %s\nStatus: %s\n", actions[r->action].field, rcpt_status(r));
	if (ok && r->remote_mta != NULL)
		ok = buf_puts(out, "Remote-MTA: dns; ") &&
		     put_value(out, r->remote_mta, V_ASCII, 17, "\n ") && buf_putc(out, '\n');
	/* RFC 3464 2.3.6: the diagnostic code "actually issued by the mail
	 * transport", so only a remote server's reply, and only when it has the
	 * shape of one (a reply code first).  Our own reasons are in the text
	 * part and in Status; no private diagnostic type is made up for them. */
	const char *d = r->diagnostic;
	if (ok && d != NULL && strspn(d, "0123456789") == 3 &&
	    (d[3] == ' ' || d[3] == '-' || d[3] == '\0'))
		ok = buf_puts(out, "Diagnostic-Code: smtp; ") && put_value(out, d, V_ASCII, 23, "\n ") &&
		     buf_putc(out, '\n');
	if (ok && r->last_attempt > 0)
		ok = put_date_field(out, "Last-Attempt-Date", r->last_attempt);
	if (ok && r->action == DSN_ACTION_DELAYED && r->will_retry_until > 0)
		ok = put_date_field(out, "Will-Retry-Until", r->will_retry_until);
	return ok;
}

static bool put_status_part(const dsn_info *info, const dsn_rcpt *r, size_t n, const char *boundary,
                            buf *out)
{
	bool ok = buf_printf(out, "--%s\nContent-Type: message/delivery-status\n\n", boundary) &&
	          buf_puts(out, "Reporting-MTA: dns; ") &&
	          put_value(out, info->reporting_mta, V_ASCII, 20, "\n ") && buf_putc(out, '\n');
	if (ok && info->envid != NULL)
		ok = put_field(out, "Original-Envelope-Id", info->envid, V_ASCII);
	ok = ok && put_field(out, "X-Queue-ID", info->qid, V_ASCII) &&
	     put_date_field(out, "Arrival-Date", info->arrival);
	for (size_t i = 0; ok && i < n; i++)
		ok = put_status_rcpt(&r[i], out);
	return ok && buf_putc(out, '\n');
}

/* The original's header block: up to and including the LF that ends the
 * last header line; the whole message when it has no empty line. */
static size_t header_len(const char *msg, size_t len)
{
	if (len > 0 && msg[0] == '\n')
		return 0;
	for (size_t i = 0; i + 1 < len; i++)
		if (msg[i] == '\n' && msg[i + 1] == '\n')
			return i + 1;
	return len;
}

static bool put_original_part(const dsn_info *info, const char *original, size_t len,
                              const char *boundary, buf *out)
{
	size_t n = info->headers_only ? header_len(original, len) : len;
	return buf_printf(out, "--%s\nContent-Type: %s\n\n", boundary,
	                  info->headers_only ? "text/rfc822-headers" : "message/rfc822") &&
	       buf_append(out, original, n) && (n == 0 || original[n - 1] == '\n' || buf_putc(out, '\n')) &&
	       /* The LF before "--" belongs to the delimiter, not to the part. */
	       buf_printf(out, "\n--%s--\n", boundary);
}

bool dsn_build(const dsn_info *info, const dsn_rcpt *rcpts, size_t n_rcpts, const char *original,
               size_t original_len, buf *out)
{
	assert(info != NULL && info->reporting_mta != NULL && info->qid != NULL);
	assert(n_rcpts > 0 && rcpts != NULL);
	for (size_t i = 0; i < n_rcpts; i++)
		assert(rcpts[i].address != NULL && rcpts[i].action <= DSN_ACTION_RELAYED);
	if (original == NULL)
		original = "", original_len = 0;
	size_t start = out->len;
	char *boundary = make_boundary(info, original, original_len);
	dsn_action kind = gravest(rcpts, n_rcpts);
	bool ok = put_headers(info, kind, boundary, out) &&
	          put_text_part(info, rcpts, n_rcpts, kind, boundary, out) &&
	          put_status_part(info, rcpts, n_rcpts, boundary, out) &&
	          put_original_part(info, original, original_len, boundary, out);
	free(boundary);
	if (!ok)
		buf_truncate(out, start); /* all or nothing */
	return ok;
}
