/* openapi.c — GET /v1/openapi.json: the OpenAPI 3.1 description of the
 * API, docs/openapi.json as it was when the binary was built (compiled in
 * by scripts/embed-file; tests/e2e/test_api_send.py checks that every /v1
 * route of http/routes.c is described in it). */
#include "api/api.h"

#include <stddef.h>

/* the generated openapi_doc.c */
extern const char api_openapi_doc[];
extern const size_t api_openapi_doc_len;

void api_openapi(http_req *r)
{
	http_add_header(r, "Cache-Control", "public, max-age=3600");
	http_reply(r, 200, "application/json", api_openapi_doc, api_openapi_doc_len);
}
