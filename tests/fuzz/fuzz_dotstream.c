/* fuzz_dotstream.c — libFuzzer target for the DATA decoder: decoding the
 * input in one piece and one byte at a time must give the same output, end
 * position and bare-CR/LF verdict; an end is only ever at "\r\n.\r\n" (or a
 * first line "."). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/dotstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t run(const uint8_t *data, size_t size, size_t step, char *out, size_t *out_len,
                  bool *bare, bool *ended)
{
	dotstream d;
	dotstream_init(&d);
	size_t pos = 0, o = 0;
	*ended = false;
	while (pos < size && !*ended) {
		size_t n = size - pos < step ? size - pos : step;
		size_t got;
		size_t used = dotstream_feed(&d, (const char *)data + pos, n, out + o, &got, ended);
		o += got;
		pos += used;
	}
	*out_len = o;
	*bare = d.bare_eol;
	return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = malloc(size + 2), *b = malloc(size + 2);
	size_t la, lb;
	bool ba, bb, ea, eb;
	size_t pa = run(data, size, size ? size : 1, a, &la, &ba, &ea);
	size_t pb = run(data, size, 1, b, &lb, &bb, &eb);
	if (pa != pb || la != lb || ba != bb || ea != eb || memcmp(a, b, la) != 0)
		abort();
	if (ea) {
		bool first = pa == 3 && memcmp(data, ".\r\n", 3) == 0;
		if (!first && (pa < 5 || memcmp(data + pa - 5, "\r\n.\r\n", 5) != 0))
			abort();
	}
	if (!ba && memchr(a, '\r', la) != NULL)
		abort(); /* without a bare CR, every CR was part of a CRLF */
	free(a);
	free(b);
	return 0;
}
