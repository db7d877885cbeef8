/* suppress_api.h — the suppression list over HTTP:
 *   GET    /v1/suppressions?limit=&cursor=   {"suppressions": [...], "next_cursor", "next"}
 *   GET    /v1/suppressions/{address}        one entry, or 404
 *   POST   /v1/suppressions                  {"address": ..., "reason": ...}: 201 (200
 *                                            with the entry that was there already)
 *   DELETE /v1/suppressions/{address}        204, or 404
 * An entry is {"address", "reason", "source": "bounce"|"manual", "reply",
 * "message_id", "created" (RFC 3339)}.  One list for the whole server:
 * any valid API key manages it (it lists recipients, which belong to no
 * sending domain).  The work runs on srv->wk. */
#ifndef YUBIN_API_SUPPRESS_API_H
#define YUBIN_API_SUPPRESS_API_H

#include "http/http.h"

void suppress_api_list(http_req *r);
void suppress_api_get(http_req *r);
void suppress_api_add(http_req *r);
void suppress_api_del(http_req *r);

#endif
