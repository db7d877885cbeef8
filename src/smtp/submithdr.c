/* submithdr.c — what the submission server reads in a submitted header (see
 * submithdr.h): the From and Sender mailboxes, the Bcc fields, and which of
 * From, Date and Message-ID are missing; and the fields it adds.  Must not
 * decide who owns an address (the account store does) nor touch the spool. */
#include "smtp/submithdr.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "mime/address.h"
#include "mime/header.h"

/* A local part as written, unquoted: "a\"b" -> a"b; an unquoted one as is. */
static char *unquote_local(const char *l)
{
	size_t n = strlen(l);
	if (n < 2 || l[0] != '"' || l[n - 1] != '"')
		return xstrdup(l);
	char *out = xmalloc(n);
	size_t k = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		if (l[i] == '\\' && i + 2 < n)
			i++;
		out[k++] = l[i];
	}
	out[k] = '\0';
	return out;
}

/* The mailboxes of one From or Sender value onto h->authors; how many, or
 * -1 when an item is not a usable mailbox (no domain).  Group markers are
 * skipped: an empty group adds nothing. */
static int add_mailboxes(submithdr *h, const char *value)
{
	mime_addrlist l;
	mime_parse_addresses(value, &l);
	int n = 0;
	for (size_t i = 0; i < l.n && n >= 0; i++) {
		const mime_address *a = &l.items[i];
		if (a->mailbox == NULL || a->host == NULL)
			continue;                     /* a group's start or end */
		if (a->host[0] == '\0' || a->mailbox[0] == '\0') {
			n = -1;
			break;
		}
		char *local = unquote_local(a->mailbox);
		strlist_add_owned(&h->authors, xasprintf("%s@%s", local, a->host));
		free(local);
		n++;
	}
	mime_addrlist_free(&l);
	return n;
}

static void note_bcc(submithdr *h, const mime_field *f)
{
	h->bcc = xrealloc(h->bcc, (h->n_bcc + 1) * sizeof(*h->bcc));
	h->bcc[h->n_bcc][0] = f->start;
	h->bcc[h->n_bcc][1] = f->end;
	h->n_bcc++;
}

/* The From and Sender values checked once the whole header is read. */
static submithdr_status judge(submithdr *h, const char *from, const char *sender, size_t n_from_fields,
                              size_t n_sender_fields)
{
	if (n_from_fields > 1 || n_sender_fields > 1)
		return SUBMITHDR_FIELDS;
	int nf = from != NULL ? add_mailboxes(h, from) : 0;
	if (nf < 0 || (from != NULL && nf == 0))
		return SUBMITHDR_NO_MAILBOX;
	h->n_from = (size_t)nf;
	if (sender != NULL && add_mailboxes(h, sender) != 1)
		return SUBMITHDR_NO_MAILBOX;
	if (nf > 1 && sender == NULL)
		return SUBMITHDR_NEEDS_SENDER;
	return SUBMITHDR_OK;
}

void submithdr_scan(const char *msg, size_t len, submithdr *h)
{
	*h = (submithdr){0};
	strlist_init(&h->authors);
	char *from = NULL, *sender = NULL;
	size_t n_from = 0, n_sender = 0, pos = 0;
	mime_field f;
	while (mime_header_next(msg, len, &pos, &f)) {
		if (mime_field_is(msg, &f, "From") && n_from++ == 0)
			from = mime_field_value(msg, &f);
		else if (mime_field_is(msg, &f, "Sender") && n_sender++ == 0)
			sender = mime_field_value(msg, &f);
		else if (mime_field_is(msg, &f, "Bcc") || mime_field_is(msg, &f, "Resent-Bcc"))
			note_bcc(h, &f);
		else if (mime_field_is(msg, &f, "Date"))
			h->has_date = true;
		else if (mime_field_is(msg, &f, "Message-ID"))
			h->has_message_id = true;
	}
	h->has_from = n_from > 0;
	h->has_sender = n_sender > 0;
	h->status = judge(h, from, sender, n_from, n_sender);
	free(from);
	free(sender);
}

void submithdr_free(submithdr *h)
{
	strlist_free(&h->authors);
	free(h->bcc);
	h->bcc = NULL;
	h->n_bcc = 0;
}

/* RFC 5322 3.3 date-time, UTC (the C locale's day and month names). */
static bool put_date(buf *out, time_t now)
{
	struct tm tm;
	char date[64];
	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return false;
	return buf_printf(out, "Date: %s\n", date);
}

static bool put_message_id(buf *out, const char *qid, const char *hostname)
{
	unsigned char r[8];
	if (RAND_bytes(r, sizeof r) != 1)
		return buf_printf(out, "Message-ID: <%s@%s>\n", qid, hostname);
	return buf_printf(out, "Message-ID: <%s.%02x%02x%02x%02x%02x%02x%02x%02x@%s>\n", qid, r[0], r[1], r[2],
	                  r[3], r[4], r[5], r[6], r[7], hostname);
}

bool submithdr_missing_fields(const submithdr *h, const char *sender, const char *hostname,
                              const char *qid, time_t now, buf *out)
{
	size_t start = out->len;
	bool ok = (h->has_from || buf_printf(out, "From: <%s>\n", sender)) && (h->has_date || put_date(out, now)) &&
	          (h->has_message_id || put_message_id(out, qid, hostname));
	if (!ok)
		buf_truncate(out, start);
	return ok;
}
