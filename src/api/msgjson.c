/* msgjson.c — reading and checking the JSON body of POST /v1/messages (see
 * msgjson.h).  One reader per member, dispatched from a table; each names
 * the member at fault as a JSON pointer.  Must not build MIME (compose.c)
 * nor know who sends (api/messages.c checks the key's domains). */
#include "api/msgjson.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope/address.h"
#include "lib/buf.h"
#include "lib/jsonstrict.h"
#include "lib/utf8.h"

/* ---- problems ---- */

void api_problem_set(api_problem *p, int status, const char *slug, const char *title, const char *field,
                     const char *fmt, ...)
{
	api_problem_free(p);
	p->status = status;
	p->slug = slug;
	p->title = title;
	p->field = field ? xstrdup(field) : NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&p->detail, fmt, ap) < 0)
		abort();
	va_end(ap);
}

void api_problem_free(api_problem *p)
{
	free(p->detail);
	free(p->field);
	p->detail = p->field = NULL;
}

/* 422 with the usual slug and title. */
#define INVALID(p, field, ...) \
	api_problem_set(p, 422, "invalid-field", "A field of the message is not valid", field, __VA_ARGS__)

/* ---- small checks ---- */

bool msgjson_valid_email(const char *s)
{
	bool non_ascii;
	const char *at = strrchr(s, '@');
	return at != NULL && at != s && strlen(s) <= 254 && envelope_valid_mailbox(s, true, &non_ascii);
}

/* Printable text: valid UTF-8 without control characters (tab allowed
 * where tab_ok; line ends where lines_ok). */
static bool clean_text(const char *s, bool lines_ok)
{
	size_t n = strlen(s);
	if (!imap_utf8_valid(s, n))
		return false;
	for (size_t i = str_printable_run(s, n); i < n; i += 1 + str_printable_run(s + i + 1, n - i - 1)) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t' && !(lines_ok && (c == '\n' || c == '\r'))) || c == 0x7f)
			return false;
	}
	return true;
}

static char *trim_dup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

bool msgjson_parse_address(const char *s, api_addr *out)
{
	out->name = out->email = NULL;
	const char *lt = strrchr(s, '<');
	size_t n = strlen(s);
	if (lt == NULL) {
		out->email = trim_dup(s, n);
	} else {
		const char *gt = strchr(lt, '>');
		if (gt == NULL || gt[1 + strspn(gt + 1, " \t")] != '\0')
			return false;
		out->email = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		char *name = trim_dup(s, (size_t)(lt - s));
		size_t nl = strlen(name);
		if (nl >= 2 && name[0] == '"' && name[nl - 1] == '"') { /* "Name" <addr> */
			memmove(name, name + 1, nl - 2);
			name[nl - 2] = '\0';
		}
		if (*name)
			out->name = name;
		else
			free(name);
	}
	if (!msgjson_valid_email(out->email) ||
	    (out->name && (strlen(out->name) > MSGJSON_NAME_MAX || !clean_text(out->name, false)))) {
		free(out->name);
		free(out->email);
		out->name = out->email = NULL;
		return false;
	}
	return true;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

bool msgjson_base64_decode(const char *s, size_t len, char **out_r, size_t *len_r)
{
	unsigned char *out = xmalloc(len / 4 * 3 + 3);
	size_t n = 0, q = 0, pad = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64val(c);
		if (v < 0 || pad > 0)
			goto bad; /* a stray byte, or data after padding */
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			q = 0;
			acc = 0;
		}
	}
	/* the last quantum: 2 or 3 characters with the right padding */
	if (q == 1 || (q == 0 && pad > 0) || (q > 0 && pad > 0 && q + pad != 4) || pad > 2)
		goto bad;
	if (q == 2) {
		out[n++] = (unsigned char)(acc >> 4);
	} else if (q == 3) {
		out[n++] = (unsigned char)(acc >> 10);
		out[n++] = (unsigned char)(acc >> 2);
	}
	*out_r = (char *)out;
	*len_r = n;
	return true;
bad:
	free(out);
	return false;
}

bool msgjson_header_reserved(const char *name)
{
	static const char *const own[] = {
		"from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
		"mime-version", "return-path", "received", "dkim-signature",
	};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
		if (str_ascii_ieq(name, own[i]))
			return true;
	return str_ascii_nieq(name, "content-", 8) || str_ascii_nieq(name, "x-yubin-", 8);
}

