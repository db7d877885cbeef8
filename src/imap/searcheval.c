/* searcheval.c — SEARCH and UID SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4),
 * with ESEARCH results when RETURN is given (RFC 4731), MODSEQ (RFC 7162)
 * and the saved result "$" (RFC 5182 SEARCHRES): the key tree from search.c
 * matched (searchmatch.c) against each of the session's messages on a
 * worker, a reader under the folder's gate, and the replies. */
#include "imap/session.h"

#include <stdlib.h>
#include <string.h>

#include "imap/names.h"
#include "imap/search.h"
#include "imap/ctxupdate.h"
#include "imap/searchmatch.h"
#include "lib/log.h"

typedef struct search_job {
	imap_session *s;
	store_view *v;
	char *tag;
	char *text;           /* the command, re-parsed here: the tree points into it */
	imap_command cmd;
	imap_search q;
	bool uid;
	uint32_t *uids;       /* the session's messages by number */
	size_t n;
	bool *hit;            /* per message */
	uint64_t modseq;      /* the highest of the hits, for a MODSEQ search */
	const char *no;
} search_job;

static void search_work(void *arg)
{
	search_job *j = arg;
	const mbox *mb = j->v->mb;
	uint32_t max_uid = j->n > 0 ? j->uids[j->n - 1] : 0;
	for (size_t k = 0; k < j->n; k++) {
		long i = mbox_find(mb, j->uids[k]);
		if (i < 0)
			continue; /* expunged meanwhile: matches nothing */
		imap_match_src rc = {.mb = mb, .i = (size_t)i};
		imap_match_msg m = {.m = &mb->msgs[i], .kw = &j->v->kw, .saved = j->s->saved,
		                    .n_saved = j->s->n_saved, .read = imap_match_read_mbox, .read_arg = &rc,
		                    .recent = imap_recent_has(j->s, j->uids[k])};
		j->hit[k] = imap_search_match(j->q.root, &m, (uint32_t)(k + 1), (uint32_t)j->n, max_uid);
		if (j->hit[k] && mb->msgs[i].modseq > j->modseq)
			j->modseq = mb->msgs[i].modseq;
		imap_match_msg_done(&m);
	}
}

/* PARTIAL (lo:hi set): the hits at those positions (RFC 5267 4.4).  False
 * when out is full. */
static bool write_partial(buf *out, const imap_search *q, const uint32_t *found, size_t n)
{
	if (!buf_printf(out, " PARTIAL (%u:%u ", q->partial_lo, q->partial_hi))
		return false;
	size_t hi = q->partial_hi < n ? q->partial_hi : n;
	bool ok = q->partial_lo > n ? buf_puts(out, "NIL")
	                            : imap_seqset_write(out, found + q->partial_lo - 1, hi - q->partial_lo + 1);
	return ok && buf_putc(out, ')');
}

/* RETURN (SAVE ...): "$" becomes the hits (their UIDs), or only the MIN
 * and / or MAX ones when those are asked for without ALL or COUNT (RFC
 * 5182 2.4). */
static void save_result(search_job *j, unsigned r)
{
	uint32_t *uids = xcalloc(j->n + 1, sizeof(uint32_t));
	size_t n = 0;
	for (size_t k = 0; k < j->n; k++)
		if (j->hit[k])
			uids[n++] = j->uids[k];
	bool ends_only = (r & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) &&
	                 !(r & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT));
	if (ends_only && n > 0) {
		uint32_t lo = uids[0], hi = uids[n - 1];
		n = 0;
		if (r & IMAP_SEARCH_RET_MIN)
			uids[n++] = lo;
		if ((r & IMAP_SEARCH_RET_MAX) && (n == 0 || hi != lo))
			uids[n++] = hi;
	}
	imap_saved_set(j->s, uids, n);
}

