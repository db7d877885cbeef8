/* fuzz_mime.c — libFuzzer target for the MIME parser and every IMAP
 * rendering: any bytes must parse into a tree whose ranges nest inside the
 * message, and BODYSTRUCTURE, BODY, ENVELOPE and every section (each part,
 * with HEADER, TEXT, MIME, HEADER.FIELDS[.NOT], BINARY, partial) must be
 * produced without a crash.  The first byte picks a few options. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime/crlf.h"
#include "mime/imapfmt.h"
#include "mime/mime.h"
#include "mime/preview.h"
#include "lib/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const suffixes[] = {
	"", ".MIME", ".HEADER", ".TEXT", ".HEADER.FIELDS (From Subject Content-Type)",
	".HEADER.FIELDS.NOT (Subject \"To\")",
};

static void check_ranges(const mime_message *m, const mime_part *p, size_t lo, size_t hi)
{
	if (p->hdr_start < lo || p->hdr_start > p->hdr_end || p->hdr_end != p->body_start ||
	    p->body_start > p->body_end || p->body_end > hi)
		abort();
	if (p->multipart && p->children == NULL)
		abort();
	for (const mime_part *c = p->children; c != NULL; c = c->next)
		check_ranges(m, c, p->body_start, p->body_end);
	if (p->message != NULL)
		check_ranges(m, p->message, p->body_start, p->body_end);
}

static void fetch(const mime_message *m, const char *spec, unsigned opts)
{
	imap_section sec;
	if (imap_section_parse(spec, &sec) == IMAP_FETCH_SYNTAX)
		return;
	buf out;
	buf_init(&out, 1 << 20);
	imap_section_fetch(&out, m, &sec);
	imap_partial(&out, opts & 7, (opts >> 3) & 15);
	buf_clear(&out);
	if (sec.kind == MIME_SECTION_BODY)
		imap_binary_fetch(&out, m, &sec);
	buf_free(&out);
	imap_section_free(&sec);
}

/* Every section of p, whose part numbers are `path`. */
static void walk(const mime_message *m, const mime_part *p, const char *path, unsigned opts, int budget)
{
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char *spec = xasprintf("%s%s", path, path[0] ? suffixes[i] : suffixes[i] + (i ? 1 : 0));
		fetch(m, spec, opts);
		free(spec);
	}
	if (budget <= 0)
		return;
	const mime_part *inner = p->message != NULL ? p->message : p;
	size_t n = inner->multipart ? inner->nchildren : 1;
	size_t k = 1;
	for (const mime_part *c = inner->multipart ? inner->children : inner; c && k <= n && k < 8;
	     k++, c = inner->multipart ? c->next : NULL) {
		char *sub = xasprintf("%s%s%zu", path, path[0] ? "." : "", k);
		if (c != p)
			walk(m, c, sub, opts, budget - 1);
		else
			fetch(m, sub, opts);
		free(sub);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opts = size > 0 ? data[0] : 0;
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	mime_message *m = mime_parse(copy, size);
	check_ranges(m, m->root, 0, size);
	buf out;
	buf_init(&out, 1 << 22);
	imap_write_body(&out, m, m->root, true);
	buf_clear(&out);
	imap_write_body(&out, m, m->root, false);
	buf_clear(&out);
	imap_write_envelope(&out, m, m->root);
	buf_free(&out);
	walk(m, m->root, "", opts, 6);
	fetch(m, "1.2.3.4.5", opts);
	/* PREVIEW: valid UTF-8 of at most MIME_PREVIEW_MAX characters */
	char *pv = mime_preview(m);
	if (!imap_utf8_valid(pv, strlen(pv)) || strlen(pv) > 4 * MIME_PREVIEW_MAX)
		abort();
	free(pv);
	if (mime_crlf_size(copy, 0, size) < size)
		abort();
	mime_free(&m);
	free(copy);
	return 0;
}
