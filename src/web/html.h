/* html.h — the one place where text becomes HTML: everything that comes
 * from outside (subjects, addresses, remote replies, form input, record
 * data) goes into a page through html_text, so that no user-controlled byte
 * is ever markup.  Also the page frame every dashboard page shares (head,
 * navigation, style sheet link), and the small form pieces (a button that
 * POSTs with the session's CSRF token).  Pure: builds into unbounded
 * buffers, knows nothing of HTTP or sessions. */
#ifndef YUBIN_WEB_HTML_H
#define YUBIN_WEB_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Append s escaped for HTML text and double-quoted attribute values: & < >
 * " ' become entities; control bytes other than tab and newline, and
 * invalid UTF-8, become U+FFFD, so a remote reply cannot break the page. */
void html_text(buf *out, const char *s);
/* The same for s[0, n). */
void html_textn(buf *out, const char *s, size_t n);
/* printf-style, with every %s argument escaped (%d, %lld, %zu, %u, %%
 * are copied as numbers; any other conversion is a bug and aborts): the
 * format itself is markup written here. */
void html_printf(buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Percent-encode s for a query-string value (RFC 3986 unreserved kept). */
void html_url_value(buf *out, const char *s);

/* The start of a page: doctype, title, the style sheet, and (user not
 * NULL) the navigation bar with the page named current marked and a
 * log-out button carrying csrf: every page for an administrator (admin),
 * only the account's own page for anyone else. */
void html_page_begin(buf *out, const char *title, const char *current, const char *user,
                     const char *csrf, bool admin);
void html_page_end(buf *out);
/* A form that POSTs to action with the CSRF token in a hidden field and one
 * submit button labelled label (class css_class when not NULL). */
void html_post_button(buf *out, const char *action, const char *csrf, const char *label,
                      const char *css_class);

/* "2026-12-06 09:12:03" (UTC) for a unix time in seconds. */
void html_time(buf *out, long long unix_s);
/* "3d 4h", "5m", "12s": a duration in seconds, short. */
void html_age(buf *out, long long secs);

#endif
