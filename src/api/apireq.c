/* apireq.c — JSON request bodies and field problems of the hooks'
 * handlers (see apireq.h). */
#include "api/apireq.h"

json_t *apireq_object(http_req *r)
{
	size_t len;
	const char *body = http_req_body(r, &len);
	json_error_t jerr;
	json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (in == NULL || !json_is_object(in)) {
		json_decref(in);
		http_problem(r, 400, "invalid-json", "The body is not a JSON object", in ? NULL : jerr.text, NULL);
		return NULL;
	}
	return in;
}

void apireq_bad_field(http_req *r, const char *field, const char *detail)
{
	http_problem(r, 400, "invalid-field", "A field of the request is not valid", detail, field);
}
