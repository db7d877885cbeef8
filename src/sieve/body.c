/* body.c — the body test (RFC 5173): :raw (the undecoded body after the
 * header), :content <types> (leaf parts by "type" or "type/subtype", ""
 * for every part) and :text (the default: text parts, HTML without its
 * markup), decoded from their transfer encoding and charset by src/mime.  Each part is one value; the
 * text taken from a message is bounded by SIEVE_BODY_MAX. */
#include <string.h>

#include "mime/preview.h"
#include "mime/text.h"
#include "sieve/sieve_int.h"

#define SIEVE_BODY_MAX (4u * 1024 * 1024)

static void set_transform(sieve_opts *o, const char *tag, sieve_arg *a)
{
	o->transform = strcmp(tag, "raw") == 0 ? BT_RAW : strcmp(tag, "text") == 0 ? BT_TEXT
		     : BT_CONTENT;
	o->content = a;
}

static bool type_wanted(const mime_part *p, const strlist *types)
{
	for (size_t i = 0; i < types->n; i++) {
		const char *t = types->items[i];
		const char *slash = strchr(t, '/');
		if (*t == '\0')
			return true;
		if (slash == NULL ? str_ascii_ieq(p->type, t)
				  : str_ascii_nieq(p->type, t, (size_t)(slash - t)) &&
				    strlen(p->type) == (size_t)(slash - t) &&
				    str_ascii_ieq(p->subtype, slash + 1))
			return true;
	}
	return false;
}

static bool type_wanted(const mime_part *p, const strlist *types);

static void add_range(const mime_message *m, size_t s, size_t e, strlist *out, size_t *budget)
{
	size_t n = e > s ? e - s : 0;
	n = n > *budget ? *budget : n;
	if (n == 0)
		return;
	*budget -= n;
	strlist_add_owned(out, xstrndup(m->data + s, n));
}

/* Start of the line before offset `at` (the boundary line that ends just
 * before a child's header). */
static size_t prev_line(const char *d, size_t lo, size_t at)
{
	size_t i = at;
	if (i > lo && d[i - 1] == '\n')
		i--;
	while (i > lo && d[i - 1] != '\n')
		i--;
	return i;
}

static void outside_parts(const mime_message *m, const mime_part *p, strlist *out, size_t *budget)
{
	const char *d = m->data;
	const mime_part *last = p->children;
	while (last->next != NULL)
		last = last->next;
	size_t pro_end = prev_line(d, p->body_start, p->children->hdr_start);
	add_range(m, p->body_start, pro_end, out, budget);
	/* after the last child: its line end, the close delimiter line */
	size_t e = last->body_end;
	const char *nl = memchr(d + e, '\n', p->body_end - e);
	if (nl != NULL)
		nl = memchr(nl + 1, '\n', p->body_end - (size_t)(nl + 1 - d));
	if (nl != NULL)
		add_range(m, (size_t)(nl + 1 - d), p->body_end, out, budget);
}

static void collect(const mime_message *m, const mime_part *p, const strlist *types,
		    bool html_as_text, strlist *out, size_t *budget)
{
	if (p->message != NULL) {
		collect(m, p->message, types, html_as_text, out, budget);
		return;
	}
	if (p->multipart) {
		/* RFC 5173 5: a multipart's own text is its prologue and epilogue */
		if (type_wanted(p, types))
			outside_parts(m, p, out, budget);
		for (const mime_part *c = p->children; c != NULL; c = c->next)
			collect(m, c, types, html_as_text, out, budget);
		return;
	}
	if (!type_wanted(p, types) || *budget == 0)
		return;
	buf b;
	buf_init(&b, *budget);
	mime_part_text(m, p, p->body_end - p->body_start, &b);
	if (html_as_text && mime_part_is(p, "text", "html")) {
		/* :text means the text a reader sees (RFC 5173 5.2): no markup */
		buf plain;
		buf_init(&plain, *budget);
		(void)mime_html_text(b.data != NULL ? b.data : "", b.len, &plain);
		buf_free(&b);
		b = plain;
	}
	*budget -= b.len;
	strlist_add_owned(out, buf_steal(&b));
}

static int test_body(sieve_interp *it, const sieve_node *n)
{
	mime_message *m = sieve_msg_mime(it);
	strlist values, types;
	strlist_init(&values);
	strlist_init(&types);
	size_t budget = SIEVE_BODY_MAX;
	if (n->o.transform == BT_RAW) {
		size_t s = m->root->body_start, e = m->len;
		size_t len = e - s > budget ? budget : e - s;
		strlist_add_owned(&values, xstrndup(m->data + s, len));
	} else {
		if (n->o.transform == BT_CONTENT)
			sieve_expand_list(it, n->o.content, &types);
		else
			strlist_add(&types, "text");
		collect(m, m->root, &types, n->o.transform != BT_CONTENT, &values, &budget);
	}
	strlist keys;
	sieve_expand_list(it, n->pos[0], &keys);
	bool r = sieve_match_values(it, &n->o, &values, &keys);
	strlist_free(&values);
	strlist_free(&types);
	strlist_free(&keys);
	return r;
}

static const sieve_tag_def body_transforms[] = {
	{"raw", 0, 0, 16, set_transform}, {"content", 0, 'L', 16, set_transform},
	{"text", 0, 0, 16, set_transform}, {NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const body_tags[] = {sieve_tags_cmp, sieve_tags_match,
	body_transforms, NULL};

const sieve_def sieve_defs_body[] = {
	{"body", CAP_BODY, true, body_tags, "L", false, 0, 0, NULL, NULL, test_body},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
