/* log.c — key=value event lines (see log.h).  Owns quoting, timestamps and
 * the choice between stderr and syslog.  Writes each line with one write(2)
 * so lines from worker threads never interleave. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"

/* The longest line written (syslog daemons cut at about 8 KiB anyway). */
#define LOG_LINE_MAX 16384

static bool use_syslog;

void log_use_syslog(bool on)
{
	use_syslog = on;
	if (on)
		openlog("yubin", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static bool needs_quote(const char *s)
{
	if (*s == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p == 0x7f)
			return true;
	return false;
}

static void put_value(buf *b, const char *s)
{
	if (!needs_quote(s)) {
		BUF_PUTS(b, s);
		return;
	}
	BUF_PUTC(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			BUF_PRINTF(b, "\\%c", *p);
		else if (*p < ' ' || *p == 0x7f)
			BUF_PRINTF(b, "\\x%02x", *p);
		else
			BUF_PUTC(b, (char)*p);
	}
	BUF_PUTC(b, '"');
}

/* Expand fmt: literal text is copied; each conversion's value is rendered
 * and quoted as one value.  A "%s" written inside literal quotes in fmt
 * (key=\"%s\") is the same value: the quotes in fmt are dropped and the
 * value is quoted once, only when it needs it, so a line never shows
 * key=""..."". */
static void format_pairs(buf *b, const char *fmt, va_list ap)
{
	char num[64];
	for (const char *p = fmt; *p; p++) {
		if (*p == '"' && strncmp(p + 1, "%s\"", 3) == 0) {
			const char *s = va_arg(ap, const char *);
			put_value(b, s != NULL ? s : "-");
			p += 3;
			continue;
		}
		if (*p != '%') {
			BUF_PUTC(b, *p);
			continue;
		}
		p++;
		if (*p == 's') {
			const char *s = va_arg(ap, const char *);
			put_value(b, s != NULL ? s : "-");
		} else if (*p == 'd') {
			snprintf(num, sizeof num, "%d", va_arg(ap, int));
			BUF_PUTS(b, num);
		} else if (*p == 'u') {
			snprintf(num, sizeof num, "%u", va_arg(ap, unsigned));
			BUF_PUTS(b, num);
		} else if (*p == 'z' && p[1] == 'u') {
			p++;
			snprintf(num, sizeof num, "%zu", va_arg(ap, size_t));
			BUF_PUTS(b, num);
		} else if (*p == 'l' && p[1] == 'l') {
			p += 2;
			if (*p == 'd')
				snprintf(num, sizeof num, "%lld", va_arg(ap, long long));
			else
				snprintf(num, sizeof num, "%llu", va_arg(ap, unsigned long long));
			BUF_PUTS(b, num);
		} else if (*p == 'l') {
			p++;
			if (*p == 'd')
				snprintf(num, sizeof num, "%ld", va_arg(ap, long));
			else
				snprintf(num, sizeof num, "%lu", va_arg(ap, unsigned long));
			BUF_PUTS(b, num);
		} else if (*p == '%') {
			BUF_PUTC(b, '%');
		} else {
			break; /* unsupported conversion: stop rather than misread args */
		}
	}
}

static const char *level_name(log_level lvl)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	return names[lvl];
}

void log_event(log_level lvl, const char *event, const char *fmt, ...)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED); /* values are bounded by the protocols' limits */
	if (!use_syslog) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		char tbuf[40];
		strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
		BUF_PRINTF(&b, "ts=%s.%03ldZ ", tbuf, ts.tv_nsec / 1000000);
	}
	BUF_PRINTF(&b, "level=%s event=%s", level_name(lvl), event);
	if (fmt != NULL && *fmt != '\0') {
		BUF_PUTC(&b, ' ');
		va_list ap;
		va_start(ap, fmt);
		format_pairs(&b, fmt, ap);
		va_end(ap);
	}
	if (b.len > LOG_LINE_MAX) {
		/* cut where a reader sees it was cut */
		buf_truncate(&b, LOG_LINE_MAX);
		BUF_PUTS(&b, " cut=1");
	}
	if (use_syslog) {
		static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
		syslog(prio[lvl], "%s", buf_str(&b));
	} else {
		BUF_PUTC(&b, '\n');
		ssize_t w = write(STDERR_FILENO, b.data, b.len);
		(void)w; /* nowhere left to report a failing stderr */
	}
	buf_free(&b);
}
