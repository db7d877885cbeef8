/* report.c — a session's view of its selected folder: its message numbers
 * (the shared folder's messages it was told of, and those expunged since
 * that it was not told of yet), the sets commands name in them, and the
 * untagged responses that bring it up to date (EXPUNGE, EXISTS, FETCH
 * FLAGS).  All of this runs on the loop, outside the folder's writers. */
#include "imap/session.h"

#include <stdlib.h>
#include <string.h>

#include "imap/ctxupdate.h"
#include "imap/flags.h"
#include "imap/searchmatch.h"
#include "store/mdname.h"

/* IMAP system flags and the Maildir letters they are kept as. */
static const struct {
	const char *name;
	unsigned imap, md;
} flag_names[] = {
	{"\\Answered", IMAP_FLAG_ANSWERED, MDF_ANSWERED}, {"\\Flagged", IMAP_FLAG_FLAGGED, MDF_FLAGGED},
	{"\\Deleted", IMAP_FLAG_DELETED, MDF_DELETED},    {"\\Seen", IMAP_FLAG_SEEN, MDF_SEEN},
	{"\\Draft", IMAP_FLAG_DRAFT, MDF_DRAFT},
};

unsigned imap_md_flags(unsigned imap)
{
	unsigned md = 0;
	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
		if (imap & flag_names[i].imap)
			md |= flag_names[i].md;
	return md;
}

void imap_write_flags(buf *out, const imap_session *s, const store_view *v, const mbox_msg *m)
{
	BUF_PUTC(out, '(');
	const char *sep = "";
	if (s != NULL && imap_recent_has(s, m->uid) && buf_puts(out, "\\Recent"))
		sep = " ";
	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
		if (m->flags & flag_names[i].md) {
			BUF_PRINTF(out, "%s%s", sep, flag_names[i].name);
			sep = " ";
		}
	}
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++) {
		if ((m->kw & (1u << k)) && v->kw.names[k] != NULL) {
			BUF_PRINTF(out, "%s%s", sep, v->kw.names[k]);
			sep = " ";
		}
	}
	BUF_PUTC(out, ')');
}

void imap_write_flag_lists(imap_session *s)
{
	buf all;
	buf_init(&all, BUF_UNBOUNDED);
	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
		BUF_PRINTF(&all, "%s%s", i ? " " : "", flag_names[i].name);
	for (int k = 0; k < STORE_KEYWORDS_MAX; k++)
		if (s->view->kw.names[k] != NULL)
			BUF_PRINTF(&all, " %s", s->view->kw.names[k]);
	imap_untagged(s, "FLAGS (%s)", all.data);
	if (s->readonly)
		imap_untagged(s, "OK [PERMANENTFLAGS ()] Read-only mailbox");
	else
		imap_untagged(s, "OK [PERMANENTFLAGS (%s \\*)] Flags the mailbox keeps", all.data);
	buf_free(&all);
}

imap_target *imap_targets(const imap_session *s, const imap_seqset *set, bool uid, size_t *n_r)
{
	size_t n;
	uint32_t *uids = store_viewer_uids(s->viewer, &n);
	imap_target *t = xcalloc(n + 1, sizeof(imap_target));
	size_t k = 0;
	uint32_t max = uid ? (n > 0 ? uids[n - 1] : 0) : (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		uint32_t seq = (uint32_t)(i + 1);
		if (set->searchres ? imap_saved_has(s, uids[i]) : imap_seqset_contains(set, uid ? uids[i] : seq, max))
			t[k++] = (imap_target){.seq = seq, .uid = uids[i]};
	}
	free(uids);
	*n_r = k;
	return t;
}

static void report_expunges(imap_session *s)
{
	size_t n;
	uint32_t *uids = store_viewer_uids(s->viewer, &n);
	if (s->enabled & IMAP_ENABLED_QRESYNC) { /* one VANISHED of UIDs (RFC 7162 3.2.10) */
		size_t ng = 0;
		for (size_t i = 0; i < n; i++)
			if (mbox_find(s->view->mb, uids[i]) < 0)
				uids[ng++] = uids[i];
		if (ng > 0)
			imap_report_vanished(s, uids, ng);
		n = 0;
	}
	/* from the highest number down, so that each number is right when sent */
	for (size_t i = n; i > 0; i--)
		if (mbox_find(s->view->mb, uids[i - 1]) < 0)
			imap_untagged(s, "%zu EXPUNGE", i);
	free(uids);
	s->viewer->gone_modseq = s->view->highestmodseq;
	store_view_trim(s->view);
}

