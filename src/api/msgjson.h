/* msgjson.h — the JSON body of POST /v1/messages, read and checked into an
 * api_msg.  Pure (jansson in, structs out): every fault becomes one
 * problem (RFC 9457) with the HTTP status it deserves and the field at
 * fault as a JSON pointer ("/to/0", "/attachments/1/content").  Building
 * the MIME message is compose.h's job; who may send it is the caller's.
 *
 * The body (docs/openapi.json has the schema):
 *   from        "Name <addr>" | "addr" | {"name": ..., "email": ...}   (required)
 *   to, cc, bcc arrays of the same (at least one recipient in all)
 *   reply_to    one address, or an array of them
 *   subject     string
 *   text, html  strings (at least one of them)
 *   attachments [{"filename", "content_type", "content" (base64)}]
 *   headers     {"Name": "value"}: extra fields; never the ones we write
 *   tags        ["string"]: written as X-Yubin-Tags
 *   metadata    {"key": "value"}: written as X-Yubin-Meta-<key> fields
 *   require_tls true: sent with REQUIRETLS (RFC 8689): only over verified
 *               TLS, or returned to the sender
 * Unknown members are refused (a misspelt "bbc" must not send in clear). */
#ifndef YUBIN_API_MSGJSON_H
#define YUBIN_API_MSGJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strutil.h"

/* Bounds of the parts (besides the recipients and the size, from the
 * configuration). */
#define MSGJSON_NAME_MAX 256        /* display name, bytes */
#define MSGJSON_SUBJECT_MAX 2000
#define MSGJSON_FILENAME_MAX 255
#define MSGJSON_ATTACHMENTS_MAX 100
#define MSGJSON_HEADERS_MAX 50
#define MSGJSON_HEADER_VALUE_MAX 900
#define MSGJSON_TAGS_MAX 10
#define MSGJSON_TAG_MAX 128
#define MSGJSON_META_MAX 20
#define MSGJSON_META_KEY_MAX 64
#define MSGJSON_META_VALUE_MAX 512

/* One problem: the answer to give.  detail and field are malloc'd. */
typedef struct api_problem {
	int status;            /* 400, 403, 413, 415, 422, ... */
	const char *slug;      /* "/v1/problems/<slug>" */
	const char *title;
	char *detail;
	char *field;           /* JSON pointer or parameter name, or NULL */
} api_problem;

void api_problem_set(api_problem *p, int status, const char *slug, const char *title, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void api_problem_free(api_problem *p);

typedef struct api_addr {
	char *name;            /* display name (UTF-8) or NULL */
	char *email;           /* local@domain */
} api_addr;

typedef struct api_addrs {
	api_addr *v;
	size_t n;
} api_addrs;

typedef struct api_attachment {
	char *filename;        /* UTF-8, no '/' '\' or controls */
	char *content_type;    /* "type/subtype", lower case */
	char *data;            /* decoded */
	size_t len;
} api_attachment;

typedef struct api_field {
	char *name;
	char *value;
} api_field;

typedef struct api_msg {
	api_addr from;
	api_addrs to, cc, bcc, reply_to;
	char *subject;         /* NULL: none */
	char *text, *html;     /* NULL: absent; at least one is set */
	api_attachment *att;
	size_t n_att;
	api_field *hdr;        /* extra header fields */
	size_t n_hdr;
	strlist tags;
	api_field *meta;
	size_t n_meta;
	bool require_tls;      /* "require_tls": true */
} api_msg;

typedef struct msgjson_limits {
	size_t max_recipients; /* to + cc + bcc */
	int64_t max_size;      /* decoded text, html and attachments in all */
} msgjson_limits;

/* Read body[0, len) into out (free it with api_msg_free whatever the
 * outcome).  False with *p filled: 400 for malformed JSON (jansson's line
 * and column in the detail), 422 for JSON that says something wrong, 413
 * when the decoded parts pass max_size. */
bool msgjson_parse(const char *body, size_t len, const msgjson_limits *lim, api_msg *out, api_problem *p);
void api_msg_free(api_msg *m);

/* "Name <addr>" or "addr" (the string form of an address); false when
 * it is neither or the address is not a valid mailbox. */
bool msgjson_parse_address(const char *s, api_addr *out);
/* A valid mailbox local@domain (UTF-8 allowed, RFC 6531). */
bool msgjson_valid_email(const char *s);
/* Strict base64 (RFC 4648 4; line breaks allowed): decoded into
 * *out_r (malloc'd), or false at the first bad character or padding. */
bool msgjson_base64_decode(const char *s, size_t len, char **out_r, size_t *len_r);
/* A header field we write ourselves (From, To, ..., Content-*), which the
 * "headers" member may not set. */
bool msgjson_header_reserved(const char *name);

#endif
