/* cmd_sort.c — SORT and UID SORT (RFC 5256 with RFC 5957's DISPLAYFROM and
 * DISPLAYTO): "SORT [RETURN (opts)] (criteria) charset keys".  Without
 * RETURN the answer is "* SORT n..." in sort order; with it (ESORT, RFC
 * 5267 3) an ESEARCH response: MIN and MAX are the first and the last
 * message in sort order, ALL the sorted set (consecutive ascending runs
 * written n:m), COUNT how many.  The work is sortjob.c's. */
#include "imap/session.h"

#include <stdlib.h>

#include "imap/args.h"
#include "imap/sortjob.h"
#include "lib/log.h"
#include "lib/strutil.h"

/* The whole answer may be long (one number per message): it goes out by
 * conn_write. */
#define SORT_REPLY_MAX ((size_t)64 << 20)

static uint32_t id_of(const imap_sortjob *j, size_t k)
{
	return j->uid ? j->hits[k].uid : j->hits[k].seq;
}

/* The hits' numbers in sort order (malloc'd). */
static uint32_t *sorted_ids(const imap_sortjob *j)
{
	uint32_t *v = xcalloc(j->nhits + 1, sizeof(uint32_t));
	for (size_t k = 0; k < j->nhits; k++)
		v[k] = id_of(j, k);
	return v;
}

static bool write_esort(buf *out, const imap_sortjob *j)
{
	unsigned r = j->q.ret;
	size_t n = j->nhits;
	bool ok = buf_printf(out, "* ESEARCH (TAG \"%s\")%s", j->tag, j->uid ? " UID" : "");
	if (ok && (r & IMAP_SEARCH_RET_MIN) && n > 0)
		ok = buf_printf(out, " MIN %u", id_of(j, 0));
	if (ok && (r & IMAP_SEARCH_RET_MAX) && n > 0)
		ok = buf_printf(out, " MAX %u", id_of(j, n - 1));
	if (ok && (r & IMAP_SEARCH_RET_ALL) && n > 0) {
		uint32_t *ids = sorted_ids(j);
		ok = buf_puts(out, " ALL ") && imap_seqset_write(out, ids, n);
		free(ids);
	}
	if (ok && (r & IMAP_SEARCH_RET_COUNT))
		ok = buf_printf(out, " COUNT %zu", n);
	return ok && buf_puts(out, "\r\n");
}

static void sort_finish(imap_sortjob *j)
{
	imap_sort_run(j->hits, j->nhits, &j->prog);
	buf out;
	buf_init(&out, SORT_REPLY_MAX);
	bool ok;
	if (j->q.esearch) {
		ok = write_esort(&out, j);
	} else {
		ok = buf_puts(&out, "* SORT");
		for (size_t k = 0; ok && k < j->nhits; k++)
			ok = buf_printf(&out, " %u", id_of(j, k));
		ok = ok && buf_puts(&out, "\r\n");
	}
	if (ok) {
		conn_write(j->s->c, out.data, out.len);
		imap_tagged(j->s, j->tag, "OK", "%sSORT completed", j->uid ? "UID " : "");
	} else {
		log_event(LOG_LVL_WARN, "imap", "sid=%s sort=too_long hits=%zu", j->s->sid, j->nhits);
		imap_tagged(j->s, j->tag, "NO", "[LIMIT] The SORT result is too long");
	}
	buf_free(&out);
}

static bool needs_header(const imap_sort_prog *p)
{
	for (size_t k = 0; k < p->n; k++)
		if (p->c[k].key != IMAP_SORT_ARRIVAL && p->c[k].key != IMAP_SORT_SIZE)
			return true;
	return false;
}

void imap_sort_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len)
{
	imap_sortjob *j = imap_sortjob_new(s, c, raw, raw_len);
	if (j == NULL)
		return;
	const imap_arg *a = j->cmd.args;
	const char *err = NULL;
	if (imap_arg_atom_is(a, "RETURN")) {
		if (!imap_search_parse_return(a->next, &j->q, &err) ||
		    (j->q.ret & (IMAP_SEARCH_RET_SAVE | IMAP_SEARCH_RET_PARTIAL | IMAP_SEARCH_RET_UPDATE))) {
			imap_tagged(s, j->tag, "BAD", "%s", err ? err : "SORT takes MIN, MAX, ALL and COUNT.");
			imap_sortjob_free(&j);
			return;
		}
		a = a->next->next;
	}
	if (!imap_sort_parse_criteria(a, &j->prog, &err)) {
		imap_tagged(s, j->tag, "BAD", "%s", err);
		imap_sortjob_free(&j);
		return;
	}
	if (!imap_sortjob_charset(j, a->next) || !imap_sortjob_keys(j, a->next->next)) {
		imap_sortjob_free(&j);
		return;
	}
	j->need_header = needs_header(&j->prog);
	imap_sortjob_run(j, sort_finish);
}