static void search_done(void *arg)
{
	search_job *j = arg;
	imap_session *s = j->s;
	uint32_t *found = xcalloc(j->n + 1, sizeof(uint32_t));
	size_t n = 0;
	for (size_t k = 0; k < j->n; k++)
		if (j->hit[k])
			found[n++] = j->uid ? j->uids[k] : (uint32_t)(k + 1);
	bool modseq = j->q.uses_modseq && n > 0;
	unsigned r = j->q.ret ? j->q.ret : IMAP_SEARCH_RET_ALL;
	if (r & IMAP_SEARCH_RET_SAVE)
		save_result(j, r);
	buf b;
	buf_init(&b, BUF_UNBOUNDED); /* one response: as long as the result */
	buf *out = &b;
	/* IMAP4rev2 has no SEARCH response: ESEARCH, ALL by default (RFC 9051 6.4.4) */
	if (r == IMAP_SEARCH_RET_SAVE) {
		/* SAVE alone: no ESEARCH response (RFC 5182 2.4) */
	} else if (!j->q.esearch && !(s->enabled & IMAP_ENABLED_REV2)) {
		BUF_PUTS(out, "* SEARCH");
		for (size_t k = 0; k < n; k++)
			BUF_PRINTF(out, " %u", found[k]);
		if (modseq)
			BUF_PRINTF(out, " (MODSEQ %llu)", (unsigned long long)j->modseq);
		BUF_PUTS(out, "\r\n");
	} else {
		BUF_PRINTF(out, "* ESEARCH (TAG \"%s\")%s", j->tag, j->uid ? " UID" : "");
		if ((r & IMAP_SEARCH_RET_MIN) && n > 0)
			BUF_PRINTF(out, " MIN %u", found[0]);
		if ((r & IMAP_SEARCH_RET_MAX) && n > 0)
			BUF_PRINTF(out, " MAX %u", found[n - 1]);
		if ((r & IMAP_SEARCH_RET_ALL) && n > 0) {
			BUF_PUTS(out, " ALL ");
			imap_seqset_write(out, found, n);
		}
		if (r & IMAP_SEARCH_RET_COUNT)
			BUF_PRINTF(out, " COUNT %zu", n);
		if (r & IMAP_SEARCH_RET_PARTIAL)
			write_partial(out, &j->q, found, n); /* full: cut, as the rest of this line */
		if (modseq)
			BUF_PRINTF(out, " MODSEQ %llu", (unsigned long long)j->modseq);
		BUF_PUTS(out, "\r\n");
	}
	conn_write(s->c, b.data, b.len);
	buf_free(&b);
	if (r & IMAP_SEARCH_RET_UPDATE)
		imap_ctx_keep(s, j->tag, j->text, j->uid, j->uids, j->hit, j->n);
	imap_tagged(s, j->tag, "OK", "%sSEARCH completed", j->uid ? "UID " : "");
	free(found);
	imap_search_free(&j->q);
	imap_command_free(&j->cmd);
	free(j->text);
	free(j->hit);
	free(j->uids);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_search_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len)
{
	search_job *j = xcalloc(1, sizeof(*j));
	/* the key tree points into the command: parse a copy this job keeps */
	j->text = xmalloc(raw_len + 1);
	memcpy(j->text, raw, raw_len);
	j->text[raw_len] = '\0';
	const char *err = NULL;
	imap_parse_opts opts = {.utf8 = imap_names_utf8(s)};
	imap_search_status st = IMAP_SEARCH_BAD;
	if (imap_command_parse(j->text, raw_len, &opts, &j->cmd, &err))
		st = imap_search_parse(j->cmd.args, &j->q, &err);
	if (st != IMAP_SEARCH_OK && (j->q.ret & IMAP_SEARCH_RET_SAVE))
		imap_saved_set(s, NULL, 0); /* a failed SEARCH ... RETURN (SAVE) empties "$" (RFC 5182 2.1) */
	if (st == IMAP_SEARCH_BADCHARSET) {
		imap_tagged(s, c->tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unknown charset");
	} else if (st != IMAP_SEARCH_OK) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid SEARCH");
	} else {
		if (j->q.uses_modseq)
			s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
		j->s = s;
		j->v = s->view;
		j->tag = xstrdup(c->tag);
		j->uid = c->uid;
		j->uids = store_viewer_uids(s->viewer, &j->n);
		j->hit = xcalloc(j->n + 1, sizeof(bool));
		conn_pause(s->c);
		store_view_run(s->view, STORE_READ, search_work, search_done, j);
		return;
	}
	imap_search_free(&j->q);
	imap_command_free(&j->cmd);
	free(j->text);
	free(j);
}
