/* vacform.c — the vacation form's script, written and read back (see
 * vacform.h). */
#include "web/vacform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "sieve/sieve.h"

/* The first line: how a script is known to be the form's. */
#define MARK "# yubin vacation form:"

void vacform_init(vacform *f)
{
	memset(f, 0, sizeof(*f));
	f->days = VACFORM_DAYS_DEFAULT;
	strlist_init(&f->addresses);
}

void vacform_free(vacform *f)
{
	free(f->subject);
	free(f->message);
	free(f->from);
	free(f->include);
	strlist_free(&f->addresses);
	vacform_init(f);
}

const char *vacform_parse_days(const char *s, int *days_r)
{
	if (s == NULL || s[0] == '\0') {
		*days_r = VACFORM_DAYS_DEFAULT;
		return NULL;
	}
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < VACFORM_DAYS_MIN || v > VACFORM_DAYS_MAX)
		return "The days between two replies to one sender must be a whole number from 1 to 365.";
	*days_r = (int)v;
	return NULL;
}

/* A plain addr-spec as a form field takes it: one '@' with something on
 * both sides, none of the characters that would need quoting or belong to
 * a display name, no space or control character. */
static bool plain_address(const char *a)
{
	size_t len = strlen(a);
	const char *at = strchr(a, '@');
	if (len == 0 || len > VACFORM_ADDRESS_MAX || at == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || strchr("\"\\()<>[]:;,", *p) != NULL)
			return false;
	return true;
}

const char *vacform_parse_addresses(const char *s, strlist *out)
{
	const char *sep = " \t\r\n,";
	for (const char *p = s != NULL ? s : ""; *p != '\0';) {
		p += strspn(p, sep);
		size_t n = strcspn(p, sep);
		if (n == 0)
			break;
		char *a = xstrndup(p, n);
		p += n;
		if (!plain_address(a)) {
			free(a);
			return "Each extra address must be a plain address such as name@example.org, "
			       "separated by commas or line breaks.";
		}
		if (out->n >= VACFORM_ADDRESSES_MAX) {
			free(a);
			return "At most 32 extra addresses.";
		}
		strlist_add_owned(out, a);
	}
	return NULL;
}

/* Only tab (and, where allow_lines, line ends) of the control characters. */
static bool controls_ok(const char *s, bool allow_lines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < ' ' && *p != '\t' && !(allow_lines && (*p == '\r' || *p == '\n'))) || *p == 0x7f)
			return false;
	return true;
}

const char *vacform_check(const vacform *f)
{
	if (f->days < VACFORM_DAYS_MIN || f->days > VACFORM_DAYS_MAX)
		return "The days between two replies to one sender must be a whole number from 1 to 365.";
	if (f->subject != NULL && (strlen(f->subject) > VACFORM_SUBJECT_MAX || !controls_ok(f->subject, false)))
		return "The subject must be one line of at most 256 bytes.";
	if (f->message == NULL || f->message[strspn(f->message, " \t\r\n")] == '\0')
		return "Write the message the reply carries.";
	if (!controls_ok(f->message, true))
		return "The message cannot hold control characters.";
	if (f->from != NULL && !plain_address(f->from))
		return "The reply's sender must be one of your addresses.";
	if (f->addresses.n > VACFORM_ADDRESSES_MAX)
		return "At most 32 extra addresses.";
	for (size_t i = 0; i < f->addresses.n; i++)
		if (!plain_address(f->addresses.items[i]))
			return "Each extra address must be a plain address such as name@example.org.";
	if (f->include != NULL && strchr(f->include, '/') != NULL)
		return "The active script's name holds a \"/\", which an include cannot name (RFC 6609): "
		       "rename it before turning the reply on.";
	return NULL;
}

/* A Sieve quoted string (RFC 5228 2.4.2): backslash and double quote
 * escaped, nothing else is special (no variables or encoded-character
 * extension is required by the script, so "${" stays literal). */
static void quoted(buf *b, const char *s)
{
	BUF_PUTC(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			BUF_PUTC(b, '\\');
		BUF_PUTC(b, *s);
	}
	BUF_PUTC(b, '"');
}

/* A multi-line string: "text:" CRLF, the lines with CRLF ends and a dot
 * doubled where a line starts with one, then "." CRLF.  Line ends typed
 * as LF, CRLF or CR are all one line end; trailing ones are dropped. */
