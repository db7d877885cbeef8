/* event.h — the delivery log's events as applications see them, in GET
 * /v1/events and in webhook bodies: one audit record (audit/audit.h) of
 * kind received, delivered, deferred, bounced or suppressed becomes
 *   {"id": "evt_<record id>", "type": "bounced",
 *    "time": "2026-12-06T09:14:03.120Z", "message_id": "<queue id>",
 *    "recipient": "bob@example.net", "reply": "550 5.1.1 ...", ...}
 * with the kind's own fields after those (delivered: host or mailbox;
 * deferred: next_try; bounced: status; suppressed: reason; received:
 * sender, recipients, size).  The id is the audit record's, so it is
 * stable: the same event always has the same id, and receivers use it to
 * drop duplicates.  Pure functions: no I/O. */
#ifndef YUBIN_API_EVENT_H
#define YUBIN_API_EVENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"

/* "delivered", ... for the kinds that are events; NULL for the others. */
const char *event_type_name(audit_kind k);
/* The kind of an event type name; -1 when it is not one. */
int event_type_parse(const char *name);
/* Bits (1u << kind) of every kind that is an event. */
unsigned event_kinds_all(void);

/* The event for r (a new reference); NULL when r's kind is no event. */
json_t *event_json(const audit_record *r);

/* "evt_123" for record 123 (malloc'd); and back (false when s is not one). */
char *event_id(int64_t record_id);
bool event_id_parse(const char *s, int64_t *record_id_r);

/* Unix milliseconds as RFC 3339 in UTC with milliseconds
 * ("2026-12-06T09:14:03.120Z"), into out (at least 32 bytes). */
void event_time_format(int64_t ms, char out[32]);
/* RFC 3339 date-time ("2026-12-06T09:14:03Z", fractions, "+09:00"
 * offsets) or unix seconds (all digits) into unix milliseconds; false when
 * it is neither. */
bool event_time_parse(const char *s, int64_t *ms_r);

#endif
