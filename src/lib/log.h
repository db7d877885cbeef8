/* log.h — key=value event logging to stderr or syslog.  One line per event:
 *   ts=2026-11-22T22:06:13.123Z level=info event=accept sid=... client=...
 * Values containing spaces, quotes or control bytes are quoted and escaped,
 * so a line always stays one line and greps well.  Callers never pass
 * secrets: there is no API here that takes a password. */
#ifndef YUBIN_LOG_H
#define YUBIN_LOG_H

#include <stdbool.h>

typedef enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR } log_level;

/* Send lines to syslog (facility mail) instead of stderr. */
void log_use_syslog(bool on);
/* Log an event: fmt is a sequence of key=%s pairs.  The one quoting rule:
 * every %s argument is one value, written bare when it is a non-empty run
 * of printable bytes other than double quote, backslash and '=', and
 * otherwise in double quotes with those two escaped by a backslash and
 * control bytes as \xHH.  Pass raw values, never quoted ones, and never a
 * fragment of the line ("%s%s" with " key=" as an argument): key="%s" in
 * fmt means the same as key=%s, so a value is quoted once, only when it
 * needs it.  A NULL value is written as a bare -.  Literal text in fmt is
 * copied as it is, so a fixed value with spaces is written in quotes there
 * (error="no space left").
 * Only "%s", "%d", "%u", "%ld", "%lu", "%lld", "%llu", "%zu" conversions are
 * allowed. */
void log_event(log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
