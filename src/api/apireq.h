/* apireq.h — what the hooks' JSON handlers (suppress_api.c,
 * webhooks_api.c) share to read a request body and refuse a field: one
 * wording of those problems. */
#ifndef YUBIN_API_APIREQ_H
#define YUBIN_API_APIREQ_H

#include <jansson.h>

#include "http/http.h"

/* The body as a JSON object (a new reference), or NULL after answering
 * 400 invalid-json. */
json_t *apireq_object(http_req *r);
/* Answer 400 invalid-field naming field (a JSON pointer). */
void apireq_bad_field(http_req *r, const char *field, const char *detail);

#endif
