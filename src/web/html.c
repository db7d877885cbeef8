/* html.c — escaping and the shared page frame (see html.h).  Must not
 * know HTTP, sessions or any page's content. */
#include "web/html.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/utf8.h"

#define REPLACEMENT "\xef\xbf\xbd"

void html_textn(buf *out, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			uint32_t cp;
			size_t len = imap_utf8_decode((const unsigned char *)s + i, n - i, &cp);
			if (len == 0) {
				BUF_PUTS(out, REPLACEMENT);
				i++;
			} else {
				BUF_APPEND(out, s + i, len);
				i += len;
			}
			continue;
		}
		switch (c) {
		case '&': BUF_PUTS(out, "&amp;"); break;
		case '<': BUF_PUTS(out, "&lt;"); break;
		case '>': BUF_PUTS(out, "&gt;"); break;
		case '"': BUF_PUTS(out, "&quot;"); break;
		case '\'': BUF_PUTS(out, "&#39;"); break;
		case '\t': case '\n': BUF_PUTC(out, (char)c); break;
		default:
			if (c < 0x20 || c == 0x7f)
				BUF_PUTS(out, REPLACEMENT);
			else
				BUF_PUTC(out, (char)c);
		}
		i++;
	}
}

void html_text(buf *out, const char *s)
{
	if (s != NULL)
		html_textn(out, s, strlen(s));
}

/* Only the conversions the dashboard uses; anything else is a bug. */
void html_printf(buf *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			BUF_PUTC(out, *p);
			continue;
		}
		p++;
		if (*p == 's') {
			html_text(out, va_arg(ap, const char *));
		} else if (*p == 'd') {
			BUF_PRINTF(out, "%d", va_arg(ap, int));
		} else if (*p == 'u') {
			BUF_PRINTF(out, "%u", va_arg(ap, unsigned));
		} else if (p[0] == 'z' && p[1] == 'u') {
			BUF_PRINTF(out, "%zu", va_arg(ap, size_t));
			p++;
		} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'd') {
			BUF_PRINTF(out, "%lld", va_arg(ap, long long));
			p += 2;
		} else if (*p == '%') {
			BUF_PUTC(out, '%');
		} else {
			abort(); /* a conversion html_printf does not know: a bug */
		}
	}
	va_end(ap);
}

void html_url_value(buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			BUF_PUTC(out, (char)c);
		else
			BUF_PRINTF(out, "%%%02X", c);
	}
}

static const struct {
	const char *path, *label;
	bool admin; /* for administrators only */
} nav[] = {
	{"/queue", "Queue", true}, {"/log", "Delivery log", true}, {"/domains", "Domains", true},
	{"/charts", "Charts", true}, {"/account", "My account", false},
	{"/account/filters", "Filters", false},
};

void html_page_begin(buf *out, const char *title, const char *current, const char *user,
                     const char *csrf, bool admin)
{
	html_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	            "<title>%s — yubin</title><link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body>",
	            title);
	if (user != NULL) {
		BUF_PUTS(out, "<header><nav><span class=\"brand\">yubin</span>");
		for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			if (nav[i].admin && !admin)
				continue;
			bool here = current != NULL && strcmp(current, nav[i].path) == 0;
			html_printf(out, here ? "<a href=\"%s\" aria-current=\"page\">%s</a>" : "<a href=\"%s\">%s</a>",
			            nav[i].path, nav[i].label);
		}
		html_printf(out, "<span class=\"user\">%s</span>", user);
		html_post_button(out, "/logout", csrf, "Log out", "logout");
		BUF_PUTS(out, "</nav></header>\n");
	} else {
		BUF_PUTS(out, "<header><nav><span class=\"brand\">yubin</span></nav></header>\n");
	}
	html_printf(out, "<main><h1>%s</h1>\n", title);
}

void html_page_end(buf *out)
{
	BUF_PUTS(out, "</main></body></html>\n");
}

void html_post_button(buf *out, const char *action, const char *csrf, const char *label,
                      const char *css_class)
{
	html_printf(out, "<form method=\"post\" action=\"%s\" class=\"inline\">"
	            "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", action, csrf ? csrf : "");
	if (css_class != NULL)
		html_printf(out, "<button type=\"submit\" class=\"%s\">%s</button></form>", css_class, label);
	else
		html_printf(out, "<button type=\"submit\">%s</button></form>", label);
}

void html_time(buf *out, long long unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	char s[32];
	if (gmtime_r(&t, &tm) == NULL || strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(s, sizeof s, "%lld", unix_s);
	BUF_PUTS(out, s);
}

void html_age(buf *out, long long secs)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		BUF_PRINTF(out, "%lldd %lldh", secs / 86400, secs % 86400 / 3600);
	else if (secs >= 3600)
		BUF_PRINTF(out, "%lldh %lldm", secs / 3600, secs % 3600 / 60);
	else if (secs >= 60)
		BUF_PRINTF(out, "%lldm", secs / 60);
	else
		BUF_PRINTF(out, "%llds", secs);
}
