/* qresync_cmd.c — what a QRESYNC session (RFC 7162 3.2) is sent: the
 * VANISHED (EARLIER) and FETCH responses of SELECT / EXAMINE with the
 * QRESYNC parameter, VANISHED (EARLIER) for UID FETCH (CHANGEDSINCE n
 * VANISHED), and VANISHED in place of EXPUNGE.  The set arithmetic is in
 * qresync.c; the expunged list with its mod-sequences in store/index.c.
 * The work functions run on workers inside the folder's gate. */
#include "imap/session.h"

#include <stdlib.h>

#include "imap/qresync.h"
#include "lib/log.h"

/* The UIDs of the folder's messages now, ascending. */
static uint32_t *present_uids(const mbox *mb)
{
	uint32_t *p = xcalloc(mb->n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < mb->n; i++)
		p[i] = mb->msgs[i].uid;
	return p;
}

/* "* VANISHED (EARLIER) set" for the messages of known (resolved; NULL: all)
 * that went after since, above `above` when the answer is not exact. */
static void vanished_earlier(store_view *v, uint64_t since, const imap_seqset *known,
                             uint32_t above, buf *out)
{
	uint32_t *gone = NULL;
	size_t ngone = 0;
	bool exact = false;
	if (!store_index_vanished(v->ix, since, &gone, &ngone, &exact))
		log_event(LOG_LVL_WARN, "imap", "path=%s error=%s", store_view_path(v),
		          "cannot read the expunged list; answering VANISHED with a superset");
	uint32_t *present = exact ? NULL : present_uids(v->mb);
	size_t mark = out->len;
	bool ok = buf_puts(out, "* VANISHED (EARLIER) ");
	if (ok && imap_vanished_set(out, gone, ngone, exact, present, v->mb->n, v->mb->uidnext, known,
	                            exact ? 0 : above))
		ok = buf_puts(out, "\r\n");
	else
		ok = false;
	if (!ok)
		buf_truncate(out, mark);
	free(present);
	free(gone);
}

static bool resyncs(const store_view *v, const imap_select_params *p)
{
	/* another UIDVALIDITY: a plain SELECT (RFC 7162 3.2.5) */
	return p->qresync && v->mb != NULL && v->mb->uidvalidity == p->uidvalidity;
}

void imap_qresync_select_work(store_view *v, const imap_select_params *p, buf *out)
{
	if (!resyncs(v, p))
		return;
	const imap_seqset *known = p->has_known ? &p->known : NULL;
	uint32_t *present = present_uids(v->mb);
	uint32_t above = imap_qresync_match_floor(p, present, v->mb->n);
	free(present);
	vanished_earlier(v, p->modseq, known, above, out);
}

void imap_qresync_select_fetches(imap_session *s, const imap_select_params *p)
{
	const store_view *v = s->view;
	if (!resyncs(v, p))
		return;
	const imap_seqset *known = p->has_known ? &p->known : NULL;
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	for (size_t i = 0; i < v->mb->n; i++) {
		const mbox_msg *m = &v->mb->msgs[i];
		if (m->modseq <= p->modseq || (known && !imap_seqset_contains(known, m->uid, UINT32_MAX)))
			continue;
		BUF_PRINTF(&out, "* %zu FETCH (UID %u FLAGS ", i + 1, m->uid);
		imap_write_flags(&out, s, v, m);
		BUF_PRINTF(&out, " MODSEQ (%llu))\r\n", (unsigned long long)m->modseq);
	}
	conn_write(s->c, out.data, out.len);
	buf_free(&out);
}

void imap_qresync_fetch_work(store_view *v, uint64_t since, const imap_seqset *uids,
                             const uint32_t *saved, size_t n_saved, buf *out)
{
	imap_seqset known;
	if (uids->searchres) { /* "$": the saved result, one range per UID */
		known.searchres = false;
		known.n = n_saved;
		known.ranges = xcalloc(n_saved + 1, sizeof(*known.ranges));
		for (size_t i = 0; i < n_saved; i++)
			known.ranges[i] = (imap_seq_range){saved[i], saved[i]};
	} else {
		/* "*" reaches to the last UID given out, so that 1:* covers every
		 * message that went */
		imap_seqset_resolve(uids, v->mb->uidnext > 1 ? v->mb->uidnext - 1 : 1, &known);
	}
	vanished_earlier(v, since, &known, 0, out);
	imap_seqset_free(&known);
}

void imap_report_vanished(imap_session *s, const uint32_t *uids, size_t n)
{
	buf line;
	buf_init(&line, BUF_UNBOUNDED);
	if (buf_puts(&line, "* VANISHED ") && imap_write_uid_set(&line, uids, n) && buf_puts(&line, "\r\n"))
		conn_write(s->c, line.data, line.len);
	buf_free(&line);
}
