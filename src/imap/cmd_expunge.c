/* cmd_expunge.c — EXPUNGE, UID EXPUNGE (RFC 4315) and CLOSE, as writers
 * on the folder: the messages the session knows that carry \Deleted (and,
 * for UID EXPUNGE, are in the set) are removed; the EXPUNGE responses then
 * come from the session's report, which also tells what others did. */
#include "imap/session.h"

#include <stdlib.h>

#include "lib/log.h"
#include "store/mdname.h"

typedef struct expunge_job {
	imap_session *s;
	store_view *v;
	char *tag;
	bool close;
	imap_target *t;       /* the session's messages (in the set, for UID EXPUNGE) */
	size_t n;
	bool ok;
	char *err;
} expunge_job;

static void expunge_work(void *arg)
{
	expunge_job *j = arg;
	mbox *mb = j->v->mb;
	uint32_t *uids = xcalloc(j->n + 1, sizeof(uint32_t));
	size_t n = 0;
	for (size_t k = 0; k < j->n; k++) {
		long i = mbox_find(mb, j->t[k].uid);
		if (i >= 0 && (mb->msgs[i].flags & MDF_DELETED))
			uids[n++] = j->t[k].uid;
	}
	/* the audit trail's DELETED records need the file names, which go */
	mbox_msg *gone = xcalloc(n + 1, sizeof(*gone));
	for (size_t k = 0; k < n; k++) {
		long i = mbox_find(mb, uids[k]);
		gone[k] = mb->msgs[i];
		gone[k].file = xstrdup(mb->msgs[i].file);
	}
	j->ok = store_view_expunge(j->v, uids, n, &j->err);
	for (size_t k = 0; k < n; k++) {
		if (j->ok && mbox_find(mb, uids[k]) < 0)
			imap_audit_msg(j->s, &gone[k], true);
		free(gone[k].file);
	}
	free(gone);
	free(uids);
}

static void expunge_done(void *arg)
{
	expunge_job *j = arg;
	imap_session *s = j->s;
	if (!j->ok)
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s expunge_error=%s", s->sid, s->account, j->err);
	if (j->close)
		imap_unselect(s); /* CLOSE says nothing of what went */
	else
		imap_report(s, true);
	if (j->ok && !j->close && (s->enabled & IMAP_ENABLED_QRESYNC)) /* RFC 7162 3.2.7 */
		imap_tagged(s, j->tag, "OK", "[HIGHESTMODSEQ %llu] EXPUNGE completed",
		            (unsigned long long)s->view->highestmodseq);
	else if (j->ok)
		imap_tagged(s, j->tag, "OK", "%s completed", j->close ? "CLOSE" : "EXPUNGE");
	else
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Some messages could not be removed");
	free(j->t);
	free(j->err);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_expunge(imap_session *s, const char *tag, bool close, const imap_seqset *uids)
{
	if (s->readonly) {
		if (close) { /* CLOSE after EXAMINE removes nothing */
			imap_unselect(s);
			imap_tagged(s, tag, "OK", "CLOSE completed");
		} else {
			imap_tagged(s, tag, "NO", "[READ-ONLY] The mailbox is read-only (EXAMINE)");
		}
		return;
	}
	expunge_job *j = xcalloc(1, sizeof(*j));
	*j = (expunge_job){.s = s, .v = s->view, .tag = xstrdup(tag), .close = close};
	imap_seqset all = {0};
	const imap_seqset *set = uids;
	if (set == NULL) {
		const char *err;
		imap_seqset_parse("1:*", 3, &all, &err);
		set = &all;
	}
	j->t = imap_targets(s, set, true, &j->n);
	imap_seqset_free(&all);
	conn_pause(s->c);
	store_view_run(s->view, STORE_WRITE, expunge_work, expunge_done, j);
}
