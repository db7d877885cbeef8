/* text.c — decoded UTF-8 text of parts and of a whole message (see
 * text.h). */
#include "mime/text.h"

#include "mime/charset.h"
#include "mime/decode.h"

#include <stdint.h>
#include <string.h>

bool mime_part_text(const mime_message *m, const mime_part *p, size_t scan, buf *out)
{
	size_t end = p->body_end - p->body_start > scan ? p->body_start + scan : p->body_end;
	buf raw;
	buf_init(&raw, out->max ? out->max : BUF_UNBOUNDED);
	bool ok;
	switch (mime_cte_of(p->encoding)) {
	case MIME_CTE_BASE64: ok = mime_base64_decode(&raw, m->data, p->body_start, end); break;
	case MIME_CTE_QP: ok = mime_qp_decode(&raw, m->data, p->body_start, end); break;
	case MIME_CTE_IDENTITY: ok = buf_append(&raw, m->data + p->body_start, end - p->body_start); break;
	default: ok = false; break; /* an unknown encoding: no text */
	}
	ok = ok && mime_charset_to_utf8(out, mime_params_get(&p->params, "charset"), raw.data ? raw.data : "", raw.len);
	buf_free(&raw);
	return ok;
}

static void part_texts(const mime_message *m, const mime_part *p, buf *out)
{
	for (; p != NULL; p = p->next) {
		if (p->message != NULL)
			part_texts(m, p->message, out);
		else if (p->multipart)
			part_texts(m, p->children, out);
		else if (p->type != NULL && strcmp(p->type, "text") == 0) {
			/* no more encoded bytes than there is room for decoded ones
			 * (decoding never makes text longer): a long part is cut,
			 * not left out */
			size_t room = out->max == BUF_UNBOUNDED ? SIZE_MAX : out->max - out->len;
			if (room <= 1)
				return;
			if (mime_part_text(m, p, room - 1, out) && !buf_putc(out, '\n'))
				return;
		}
	}
}

void mime_message_text(const mime_message *m, buf *out)
{
	part_texts(m, m->root, out);
}
