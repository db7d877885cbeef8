/* envelope.c — the IMAP ENVELOPE of a message (RFC 9051 7.5.2) from its
 * header (see imapfmt.h).  Addresses come from address.c; values are sent
 * raw (unfolded), encoded-words and all. */
#include "mime/imapfmt.h"

#include <stdlib.h>

#include "mime/address.h"
#include "mime/header.h"

static bool write_address(buf *out, const mime_address *a)
{
	return buf_putc(out, '(') && imap_write_nstring(out, a->name) &&
	       buf_putc(out, ' ') && imap_write_nstring(out, a->route) &&
	       buf_putc(out, ' ') && imap_write_nstring(out, a->mailbox) &&
	       buf_putc(out, ' ') && imap_write_nstring(out, a->host) &&
	       buf_putc(out, ')');
}

/* The addresses in the field's value, or NULL when absent / empty. */
static char *address_value(const mime_message *m, const mime_part *msg, const char *name)
{
	char *v = mime_header_value(m->data, msg->hdr_start, msg->hdr_end, name);
	if (v == NULL)
		return NULL;
	mime_addrlist l;
	mime_parse_addresses(v, &l);
	bool empty = l.n == 0;
	mime_addrlist_free(&l);
	if (empty) {
		free(v);
		return NULL;
	}
	return v;
}

static bool write_addresses(buf *out, const char *value)
{
	if (value == NULL)
		return buf_puts(out, "NIL");
	mime_addrlist l;
	mime_parse_addresses(value, &l);
	bool ok = buf_putc(out, '(');
	for (size_t i = 0; ok && i < l.n; i++)
		ok = write_address(out, &l.items[i]);
	ok = ok && buf_putc(out, ')');
	mime_addrlist_free(&l);
	return ok;
}

static bool write_raw(buf *out, const mime_message *m, const mime_part *msg, const char *name)
{
	char *v = mime_header_value(m->data, msg->hdr_start, msg->hdr_end, name);
	bool ok = imap_write_nstring(out, v);
	free(v);
	return ok;
}

bool imap_write_envelope(buf *out, const mime_message *m, const mime_part *msg)
{
	static const char *const lists[] = { "to", "cc", "bcc" };
	char *from = address_value(m, msg, "from");
	char *sender = address_value(m, msg, "sender");
	char *reply_to = address_value(m, msg, "reply-to");
	bool ok = buf_putc(out, '(') && write_raw(out, m, msg, "date") &&
		  buf_putc(out, ' ') && write_raw(out, m, msg, "subject") &&
		  buf_putc(out, ' ') && write_addresses(out, from) &&
		  buf_putc(out, ' ') && write_addresses(out, sender ? sender : from) &&
		  buf_putc(out, ' ') && write_addresses(out, reply_to ? reply_to : from);
	for (size_t i = 0; ok && i < 3; i++) {
		char *v = address_value(m, msg, lists[i]);
		ok = buf_putc(out, ' ') && write_addresses(out, v);
		free(v);
	}
	ok = ok && buf_putc(out, ' ') && write_raw(out, m, msg, "in-reply-to") &&
	     buf_putc(out, ' ') && write_raw(out, m, msg, "message-id") && buf_putc(out, ')');
	free(from);
	free(sender);
	free(reply_to);
	return ok;
}