/* RFC 5322 3.6.8 field-name: printable ASCII but ':'. */
static bool valid_field_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 76)
		return false;
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == ':')
			return false;
	return true;
}

/* ---- the members ---- */

typedef struct reader {
	const msgjson_limits *lim;
	api_msg *m;
	api_problem *p;
	size_t n_rcpts;
	int64_t size;          /* decoded bytes so far */
} reader;

static char *ptr2(const char *a, size_t i)
{
	return xasprintf("%s/%zu", a, i);
}

/* base + "/" + key as a JSON pointer (RFC 6901 3: '~' as ~0, '/' as ~1). */
static char *ptr_key(const char *base, const char *key)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, base);
	BUF_PUTC(&b, '/');
	for (const char *k = key; *k; k++)
		if (*k == '~')
			BUF_PUTS(&b, "~0");
		else if (*k == '/')
			BUF_PUTS(&b, "~1");
		else
			BUF_PUTC(&b, *k);
	return buf_steal(&b);
}

/* The string v holds, or NULL (jsonstrict refused \u0000, so strlen is
 * its length). */
static const char *jstr(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static size_t jcount(const cJSON *v)
{
	size_t n = 0;
	for (const cJSON *c = v->child; c != NULL; c = c->next)
		n++;
	return n;
}

static const cJSON *jget(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* One address (string or {name, email}) at pointer at. */
static bool read_address(reader *rd, const cJSON *v, const char *at, api_addr *out)
{
	if (cJSON_IsString(v)) {
		if (msgjson_parse_address(jstr(v), out))
			return true;
		INVALID(rd->p, at, "\"%s\" is not an address (\"Name <local@domain>\" or \"local@domain\")",
		        jstr(v));
		return false;
	}
	if (!cJSON_IsObject(v)) {
		INVALID(rd->p, at, "an address is a string or an object with \"email\" and \"name\"");
		return false;
	}
	const cJSON *x;
	cJSON_ArrayForEach(x, v) {
		const char *key = x->string;
		if (strcmp(key, "name") != 0 && strcmp(key, "email") != 0) {
			char *f = ptr_key(at, key);
			INVALID(rd->p, f, "unknown member \"%s\" of an address", key);
			free(f);
			return false;
		}
	}
	const cJSON *email = jget(v, "email"), *name = jget(v, "name");
	char *f = xasprintf("%s/email", at);
	bool ok = false;
	if (!cJSON_IsString(email))
		INVALID(rd->p, f, "an address needs \"email\" (a string)");
	else if (!msgjson_valid_email(jstr(email)))
		INVALID(rd->p, f, "\"%s\" is not a valid address", jstr(email));
	else
		ok = true;
	free(f);
	if (!ok)
		return false;
	if (name != NULL && !cJSON_IsNull(name)) {
		const char *s = jstr(name);
		if (s == NULL || strlen(s) > MSGJSON_NAME_MAX || !clean_text(s, false)) {
			f = xasprintf("%s/name", at);
			INVALID(rd->p, f, "a name is a string of at most %d bytes without control characters",
			        MSGJSON_NAME_MAX);
			free(f);
			return false;
		}
		if (*s)
			out->name = xstrdup(s);
	}
	out->email = xstrdup(jstr(email));
	return true;
}

/* An array of addresses (or, with single_ok, one address). */
static bool read_addrs(reader *rd, const cJSON *v, const char *at, api_addrs *out, bool single_ok, bool rcpts)
{
	if (single_ok && !cJSON_IsArray(v)) {
		out->v = xcalloc(1, sizeof(api_addr));
		out->n = 1;
		return read_address(rd, v, at, &out->v[0]);
	}
	if (!cJSON_IsArray(v)) {
		INVALID(rd->p, at, "a list of addresses is an array");
		return false;
	}
	size_t n = jcount(v);
	if (rcpts && rd->n_rcpts + n > rd->lim->max_recipients) {
		INVALID(rd->p, at, "too many recipients: at most %zu in to, cc and bcc together",
		        rd->lim->max_recipients);
		return false;
	}
	rd->n_rcpts += rcpts ? n : 0;
	out->v = xcalloc(n ? n : 1, sizeof(api_addr));
	size_t i = 0;
	for (const cJSON *x = v->child; x != NULL; x = x->next, i++) {
		char *f = ptr2(at, i);
		bool ok = read_address(rd, x, f, &out->v[i]);
		free(f);
		out->n = i + 1;
		if (!ok)
			return false;
	}
	return true;
}

static bool m_from(reader *rd, const cJSON *v)
{
	return read_address(rd, v, "/from", &rd->m->from);
}

static bool m_to(reader *rd, const cJSON *v)
{
	return read_addrs(rd, v, "/to", &rd->m->to, false, true);
}

static bool m_cc(reader *rd, const cJSON *v)
{
	return read_addrs(rd, v, "/cc", &rd->m->cc, false, true);
}

static bool m_bcc(reader *rd, const cJSON *v)
{
	return read_addrs(rd, v, "/bcc", &rd->m->bcc, false, true);
}

static bool m_reply_to(reader *rd, const cJSON *v)
{
	return read_addrs(rd, v, "/reply_to", &rd->m->reply_to, true, false);
}

/* A string member of at most max bytes (0: only the size limit). */
static bool read_string(reader *rd, const cJSON *v, const char *at, size_t max, bool lines, char **out)
{
	const char *s = jstr(v);
	if (s == NULL) {
		INVALID(rd->p, at, "%s must be a string", at + 1);
		return false;
	}
	size_t n = strlen(s);
	if (max > 0 && n > max) {
		INVALID(rd->p, at, "%s is longer than %zu bytes", at + 1, max);
		return false;
	}
	if (!clean_text(s, lines)) {
		INVALID(rd->p, at, "%s holds control characters", at + 1);
		return false;
	}
	rd->size += (int64_t)n;
	*out = xstrdup(s);
	return true;
}

static bool m_subject(reader *rd, const cJSON *v)
{
	return read_string(rd, v, "/subject", MSGJSON_SUBJECT_MAX, false, &rd->m->subject);
}

static bool m_text(reader *rd, const cJSON *v)
{
	return read_string(rd, v, "/text", 0, true, &rd->m->text);
}

static bool m_html(reader *rd, const cJSON *v)
{
	return read_string(rd, v, "/html", 0, true, &rd->m->html);
}

/* "type/subtype" of RFC 2045 tokens, lower-cased into out. */
static bool valid_content_type(const char *s, char **out)
{
	static const char tspecials[] = "()<>@,;:\\\"/[]?=";
	size_t slashes = 0, n = strlen(s);
	if (n == 0 || n > 127)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '/' && p != s && p[1] != '\0' && slashes++ == 0)
			continue;
		if (*p <= ' ' || *p >= 0x7f || strchr(tspecials, *p) != NULL)
			return false;
	}
	if (slashes != 1)
		return false;
	*out = xstrdup(s);
	str_ascii_lower(*out);
	return true;
}

