/* params.h — structured MIME field values: Content-Type (RFC 2045 5.1) and
 * Content-Disposition (RFC 2183) with their parameters, including RFC 2231
 * continuations (name*0, name*1*) and charset/language tagged values
 * (name*=utf-8'en'%E2%82%AC).  Works on an unfolded value (header.h).
 * Tolerant: comments are skipped, a parameter value that is neither a token
 * nor a quoted string runs to the next ';', and nothing is ever dropped for
 * being malformed (an orphan continuation keeps its literal name). */
#ifndef YUBIN_MIME_PARAMS_H
#define YUBIN_MIME_PARAMS_H

#include <stddef.h>

/* Parameters kept per field; more are ignored (bounds the merge work). */
#define MIME_MAX_PARAMS 64

typedef struct mime_param {
	char *name;      /* lower-cased, without RFC 2231 "*n" / "*" suffixes */
	char *value;     /* continuations joined, %XX escapes decoded (bytes) */
	char *charset;   /* RFC 2231 charset (may be ""), NULL when not tagged */
	char *language;  /* RFC 2231 language (may be ""), NULL when not tagged */
} mime_param;

typedef struct mime_params {
	mime_param *items;
	size_t n;
} mime_params;

/* "type/subtype *(; param)".  *type_r and *subtype_r are malloc'd and
 * lower-cased, or both NULL when the value has no valid type/subtype (RFC
 * 2045: treat as text/plain); params are parsed either way. */
void mime_parse_content_type(const char *value, char **type_r, char **subtype_r,
			     mime_params *params_r);

/* "type *(; param)" (Content-Disposition); *type_r lower-cased, malloc'd, or
 * NULL when there is no token first. */
void mime_parse_disposition(const char *value, char **type_r, mime_params *params_r);

/* The decoded value of parameter `name` (lower-case), or NULL. */
const char *mime_params_get(const mime_params *p, const char *name);

/* A charset-tagged value in RFC 2231 form again, "charset'lang'%XX..." (for
 * BODYSTRUCTURE, which shows such a parameter as "name*"). malloc'd. */
char *mime_param_encode_2231(const mime_param *p);

void mime_params_free(mime_params *p);

#endif
