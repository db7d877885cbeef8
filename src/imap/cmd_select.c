/* cmd_select.c — SELECT and EXAMINE (RFC 9051 6.3.2-3, with CONDSTORE's
 * HIGHESTMODSEQ, RFC 7162), and NOOP / CHECK in the selected state, which
 * tell what others changed.  The folder is the shared view (store/view.h):
 * opening one another session has open costs no disk at all. */
#include "imap/session.h"

#include <stdlib.h>
#include <string.h>

#include "imap/names.h"
#include "imap/qresync.h"
#include "lib/log.h"
#include "store/mdname.h"

typedef struct select_job {
	imap_session *s;
	store_view *v;
	char *tag, *name;
	bool readonly;
	imap_select_params p;
	buf resync;            /* QRESYNC's VANISHED (EARLIER), made on the worker */
} select_job;

static void select_work(void *arg)
{
	select_job *j = arg;
	imap_qresync_select_work(j->v, &j->p, &j->resync);
}

static void select_ready(void *arg)
{
	select_job *j = arg;
	imap_session *s = j->s;
	store_view *v = s->view;
	if (v->mb == NULL) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s mailbox=%s error=%s", s->sid, s->account,
		          j->name, v->err ? v->err : "?");
		store_view_close(&s->view);
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Cannot open the mailbox");
	} else {
		s->viewer = store_viewer_new(v);
		imap_notify_arm(s);
		s->selected = xstrdup(j->name);
		s->readonly = j->readonly;
		s->state = IS_SELECTED;
		imap_write_flag_lists(s);
		imap_untagged(s, "%zu EXISTS", v->mb->n);
		if (s->enabled & IMAP_ENABLED_REV2) {
			/* RFC 9051 6.3.2: the mailbox's LIST, with its name as the server spells it */
			buf out;
			buf_init(&out, BUF_UNBOUNDED);
			BUF_PUTS(&out, "* LIST () \".\" ");
			if (imap_name_out(s, &out, j->name) && buf_puts(&out, "\r\n"))
				conn_write(s->c, out.data, out.len);
			buf_free(&out);
		}
		imap_recent_take(s, v->mb->uidnext);
		if (!(s->enabled & IMAP_ENABLED_REV2)) {
			imap_untagged(s, "%zu RECENT", imap_recent_count(s));
			for (size_t i = 0; i < v->mb->n; i++) {
				if (!(v->mb->msgs[i].flags & MDF_SEEN)) {
					imap_untagged(s, "OK [UNSEEN %zu] First unseen", i + 1);
					break;
				}
			}
		}
		imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", v->mb->uidvalidity);
		imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", v->mb->uidnext);
		imap_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest", (unsigned long long)v->highestmodseq);
		if (j->resync.len > 0)
			conn_write(s->c, j->resync.data, j->resync.len);
		imap_qresync_select_fetches(s, &j->p);
		imap_tagged(s, j->tag, "OK", "[%s] %s completed", j->readonly ? "READ-ONLY" : "READ-WRITE",
		            j->readonly ? "EXAMINE" : "SELECT");
	}
	imap_select_params_free(&j->p);
	buf_free(&j->resync);
	free(j->tag);
	free(j->name);
	free(j);
	conn_resume(s->c);
}

void imap_select(imap_session *s, const char *tag, const char *name, bool readonly,
                 imap_select_params *p)
{
	/* a SELECT, even a failing one, leaves the selected state first */
	if (s->state == IS_SELECTED) {
		imap_unselect(s);
		if (s->enabled & (IMAP_ENABLED_REV2 | IMAP_ENABLED_QRESYNC)) /* RFC 7162 3.2.11 */
			imap_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	if (p->condstore)
		s->enabled |= IMAP_ENABLED_CONDSTORE;
	char *path = imap_folder_path(s, name);
	const char *key = path ? imap_folder_key(s, path) : NULL;
	if (key == NULL || !imap_folder_exists(s, path)) {
		imap_tagged(s, tag, "NO", "[NONEXISTENT] No such mailbox");
		imap_select_params_free(p);
		free(path);
		return;
	}
	s->view = store_view_open(s->srv->views, s->maildir, key);
	free(path);
	store_view_check(s->view);
	select_job *j = xcalloc(1, sizeof(*j));
	*j = (select_job){.s = s, .v = s->view, .tag = xstrdup(tag), .name = xstrdup(name),
	                  .readonly = readonly, .p = *p};
	buf_init(&j->resync, BUF_UNBOUNDED);
	conn_pause(s->c);
	/* a worker only when QRESYNC has something to look up on disk */
	store_view_run(s->view, STORE_READ, p->qresync ? select_work : NULL, select_ready, j);
}

/* ---- NOOP / CHECK, and a look while idling ---- */

typedef struct sync_job {
	imap_session *s;
	char *tag;
	const char *verb;
} sync_job;

static void sync_ready(void *arg)
{
	sync_job *j = arg;
	imap_session *s = j->s;
	imap_report(s, true);
	if (s->view->err != NULL && j->tag != NULL)
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Cannot read the mailbox");
	else if (j->tag != NULL)
		imap_tagged(s, j->tag, "OK", "%s completed", j->verb);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_sync(imap_session *s, const char *tag, const char *verb)
{
	sync_job *j = xcalloc(1, sizeof(*j));
	*j = (sync_job){.s = s, .tag = tag ? xstrdup(tag) : NULL, .verb = verb};
	store_view_check(s->view);
	conn_pause(s->c);
	store_view_run(s->view, STORE_READ, NULL, sync_ready, j);
}
