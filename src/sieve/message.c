/* message.c — the message as a script sees it: its header fields in order
 * (unfolded, trimmed, RFC 2047 decoded on first use, RFC 5228 2.7.2) and
 * its MIME tree, parsed only when a test needs the body.  Reads only. */
#include <stdlib.h>
#include <string.h>

#include "mime/charset.h"
#include "mime/header.h"
#include "sieve/sieve_int.h"

void sieve_msg_headers(sieve_interp *it)
{
	if (it->hdrs_loaded)
		return;
	it->hdrs_loaded = true;
	const char *d = it->msg->data;
	size_t pos = 0, cap = 0;
	mime_field f;
	while (mime_header_next(d, it->msg->len, &pos, &f)) {
		if (f.name_end == f.name_start)
			continue;
		if (it->nhdrs == cap) {
			cap = cap ? cap * 2 : 32;
			it->hdrs = xrealloc(it->hdrs, cap * sizeof(*it->hdrs));
		}
		sieve_hdr *h = &it->hdrs[it->nhdrs++];
		h->name = xstrndup(d + f.name_start, f.name_end - f.name_start);
		h->raw = mime_field_value(d, &f);
		/* unfolded as Dovecot shows fields on one line: a tab is a space */
		for (char *t = h->raw; (t = strchr(t, '\t')) != NULL; t++)
			*t = ' ';
		h->decoded = NULL;
	}
}

const char *sieve_hdr_decoded(sieve_hdr *h)
{
	if (h->decoded == NULL)
		h->decoded = mime_decode_header(h->raw);
	return h->decoded;
}

mime_message *sieve_msg_mime(sieve_interp *it)
{
	if (it->mime == NULL)
		it->mime = mime_parse(it->msg->data, it->msg->len);
	return it->mime;
}

void sieve_msg_header_values(sieve_interp *it, const char *name, bool decoded, strlist *out)
{
	sieve_msg_headers(it);
	for (size_t i = 0; i < it->nhdrs; i++)
		if (str_ascii_ieq(it->hdrs[i].name, name))
			strlist_add(out, decoded ? sieve_hdr_decoded(&it->hdrs[i]) : it->hdrs[i].raw);
}