static bool read_attachment(reader *rd, const cJSON *v, size_t i, api_attachment *a)
{
	char *at = ptr2("/attachments", i), *f = NULL;
	bool ok = false;
	const cJSON *x;
	if (!cJSON_IsObject(v)) {
		INVALID(rd->p, at, "an attachment is an object with filename, content_type and content");
		goto out;
	}
	cJSON_ArrayForEach(x, v) {
		const char *key = x->string;
		if (strcmp(key, "filename") && strcmp(key, "content_type") && strcmp(key, "content")) {
			f = ptr_key(at, key);
			INVALID(rd->p, f, "unknown member \"%s\" of an attachment", key);
			goto out;
		}
	}
	const char *name = jstr(jget(v, "filename"));
	f = xasprintf("%s/filename", at);
	if (name == NULL || *name == '\0' || strlen(name) > MSGJSON_FILENAME_MAX || !clean_text(name, false) ||
	    strpbrk(name, "/\\") != NULL) {
		INVALID(rd->p, f, "filename must be a name of 1 to %d bytes, without '/', '\\' or control characters",
		        MSGJSON_FILENAME_MAX);
		goto out;
	}
	a->filename = xstrdup(name);
	free(f);
	f = xasprintf("%s/content_type", at);
	const cJSON *ct = jget(v, "content_type");
	if (ct == NULL) {
		a->content_type = xstrdup("application/octet-stream");
	} else if (!cJSON_IsString(ct) || !valid_content_type(jstr(ct), &a->content_type)) {
		INVALID(rd->p, f, "content_type must be a media type \"type/subtype\"");
		goto out;
	}
	free(f);
	f = xasprintf("%s/content", at);
	const cJSON *c = jget(v, "content");
	if (!cJSON_IsString(c)) {
		INVALID(rd->p, f, "content must be a string in base64");
		goto out;
	}
	if (!msgjson_base64_decode(jstr(c), strlen(jstr(c)), &a->data, &a->len)) {
		INVALID(rd->p, f, "content is not valid base64 (RFC 4648)");
		goto out;
	}
	rd->size += (int64_t)a->len;
	ok = true;
out:
	free(at);
	free(f);
	return ok;
}

