/* crlf.c — sizes, line counts and copies of stored (LF) byte ranges in their
 * CRLF form (see crlf.h).  Knows nothing about MIME structure. */
#include "mime/crlf.h"

#include <string.h>

size_t mime_crlf_size(const char *data, size_t start, size_t end)
{
	size_t n = end - start;
	const char *p = data + start;
	const char *e = data + end;
	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		if (p == data + start || p[-1] != '\r')
			n++;
		p++;
	}
	return n;
}

size_t mime_lines(const char *data, size_t start, size_t end)
{
	size_t n = 0;
	const char *p = data + start;
	const char *e = data + end;
	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		n++;
		p++;
	}
	if (end > start && data[end - 1] != '\n')
		n++;
	return n;
}

bool mime_crlf_append(buf *out, const char *data, size_t start, size_t end)
{
	size_t i = start;
	while (i < end) {
		const char *nl = memchr(data + i, '\n', end - i);
		size_t stop = nl == NULL ? end : (size_t)(nl - data);
		if (!buf_append(out, data + i, stop - i))
			return false;
		if (nl == NULL)
			break;
		if ((stop == start || data[stop - 1] != '\r') && !buf_putc(out, '\r'))
			return false;
		if (!buf_putc(out, '\n'))
			return false;
		i = stop + 1;
	}
	return true;
}
