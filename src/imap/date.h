/* date.h — IMAP dates (RFC 9051 9): date "d-MMM-yyyy" for SEARCH (atom or
 * quoted) and date-time "dd-MMM-yyyy hh:mm:ss +zzzz" for APPEND (quoted; the
 * day may be " d").  Month names in any case.  Pure arithmetic: no time
 * zone database, no locale. */
#ifndef YUBIN_IMAP_DATE_H
#define YUBIN_IMAP_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "imap/parse.h"

/* s[0..len) as a date: *t_r is 00:00:00 UTC of that day (SEARCH compares
 * days, so the server applies its own zone to messages, not to this).
 * Years 0001..9999; the day must exist in that month. */
bool imap_date_parse(const char *s, size_t len, time_t *t_r);
bool imap_date_parse_arg(const imap_arg *a, time_t *t_r);

/* s[0..len) as a date-time: *t_r the instant (UTC seconds), *offset_r the
 * zone as sent, in minutes east of UTC (-0500 gives -300). */
bool imap_datetime_parse(const char *s, size_t len, time_t *t_r, int *offset_r);
/* From an argument: only a quoted string. */
bool imap_datetime_parse_arg(const imap_arg *a, time_t *t_r, int *offset_r);

#endif
