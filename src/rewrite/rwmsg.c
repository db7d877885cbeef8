/* rwmsg.c — the header fields of one message to rebuild (see rwmsg.h):
 * walks the header, hands each address-list field of a configured target
 * to header.c with the rules as its map.  Must not apply the edits or
 * log (the caller does both). */
#include "rewrite/rwmsg.h"

#include <stdlib.h>
#include <string.h>

#include "rewrite/header.h"

/* A rebuilt field may grow this much beyond twice its size (long
 * replacements of many short addresses); past it the field stays. */
#define RW_FIELD_SLACK ((size_t)16 << 10)

typedef struct map_ctx {
	const rw_rules *r;
	rw_target t;
	rw_direction d;
} map_ctx;

static char *map_address(void *arg, const char *address)
{
	const map_ctx *m = arg;
	return rw_rules_apply(m->r, m->t, m->d, address);
}

static void add_edit(rw_plan *p, size_t start, size_t end, buf *text)
{
	p->e = xrealloc(p->e, (p->n + 1) * sizeof(*p->e));
	rw_edit *e = &p->e[p->n++];
	e->start = start;
	e->end = end;
	e->len = text->len;
	e->text = buf_steal(text);
}

void rw_plan_header(const rw_rules *r, rw_direction d, const char *msg, size_t len, size_t from, rw_plan *out)
{
	memset(out, 0, sizeof(*out));
	strlist_init(&out->changed);
	strlist_init(&out->skipped);
	size_t pos = from;
	rw_field f;
	while (rw_header_next(msg, len, &pos, &f)) {
		int t = f.name_len > 0 ? rw_target_of_field(msg + f.start, f.name_len) : -1;
		if (t < 0 || !rw_rules_touch(r, (rw_target)t, d))
			continue;
		map_ctx m = {r, (rw_target)t, d};
		size_t flen = f.end - f.start;
		buf text;
		buf_init(&text, flen * 2 + RW_FIELD_SLACK);
		rw_hdr_status st = rw_header_rewrite(msg + f.start, flen, f.name_len, map_address, &m, &text);
		if (st == RW_HDR_CHANGED) {
			add_edit(out, f.start, f.end, &text);
			strlist_add(&out->changed, rw_target_name((rw_target)t));
		} else if (st != RW_HDR_SAME) {
			char *why = xasprintf("%s:%s", rw_target_name((rw_target)t),
			                      st == RW_HDR_UNREADABLE ? "unreadable" : "too-long");
			strlist_add_owned(&out->skipped, why);
		}
		buf_free(&text);
	}
}

void rw_plan_free(rw_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->e[i].text);
	free(p->e);
	p->e = NULL;
	p->n = 0;
	strlist_free(&p->changed);
	strlist_free(&p->skipped);
}

char *rw_plan_list(const strlist *l)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = 0; i < l->n; i++)
		BUF_PRINTF(&b, "%s%s", i ? "," : "", l->items[i]);
	if (l->n == 0)
		BUF_PUTC(&b, '-');
	return buf_steal(&b);
}