static void text_block(buf *b, const char *s)
{
	size_t len = strlen(s);
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n'))
		len--;
	BUF_PUTS(b, "text:\r\n");
	bool line_start = true;
	for (size_t i = 0; i < len; i++) {
		if (line_start && s[i] == '.')
			BUF_PUTC(b, '.');
		line_start = false;
		if (s[i] == '\r' || s[i] == '\n') {
			if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
				i++;
			BUF_PUTS(b, "\r\n");
			line_start = true;
		} else {
			BUF_PUTC(b, s[i]);
		}
	}
	BUF_PUTS(b, "\r\n.\r\n");
}

char *vacform_script(const vacform *f, size_t *len_r)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, MARK " made by the Filters page of the dashboard, which writes it\r\n"
	              "# anew each time the form is saved: change it there, not here.\r\n");
	BUF_PUTS(&b, f->include != NULL ? "require [\"vacation\", \"include\"];\r\n" : "require \"vacation\";\r\n");
	BUF_PRINTF(&b, "vacation :days %d", f->days);
	if (f->subject != NULL && f->subject[0] != '\0') {
		BUF_PUTS(&b, " :subject ");
		quoted(&b, f->subject);
	}
	if (f->from != NULL) {
		BUF_PUTS(&b, " :from ");
		quoted(&b, f->from);
	}
	if (f->addresses.n > 0) {
		BUF_PUTS(&b, " :addresses [");
		for (size_t i = 0; i < f->addresses.n; i++) {
			if (i > 0)
				BUF_PUTS(&b, ", ");
			quoted(&b, f->addresses.items[i]);
		}
		BUF_PUTC(&b, ']');
	}
	BUF_PUTC(&b, ' ');
	text_block(&b, f->message);
	BUF_PUTS(&b, ";\r\n");
	if (f->include != NULL) {
		BUF_PUTS(&b, "# then the filters that were active when the reply was turned on\r\n"
		             "include :personal :optional ");
		quoted(&b, f->include);
		BUF_PUTS(&b, ";\r\n");
	}
	*len_r = b.len;
	return buf_steal(&b);
}

bool vacform_is_ours(const char *text, size_t len)
{
	return len >= strlen(MARK) && memcmp(text, MARK, strlen(MARK)) == 0;
}

/* Included scripts are not needed to read the form back: each is empty
 * here, and the first one's name is the script to go back to. */
static bool note_include(void *ctx, const char *name, bool global, char **text_r, size_t *len_r)
{
	vacform *f = ctx;
	if (!global && f->include == NULL)
		f->include = xstrdup(name);
	*text_r = xstrdup("");
	*len_r = 0;
	return true;
}

static void take_vacation(vacform *f, sieve_vacation *v)
{
	f->days = (int)(v->seconds / 86400);
	f->subject = v->subject;
	v->subject = NULL;
	f->from = v->from;
	v->from = NULL;
	for (size_t i = 0; i < v->addresses.n; i++)
		strlist_add(&f->addresses, v->addresses.items[i]);
	/* a text: block's value ends with the line end before its "." */
	size_t n = strlen(v->reason);
	if (n >= 2 && v->reason[n - 2] == '\r' && v->reason[n - 1] == '\n')
		n -= 2;
	f->message = xstrndup(v->reason, n);
}

bool vacform_read(const char *text, size_t len, vacform *f)
{
	sieve_loader loader = {note_include, f};
	sieve_script *script = NULL;
	sieve_error err = {0};
	if (!sieve_compile(text, len, &loader, &script, &err)) {
		sieve_error_free(&err);
		return false;
	}
	static const char msg[] = "From: someone@example.invalid\r\nSubject: read back\r\n\r\nx\r\n";
	sieve_message m = {msg, sizeof msg - 1};
	sieve_envelope env = {.from = "someone@example.invalid", .to = "user@example.invalid"};
	sieve_result res;
	sieve_run(script, &m, &env, NULL, &res);
	bool found = false;
	for (size_t i = 0; i < res.n && !found; i++)
		if (res.actions[i].kind == SIEVE_ACT_VACATION) {
			take_vacation(f, &res.actions[i].vac);
			found = true;
		}
	sieve_result_free(&res);
	sieve_script_free(&script);
	return found;
}
