/* pagecursor.h — the opaque cursors of the API's paginated lists (GET
 * /v1/events, GET /v1/suppressions): a small JSON object (where the page
 * ends and the filters of the query) as base64url without padding, so a
 * client only passes it back and cannot mistake its inside for an
 * interface.  Pure functions. */
#ifndef YUBIN_API_PAGECURSOR_H
#define YUBIN_API_PAGECURSOR_H

#include <jansson.h>

/* Longest cursor accepted (bytes). */
#define PAGECURSOR_MAX 2048

/* The cursor for state (not taken), malloc'd. */
char *pagecursor_encode(const json_t *state);
/* The object a cursor holds (a new reference); NULL when s is not one. */
json_t *pagecursor_decode(const char *s);

#endif