void imap_report(imap_session *s, bool expunges)
{
	store_viewer *w = s->viewer;
	const store_view *v = s->view;
	if (w == NULL || v->mb == NULL)
		return;
	if (expunges)
		report_expunges(s);
	size_t n;
	uint32_t *uids = store_viewer_uids(w, &n);
	if (w->flags_modseq < v->highestmodseq) {
		buf b;
		buf_init(&b, BUF_UNBOUNDED); /* one line per changed message */
		buf *out = &b;
		bool condstore = s->enabled & IMAP_ENABLED_CONDSTORE;
		for (size_t i = 0; i < n; i++) {
			long k = mbox_find(v->mb, uids[i]);
			if (k < 0 || v->mb->msgs[k].modseq <= w->flags_modseq)
				continue;
			const mbox_msg *m = &v->mb->msgs[k];
			BUF_PRINTF(out, "* %zu FETCH (", i + 1);
			if (condstore)
				BUF_PRINTF(out, "UID %u MODSEQ (%llu) ", m->uid, (unsigned long long)m->modseq);
			BUF_PUTS(out, "FLAGS ");
			imap_write_flags(out, s, v, m);
			BUF_PUTS(out, ")\r\n");
			if (b.len >= CONN_OUT_LOW) {
				conn_write(s->c, b.data, b.len);
				buf_clear(&b);
			}
		}
		conn_write(s->c, b.data, b.len);
		buf_free(&b);
		w->flags_modseq = v->highestmodseq;
	}
	free(uids);
	if (v->mb->uidnext > w->uidnext) {
		w->uidnext = v->mb->uidnext;
		free(store_viewer_uids(w, &n));
		imap_untagged(s, "%zu EXISTS", n);
		imap_recent_take(s, w->uidnext);
		if (!(s->enabled & IMAP_ENABLED_REV2))
			imap_untagged(s, "%zu RECENT", imap_recent_count(s));
	}
	imap_ctx_changed(s);
}

bool imap_saved_has(const imap_session *s, uint32_t uid)
{
	return imap_uids_have(s->saved, s->n_saved, uid);
}

void imap_saved_set(imap_session *s, uint32_t *uids, size_t n)
{
	free(s->saved);
	s->saved = uids;
	s->n_saved = n;
}

void imap_unselect(imap_session *s)
{
	imap_recent_forget(s);
	imap_ctx_free(s);
	imap_saved_set(s, NULL, 0);
	store_viewer_free(&s->viewer);
	store_view_close(&s->view);
	free(s->selected);
	s->selected = NULL;
	s->state = IS_AUTH;
}

const char *imap_folder_key(const imap_session *s, const char *path)
{
	size_t n = strlen(s->maildir);
	if (strncmp(path, s->maildir, n) != 0)
		return NULL;
	return path[n] == '/' ? path + n + 1 : path[n] == '\0' ? "" : NULL;
}

bool imap_parse_set(imap_session *s, const imap_command *c, imap_seqset *set)
{
	const char *err = NULL;
	if (c->nargs < 2 || !imap_seqset_parse_arg(c->args, set, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "A sequence set is needed");
		return false;
	}
	if (c->uid || set->searchres)
		return true;
	size_t n;
	free(store_viewer_uids(s->viewer, &n));
	bool star = false;
	for (size_t i = 0; i < set->n; i++)
		star = star || set->ranges[i].lo == 0 || set->ranges[i].hi == 0;
	if (imap_seqset_largest(set) > n || (star && n == 0)) {
		imap_tagged(s, c->tag, "BAD", "No such message: the mailbox has %zu", n);
		imap_seqset_free(set);
		return false;
	}
	return true;
}
