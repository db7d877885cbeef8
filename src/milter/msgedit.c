/* msgedit.c — the header fields and body of a message, changed as milters
 * ask, and the byte-range edits that make the original into the result
 * (see msgedit.h).  Knows nothing of the protocol or the spool. */
#include "milter/msgedit.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"

static milter_field *grow(milter_msg *m, size_t at)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->f = xrealloc(m->f, m->cap * sizeof(*m->f));
	}
	memmove(m->f + at + 1, m->f + at, (m->n - at) * sizeof(*m->f));
	m->n++;
	memset(&m->f[at], 0, sizeof(m->f[at]));
	return &m->f[at];
}

/* The end of the line that starts at p (after its LF, or the end). */
static size_t line_end(const char *msg, size_t len, size_t p)
{
	const char *nl = memchr(msg + p, '\n', len - p);
	return nl ? (size_t)(nl - msg) + 1 : len;
}

void milter_msg_parse(milter_msg *m, const char *msg, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->orig = msg;
	m->orig_len = len;
	size_t p = 0;
	while (p < len && msg[p] != '\n' && !(msg[p] == '\r' && p + 1 < len && msg[p + 1] == '\n')) {
		size_t e = line_end(msg, len, p);
		const char *colon = memchr(msg + p, ':', e - p);
		if (colon == NULL || msg[p] == ' ' || msg[p] == '\t')
			break; /* not a field: the header ends here */
		while (e < len && (msg[e] == ' ' || msg[e] == '\t'))
			e = line_end(msg, len, e);
		size_t nlen = (size_t)(colon - (msg + p));
		while (nlen > 0 && (msg[p + nlen - 1] == ' ' || msg[p + nlen - 1] == '\t'))
			nlen--;
		size_t vstart = (size_t)(colon - msg) + 1, vend = e;
		while (vend > vstart && (msg[vend - 1] == '\n' || msg[vend - 1] == '\r'))
			vend--;
		milter_field *f = grow(m, m->n);
		*f = (milter_field){.name = xstrndup(msg + p, nlen), .value = xstrndup(msg + vstart, vend - vstart),
		                    .start = p, .end = e, .orig = true};
		p = e;
	}
	m->hdr_end = p;
	m->body_start = p < len ? line_end(msg, len, p) : len;
	if (p < len && msg[p] != '\n' && msg[p] != '\r') /* no empty line: what follows is body */
		m->body_start = p;
}

void milter_msg_free(milter_msg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].name);
		free(m->f[i].value);
	}
	free(m->f);
	free(m->body);
	free(m->prev_body);
	memset(m, 0, sizeof(*m));
}

size_t milter_msg_count(const milter_msg *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		n += !m->f[i].deleted;
	return n;
}

/* The index in m->f of the k-th live field, or m->n. */
static size_t live_index(const milter_msg *m, size_t k)
{
	for (size_t i = 0; i < m->n; i++)
		if (!m->f[i].deleted && k-- == 0)
			return i;
	return m->n;
}

const milter_field *milter_msg_field(const milter_msg *m, size_t k)
{
	size_t i = live_index(m, k);
	return i < m->n ? &m->f[i] : NULL;
}

char *milter_msg_value(const char *value, bool leadspc)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	if (!leadspc)
		BUF_PUTC(&b, ' ');
	for (const char *p = value; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue; /* the LF comes next */
		if (*p != '\r' && *p != '\n') {
			BUF_PUTC(&b, *p);
			continue;
		}
		/* a line break: never an empty line (it would end the header)
		 * and never a last one; the next line is a continuation */
		char next = p[1];
		if (next == '\0' || next == '\r' || next == '\n')
			continue;
		BUF_PUTC(&b, '\n');
		if (next != ' ' && next != '\t')
			BUF_PUTC(&b, '\t');
	}
	return buf_steal(&b);
}

static void set_field(milter_field *f, const char *name, const char *value)
{
	free(f->name);
	free(f->value);
	f->name = xstrdup(name);
	f->value = xstrdup(value);
}

void milter_msg_add(milter_msg *m, const char *name, const char *value)
{
	set_field(grow(m, m->n), name, value);
}

void milter_msg_insert(milter_msg *m, size_t idx, const char *name, const char *value)
{
	set_field(grow(m, live_index(m, idx)), name, value);
}

