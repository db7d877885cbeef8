/* header.h — one RFC 5322 header block in the stored bytes: walking its
 * fields, finding a field by name (ASCII case-insensitive), and unfolding a
 * field's value.  Offsets are into the stored message (see crlf.h).  Pure:
 * no allocation except mime_field_value's result. */
#ifndef YUBIN_MIME_HEADER_H
#define YUBIN_MIME_HEADER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mime_field {
	size_t start;        /* first byte of the field's first line */
	size_t end;          /* after the line end of its last continuation line */
	size_t name_start;   /* the name, without the colon or the blanks before it; */
	size_t name_end;     /* empty for a line that has no colon (kept, not lost) */
	size_t value_start;  /* after the colon (or the line start when unnamed) */
	size_t value_end;    /* before the last line's line end */
} mime_field;

/* Read the field at *pos in the header block that ends at `end` (the block
 * may or may not include its blank line).  Returns false at the blank line or
 * at `end`; otherwise fills f and moves *pos past the field. */
bool mime_header_next(const char *data, size_t end, size_t *pos, mime_field *f);

/* True when f's name is `name` (ASCII case-insensitive). */
bool mime_field_is(const char *data, const mime_field *f, const char *name);

/* The first field called `name` in data[start, end); false when absent. */
bool mime_header_find(const char *data, size_t start, size_t end,
		      const char *name, mime_field *f);

/* The value unfolded (line ends removed, the blanks after them kept), with
 * the blanks at both ends trimmed; NUL bytes become spaces so the result is
 * a C string.  malloc'd. */
char *mime_field_value(const char *data, const mime_field *f);

/* mime_header_find + mime_field_value; NULL when the field is absent. */
char *mime_header_value(const char *data, size_t start, size_t end, const char *name);

#endif
