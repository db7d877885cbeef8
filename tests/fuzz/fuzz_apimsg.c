/* fuzz_apimsg.c — libFuzzer target for the HTTPS API's message reading
 * (api/msgjson.c) and building (api/compose.c): any bytes either give a
 * problem with a status and a detail, or a message that MIME parses back
 * with every header line at most 998 bytes and every body line of ours
 * (quoted-printable, base64) at most 76. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/compose.h"
#include "api/msgjson.h"
#include "mime/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char RND[16] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

static void check_lines(const char *s, size_t len, size_t hdr_end)
{
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(s + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (s + at)) : len - at;
		/* part header lines (a long media type) may pass 76, never 998 */
		bool header = at < hdr_end || (n >= 8 && memcmp(s + at, "Content-", 8) == 0) || s[at] == ' ';
		if (n > (header ? 998 : 76))
			abort();
		at += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgjson_limits lim = {.max_recipients = 20, .max_size = 1 << 20};
	api_msg m;
	api_problem p = {0};
	if (!msgjson_parse((const char *)data, size, &lim, &m, &p)) {
		if (p.status < 400 || p.detail == NULL)
			abort();
		api_problem_free(&p);
		api_msg_free(&m);
		return 0;
	}
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	char *mid = NULL;
	compose_opts o = {.hostname = "mx.example.test", .now = 1700000000, .random = RND};
	compose_message(&m, &o, &b, &mid);
	mime_message *mm = mime_parse(b.data, b.len);
	if (mm->root->hdr_end == 0)
		abort();
	/* the top header, then the rest: our part headers are short too */
	check_lines(b.data, b.len, mm->root->hdr_end);
	mime_free(&mm);
	free(mid);
	buf_free(&b);
	api_msg_free(&m);
	return 0;
}