void milter_msg_change(milter_msg *m, size_t idx, const char *name, const char *value)
{
	size_t seen = 0;
	for (size_t i = 0; i < m->n; i++) {
		milter_field *f = &m->f[i];
		if (f->deleted || !str_ascii_ieq(f->name, name) || ++seen != idx)
			continue;
		if (value[0] == '\0' || strspn(value, " \t\r\n") == strlen(value)) {
			f->deleted = true;
		} else {
			free(f->value);
			f->value = xstrdup(value);
			f->changed = true;
		}
		return;
	}
	if (value[0] != '\0' && strspn(value, " \t\r\n") != strlen(value))
		milter_msg_add(m, name, value);
}

bool milter_msg_body_start(milter_msg *m)
{
	free(m->prev_body);
	m->prev_body = m->body;
	m->prev_len = m->body_len;
	m->prev_replaced = m->body_replaced;
	m->body = NULL;
	m->body_len = 0;
	m->body_replaced = true;
	return true;
}

void milter_msg_body_undo(milter_msg *m)
{
	free(m->body);
	m->body = m->prev_body;
	m->body_len = m->prev_len;
	m->body_replaced = m->prev_replaced;
	m->prev_body = NULL;
	m->prev_len = 0;
	m->prev_replaced = false;
}

bool milter_msg_body_add(milter_msg *m, const char *data, size_t len, size_t max)
{
	if (len > max || m->body_len > max - len)
		return false;
	m->body = xrealloc(m->body, m->body_len + len + 1);
	size_t w = m->body_len;
	for (size_t i = 0; i < len; i++) {
		/* CR LF -> LF; a CR LF split between two chunks leaves the CR
		 * last, dropped when the LF comes */
		if (data[i] == '\n' && w > 0 && m->body[w - 1] == '\r')
			w--;
		m->body[w++] = data[i];
	}
	m->body_len = w;
	m->body[w] = '\0';
	return true;
}

const char *milter_msg_body(const milter_msg *m, size_t *len_r)
{
	if (m->body_replaced) {
		*len_r = m->body_len;
		return m->body ? m->body : "";
	}
	*len_r = m->orig_len - m->body_start;
	return m->orig + m->body_start;
}

bool milter_msg_changed(const milter_msg *m)
{
	if (m->body_replaced)
		return true;
	for (size_t i = 0; i < m->n; i++)
		if (!m->f[i].orig || m->f[i].changed || m->f[i].deleted)
			return true;
	return false;
}

static void put_field(buf *b, const milter_field *f)
{
	BUF_PRINTF(b, "%s:%s\n", f->name, f->value);
}

void milter_msg_edits(const milter_msg *m, milter_edit_fn *edit, void *arg)
{
	buf ins;
	buf_init(&ins, BUF_UNBOUNDED);
	for (size_t i = 0; i < m->n; i++) {
		const milter_field *f = &m->f[i];
		if (!f->orig) {
			if (!f->deleted)
				put_field(&ins, f);
			continue;
		}
		if (!f->changed && !f->deleted) {
			if (ins.len > 0)
				edit(arg, f->start, f->start, ins.data, ins.len);
			buf_clear(&ins);
			continue;
		}
		if (f->changed && !f->deleted)
			put_field(&ins, f);
		edit(arg, f->start, f->end, ins.len ? ins.data : "", ins.len);
		buf_clear(&ins);
	}
	if (ins.len > 0)
		edit(arg, m->hdr_end, m->hdr_end, ins.data, ins.len);
	if (m->body_replaced && (m->body_len > 0 || m->orig_len > m->body_start)) {
		/* a message without an empty line gets one before its new body */
		bool sep = m->body_start == m->hdr_end && m->body_len > 0;
		buf nb;
		buf_init(&nb, BUF_UNBOUNDED);
		if (sep)
			BUF_PUTC(&nb, '\n');
		if (m->body_len > 0)
			BUF_APPEND(&nb, m->body, m->body_len);
		if (nb.len > 0 || m->orig_len > m->body_start)
			edit(arg, m->body_start, m->orig_len, nb.len ? nb.data : "", nb.len);
		buf_free(&nb);
	}
	buf_free(&ins);
}
