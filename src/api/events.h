/* events.h — GET /v1/events: the delivery log as JSON events (api/event.h),
 * oldest first, filtered by ?type=delivered,bounced (comma-separated),
 * ?recipient=ADDR, ?message_id=QID, ?since= and ?until= (RFC 3339 or unix
 * seconds; since inclusive, until exclusive), ?limit= (1-1000, default
 * 100), and paginated with an opaque cursor: the answer is
 *   {"events": [...], "next_cursor": "..." | null, "next": "/v1/events?cursor=..." | null}
 * and ?cursor= (which carries the filters of the first query; other
 * parameters are then ignored) returns the page after.  Following next
 * until it is null returns every event exactly once; events stored later
 * show up on a later call with the last cursor.  A recipient filter
 * returns the events of the messages sent to that recipient (their
 * received event too, and that recipient's others): a suppression made by
 * hand belongs to no message and is found by type=suppressed.  The list is
 * the whole server's (every API key sees every event). */
#ifndef YUBIN_API_EVENTS_H
#define YUBIN_API_EVENTS_H

#include "http/http.h"

void events_get(http_req *r);

#endif