static bool m_attachments(reader *rd, const cJSON *v)
{
	if (!cJSON_IsArray(v) || jcount(v) > MSGJSON_ATTACHMENTS_MAX) {
		INVALID(rd->p, "/attachments", "attachments is an array of at most %d objects",
		        MSGJSON_ATTACHMENTS_MAX);
		return false;
	}
	size_t n = jcount(v);
	rd->m->att = xcalloc(n ? n : 1, sizeof(api_attachment));
	size_t i = 0;
	for (const cJSON *x = v->child; x != NULL; x = x->next, i++) {
		rd->m->n_att = i + 1;
		if (!read_attachment(rd, x, i, &rd->m->att[i]))
			return false;
	}
	return true;
}

static bool m_headers(reader *rd, const cJSON *v)
{
	if (!cJSON_IsObject(v) || jcount(v) > MSGJSON_HEADERS_MAX) {
		INVALID(rd->p, "/headers", "headers is an object of at most %d \"Name\": \"value\" members",
		        MSGJSON_HEADERS_MAX);
		return false;
	}
	rd->m->hdr = xcalloc(jcount(v) + 1, sizeof(api_field));
	const cJSON *x;
	cJSON_ArrayForEach(x, v) {
		const char *key = x->string;
		char *f = ptr_key("/headers", key);
		const char *val = jstr(x);
		bool ok = false;
		if (!valid_field_name(key))
			INVALID(rd->p, f, "\"%s\" is not a header field name", key);
		else if (msgjson_header_reserved(key))
			INVALID(rd->p, f, "%s is written by yubin (use the message's own members)", key);
		else if (val == NULL || strlen(val) > MSGJSON_HEADER_VALUE_MAX || !clean_text(val, false))
			INVALID(rd->p, f, "a header value is a string of at most %d bytes on one line",
			        MSGJSON_HEADER_VALUE_MAX);
		else
			ok = true;
		free(f);
		if (!ok)
			return false;
		api_field *h = &rd->m->hdr[rd->m->n_hdr++];
		h->name = xstrdup(key);
		h->value = xstrdup(val);
	}
	return true;
}

static bool m_tags(reader *rd, const cJSON *v)
{
	if (!cJSON_IsArray(v) || jcount(v) > MSGJSON_TAGS_MAX) {
		INVALID(rd->p, "/tags", "tags is an array of at most %d strings", MSGJSON_TAGS_MAX);
		return false;
	}
	size_t i = 0;
	for (const cJSON *x = v->child; x != NULL; x = x->next, i++) {
		const char *t = jstr(x);
		bool ok = t != NULL && *t && strlen(t) <= MSGJSON_TAG_MAX && strchr(t, ',') == NULL;
		for (const char *p = t; ok && *p; p++)
			ok = *p > ' ' && *p < 0x7f;
		if (!ok) {
			char *f = ptr2("/tags", i);
			INVALID(rd->p, f, "a tag is 1 to %d printable ASCII characters without blanks or commas",
			        MSGJSON_TAG_MAX);
			free(f);
			return false;
		}
		strlist_add(&rd->m->tags, t);
	}
	return true;
}

static bool m_metadata(reader *rd, const cJSON *v)
{
	if (!cJSON_IsObject(v) || jcount(v) > MSGJSON_META_MAX) {
		INVALID(rd->p, "/metadata", "metadata is an object of at most %d string members", MSGJSON_META_MAX);
		return false;
	}
	rd->m->meta = xcalloc(jcount(v) + 1, sizeof(api_field));
	const cJSON *x;
	cJSON_ArrayForEach(x, v) {
		const char *key = x->string;
		bool ok = *key && strlen(key) <= MSGJSON_META_KEY_MAX;
		for (const char *p = key; ok && *p; p++)
			ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
		const char *val = jstr(x);
		char *f = ptr_key("/metadata", key);
		if (!ok) {
			INVALID(rd->p, f, "a metadata key is 1 to %d of A-Z a-z 0-9 - _", MSGJSON_META_KEY_MAX);
		} else if (val == NULL || strlen(val) > MSGJSON_META_VALUE_MAX || !clean_text(val, false)) {
			INVALID(rd->p, f, "a metadata value is a string of at most %d bytes on one line",
			        MSGJSON_META_VALUE_MAX);
			ok = false;
		}
		free(f);
		if (!ok)
			return false;
		api_field *h = &rd->m->meta[rd->m->n_meta++];
		h->name = xstrdup(key);
		h->value = xstrdup(val);
	}
	return true;
}

