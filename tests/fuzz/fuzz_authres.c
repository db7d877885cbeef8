/* fuzz_authres.c — libFuzzer target for Authentication-Results: finding
 * the fields that claim an authserv-id in a message, and building ours
 * from strings taken from the input.  Invariants checked (abort() when
 * one breaks):
 *  - every range authres_find_ours returns lies in the header, starts at
 *    a line start with an Authentication-Results name, ends after a line
 *    end, and the ranges are in order without overlap;
 *  - a built field ends with its line end, every line is shorter than
 *    AUTHRES_LINE_MAX unless it is a continuation line holding a single
 *    word, continuation lines start with a tab, and the field parses
 *    back: authres_find_ours finds exactly it for the id it wrote;
 *  - a buffer too small for the field is left as it was.
 * Input: one option byte, then the message; its first NUL-separated
 * pieces are also the strings the built field carries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "mime/header.h"
#include "msgauth/authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_STR 12

static const char *const ids[] = {"mx.yubin.test", "MX.Yubin.Test", "example.com", "a"};

static void check_find(const char *msg, size_t len, const char *id)
{
	/* the header's end, as the field walker sees it */
	size_t pos = 0, hdr_end = 0;
	mime_field f;
	while (mime_header_next(msg, len, &pos, &f))
		hdr_end = f.end;
	size_t n = 0;
	authres_range *r = authres_find_ours(msg, len, id, &n);
	if ((r == NULL) != (n == 0))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (r[i].start >= r[i].end || r[i].end > hdr_end || (i > 0 && r[i].start < r[i - 1].end))
			abort();
		if ((r[i].start > 0 && msg[r[i].start - 1] != '\n') || (msg[r[i].end - 1] != '\n' && r[i].end != len))
			abort();
		if (r[i].end - r[i].start < 22 || !str_ascii_nieq(msg + r[i].start, "Authentication-Results", 22))
			abort();
	}
	free(r);
}

/* RFC 2045 token, as the builder decides whether it can write the id. */
static bool token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("()<>@,;:\\\"/[]?=", *s))
			return false;
	return true;
}

/* A line of more than one word: a blank outside quoted strings. */
static bool several_words(const char *p, const char *e)
{
	bool quoted = false;
	for (; p < e; p++) {
		if (quoted && *p == '\\' && p + 1 < e)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == ' ' && !quoted)
			return true;
	}
	return false;
}

static void check_built(const buf *b, const char *id, bool crlf)
{
	const char *eol = crlf ? "\r\n" : "\n";
	size_t el = strlen(eol);
	if (b->len < el || memcmp(b->data + b->len - el, eol, el) != 0)
		abort();
	for (const char *line = b->data, *end = b->data + b->len; line < end;) {
		const char *e = strstr(line, eol);
		if (e == NULL)
			abort();
		if (line != b->data && *line != '\t')
			abort();
		if (e - line >= AUTHRES_LINE_MAX && (line == b->data || several_words(line + 1, e)))
			abort();
		if (memchr(line, '\r', (size_t)(e - line)) || memchr(line, '\n', (size_t)(e - line)))
			abort();
		line = e + el;
	}
	size_t n = 0;
	authres_range *r = authres_find_ours(b->data, b->len, token(id) ? id : "unknown", &n);
	if (n != 1 || r[0].start != 0 || r[0].end != b->len)
		abort();
	free(r);
}

static void check_build(char **str, unsigned opts)
{
	dkim_verdict v[4];
	size_t n_dkim = opts >> 6;
	for (size_t i = 0; i < n_dkim; i++)
		v[i] = (dkim_verdict){.result = (dkim_result)((opts + i) % 5), .domain = str[3 + i],
		                      .selector = str[4 + i], .b_prefix = str[5 + i],
		                      .reason = (opts + i) % 5 ? str[6 + i] : NULL};
	dmarc_record rec = {.p = (dmarc_policy)(opts % 3)};
	dmarc_outcome d = {.result = (dmarc_result)(opts % 5), .policy = (dmarc_policy)(opts % 3),
	                   .disposition = (dmarc_policy)((opts >> 2) % 3), .from_domain = str[10],
	                   .record = opts & 32 ? &rec : NULL, .problem = str[11]};
	authres_input in = {.authserv_id = str[0], .crlf = opts & 1, .has_spf = opts & 2,
	                    .spf = (spf_result)((opts >> 2) % 7), .spf_domain = str[1], .spf_helo = opts & 4,
	                    .spf_problem = str[2], .has_dkim = opts & 8, .dkim = v, .n_dkim = n_dkim,
	                    .dmarc = opts & 16 ? &d : NULL};
	buf b;
	buf_init(&b, 1 << 20);
	if (!authres_build(&in, &b))
		abort();
	check_built(&b, str[0], in.crlf);
	/* one byte short: refused, and what was there before stays */
	buf small;
	buf_init(&small, b.len + 1);
	if (!buf_puts(&small, "X:"))
		abort();
	if (authres_build(&in, &small) || small.len != 2 || memcmp(small.data, "X:", 2) != 0)
		abort();
	buf_free(&small);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opts = size > 0 ? data[0] : 0;
	const char *s = size > 0 ? (const char *)data + 1 : "";
	size_t n = size > 0 ? size - 1 : 0;
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		check_find(s, n, ids[i]);

	/* the strings: NUL-separated pieces of the input, then fixed ones */
	char *str[N_STR];
	const char *p = s, *end = s + n;
	for (size_t i = 0; i < N_STR; i++) {
		if (p < end) {
			str[i] = xstrndup(p, (size_t)(end - p));
			p += strlen(str[i]) + 1;
		} else {
			str[i] = xstrdup(i == 0 ? "mx.yubin.test" : "example.com");
		}
	}
	check_find(s, n, str[0]);
	check_build(str, opts);
	for (size_t i = 0; i < N_STR; i++)
		free(str[i]);
	return 0;
}
