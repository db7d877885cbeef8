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
/* Log an event: fmt is a sequence of key=%s pairs; every %s argument is
 * quoted if needed (use log_kv-style: pass raw values, the formatter quotes).
 * Only "%s", "%d", "%u", "%ld", "%lu", "%lld", "%llu", "%zu" conversions are
 * allowed. */
void log_event(log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