static bool m_require_tls(reader *rd, const cJSON *v)
{
	if (!cJSON_IsBool(v)) {
		INVALID(rd->p, "/require_tls", "require_tls is true or false");
		return false;
	}
	rd->m->require_tls = cJSON_IsTrue(v);
	return true;
}

static const struct {
	const char *name;
	bool (*read)(reader *rd, const cJSON *v);
} members[] = {
	{"from", m_from},       {"to", m_to},         {"cc", m_cc},
	{"bcc", m_bcc},         {"reply_to", m_reply_to}, {"subject", m_subject},
	{"text", m_text},       {"html", m_html},     {"attachments", m_attachments},
	{"headers", m_headers}, {"tags", m_tags},     {"metadata", m_metadata},
	{"require_tls", m_require_tls},
};

static bool read_members(reader *rd, const cJSON *root)
{
	cJSON *v;
	cJSON_ArrayForEach(v, root) {
		const char *key = v->string;
		size_t i = 0;
		while (i < sizeof members / sizeof members[0] && strcmp(members[i].name, key) != 0)
			i++;
		if (i == sizeof members / sizeof members[0]) {
			char *f = ptr_key("", key);
			INVALID(rd->p, f, "unknown member \"%s\"", key);
			free(f);
			return false;
		}
		if (cJSON_IsNull(v))
			continue;
		if (!members[i].read(rd, v))
			return false;
	}
	return true;
}

bool msgjson_parse(const char *body, size_t len, const msgjson_limits *lim, api_msg *out, api_problem *p)
{
	memset(out, 0, sizeof(*out));
	strlist_init(&out->tags);
	json_strict_error err;
	cJSON *root = json_strict_parse(body, len, &err);
	if (root == NULL) {
		if (err.line > 0)
			api_problem_set(p, 400, "malformed-json", "The body is not valid JSON", NULL,
			                "line %d, column %d: %s", err.line, err.column, err.text);
		else
			api_problem_set(p, 400, "malformed-json", "The body is not valid JSON", NULL, "%s", err.text);
		return false;
	}
	reader rd = {lim, out, p, 0, 0};
	bool ok = false;
	if (!cJSON_IsObject(root))
		INVALID(p, "", "the body must be a JSON object");
	else if (read_members(&rd, root)) {
		if (out->from.email == NULL)
			INVALID(p, "/from", "from is required");
		else if (rd.n_rcpts == 0)
			INVALID(p, "/to", "at least one recipient is required (to, cc or bcc)");
		else if (out->text == NULL && out->html == NULL)
			INVALID(p, "/text", "the message needs text or html (or both)");
		else if (rd.size > lim->max_size)
			api_problem_set(p, 413, "too-large", "The message is too large", NULL,
			                "its parts add up to %lld bytes; at most %lld are taken", (long long)rd.size,
			                (long long)lim->max_size);
		else
			ok = true;
	}
	cJSON_Delete(root);
	return ok;
}

static void addrs_free(api_addrs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].email);
	}
	free(a->v);
}

static void fields_free(api_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

void api_msg_free(api_msg *m)
{
	free(m->from.name);
	free(m->from.email);
	addrs_free(&m->to);
	addrs_free(&m->cc);
	addrs_free(&m->bcc);
	addrs_free(&m->reply_to);
	free(m->subject);
	free(m->text);
	free(m->html);
	for (size_t i = 0; i < m->n_att; i++) {
		free(m->att[i].filename);
		free(m->att[i].content_type);
		free(m->att[i].data);
	}
	free(m->att);
	fields_free(m->hdr, m->n_hdr);
	fields_free(m->meta, m->n_meta);
	strlist_free(&m->tags);
	memset(m, 0, sizeof(*m));
}
