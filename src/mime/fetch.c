/* fetch.c — the bytes of BODY[section] and BINARY[section] for a parsed
 * message (RFC 9051 6.4.5, RFC 3516; see imapfmt.h).  Resolves part numbers
 * against the tree and copies stored bytes in CRLF form; decoding is
 * decode.c's. */
#include "mime/imapfmt.h"

#include <string.h>

#include "mime/crlf.h"
#include "mime/decode.h"
#include "mime/header.h"

/* The part named by the section's numbers (nparts > 0). */
static const mime_part *resolve(const mime_message *m, const imap_section *sec)
{
	const mime_part *node = m->root;
	bool is_msg = true;      /* numbers count inside the message `node` */
	for (size_t i = 0; i < sec->nparts; i++) {
		if (!is_msg && node->message != NULL) {
			node = node->message;
			is_msg = true;
		}
		if (node->multipart)
			node = mime_part_child(node, sec->part[i]);
		else if (!(is_msg && sec->part[i] == 1))
			return NULL;
		if (node == NULL)
			return NULL;
		is_msg = false;
	}
	return node;
}

static bool wanted(const mime_message *m, const mime_field *f, const strlist *names)
{
	for (size_t i = 0; i < names->n; i++)
		if (mime_field_is(m->data, f, names->items[i]))
			return true;
	return false;
}

static bool header_fields(buf *out, const mime_message *m, const mime_part *msg,
			  const strlist *names, bool not)
{
	size_t pos = msg->hdr_start;
	mime_field f;
	while (mime_header_next(m->data, msg->hdr_end, &pos, &f)) {
		if (wanted(m, &f, names) == not)
			continue;
		if (!mime_crlf_append(out, m->data, f.start, f.end))
			return false;
		if (m->data[f.end - 1] != '\n' && !buf_append(out, "\r\n", 2))
			return false;
	}
	return buf_append(out, "\r\n", 2);
}

/* HEADER, TEXT, HEADER.FIELDS[.NOT] of a message part. */
static bool message_text(buf *out, const mime_message *m, const mime_part *msg,
			 const imap_section *sec)
{
	switch (sec->kind) {
	case MIME_SECTION_HEADER:
		return mime_crlf_append(out, m->data, msg->hdr_start, msg->hdr_end);
	case MIME_SECTION_TEXT:
		return mime_crlf_append(out, m->data, msg->body_start, msg->body_end);
	case MIME_SECTION_HEADER_FIELDS:
	case MIME_SECTION_HEADER_FIELDS_NOT:
		return header_fields(out, m, msg, &sec->fields,
				     sec->kind == MIME_SECTION_HEADER_FIELDS_NOT);
	default:
		return false;
	}
}

imap_fetch_status imap_section_fetch(buf *out, const mime_message *m, const imap_section *sec)
{
	bool ok;
	if (sec->nparts == 0) {
		if (sec->kind == MIME_SECTION_BODY)
			ok = mime_crlf_append(out, m->data, 0, m->len);
		else if (sec->kind == MIME_SECTION_MIME)
			return IMAP_FETCH_SYNTAX;
		else
			ok = message_text(out, m, m->root, sec);
		return ok ? IMAP_FETCH_OK : IMAP_FETCH_TOO_BIG;
	}
	const mime_part *p = resolve(m, sec);
	if (p == NULL)
		return IMAP_FETCH_NO_PART;
	if (sec->kind == MIME_SECTION_BODY)
		ok = mime_crlf_append(out, m->data, p->body_start, p->body_end);
	else if (sec->kind == MIME_SECTION_MIME)
		ok = mime_crlf_append(out, m->data, p->hdr_start, p->hdr_end);
	else if (p->message == NULL)
		return IMAP_FETCH_NOT_MESSAGE;
	else
		ok = message_text(out, m, p->message, sec);
	return ok ? IMAP_FETCH_OK : IMAP_FETCH_TOO_BIG;
}

imap_fetch_status imap_binary_fetch(buf *out, const mime_message *m, const imap_section *sec)
{
	if (sec->kind != MIME_SECTION_BODY)
		return IMAP_FETCH_SYNTAX;
	if (sec->nparts == 0)
		return mime_crlf_append(out, m->data, 0, m->len) ? IMAP_FETCH_OK : IMAP_FETCH_TOO_BIG;
	const mime_part *p = resolve(m, sec);
	if (p == NULL)
		return IMAP_FETCH_NO_PART;
	mime_cte cte = p->multipart || p->message ? MIME_CTE_IDENTITY : mime_cte_of(p->encoding);
	bool ok;
	switch (cte) {
	case MIME_CTE_BASE64:
		ok = mime_base64_decode(out, m->data, p->body_start, p->body_end);
		break;
	case MIME_CTE_QP:
		ok = mime_qp_decode(out, m->data, p->body_start, p->body_end);
		break;
	case MIME_CTE_IDENTITY:
		ok = mime_crlf_append(out, m->data, p->body_start, p->body_end);
		break;
	default:
		return IMAP_FETCH_UNKNOWN_CTE;
	}
	return ok ? IMAP_FETCH_OK : IMAP_FETCH_TOO_BIG;
}

void imap_partial(buf *b, uint64_t offset, uint64_t count)
{
	if (offset >= b->len) {
		buf_clear(b);
		return;
	}
	buf_consume(b, (size_t)offset);
	if (count < b->len)
		buf_truncate(b, (size_t)count);
}
