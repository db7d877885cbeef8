/* cmd_store.c — STORE and UID STORE (RFC 9051 6.4.6) with keywords and
 * CONDSTORE's UNCHANGEDSINCE (RFC 7162 3.1.3), as a writer on the folder:
 * flags and keywords are letters in the file name (a rename); a keyword
 * new to the folder gets its letter in the folder's keyword list first,
 * and the session hears the new FLAGS and PERMANENTFLAGS. */
#include "imap/session.h"

#include <stdlib.h>
#include <string.h>

#include "imap/flags.h"
#include "imap/store.h"
#include "lib/log.h"
#include "store/mdname.h"

#define RESPONSE_MAX ((size_t)1 << 30)

typedef struct store_job {
	imap_session *s;
	store_view *v;
	char *tag;
	bool uid, condstore, qresync;
	imap_store st;
	imap_target *t;
	size_t n;
	buf out;
	bool failed, gone, full, new_keywords;
	uint32_t *modified;     /* numbers (UIDs for UID STORE) that failed UNCHANGEDSINCE */
	size_t n_modified;
	uint32_t *changed;
	size_t n_changed;
	uint64_t modseq_before;
} store_job;

/* The letters of the command's keywords; new ones are added to the folder
 * (not for -FLAGS: removing what is unknown changes nothing).  False when
 * the folder has no letter left or its list cannot be written. */
static bool keyword_mask(store_job *j, uint32_t *mask_r)
{
	store_view *v = j->v;
	uint32_t mask = 0;
	for (size_t k = 0; k < j->st.flags.keywords.n; k++) {
		const char *name = j->st.flags.keywords.items[k];
		int bit;
		if (j->st.mode == IMAP_STORE_REMOVE) {
			bit = store_keywords_find(&v->kw, name);
		} else {
			bool added;
			bit = store_keywords_add(&v->kw, name, &added);
			if (bit < 0) {
				j->full = true;
				return false;
			}
			j->new_keywords = j->new_keywords || added;
		}
		if (bit >= 0)
			mask |= 1u << bit;
	}
	if (j->new_keywords && !store_keywords_write(v->mb->path, &v->kw)) {
		j->failed = true;
		return false;
	}
	*mask_r = mask;
	return true;
}

static void store_one(store_job *j, const imap_target *t, unsigned md, uint32_t kw)
{
	mbox *mb = j->v->mb;
	long i = mbox_find(mb, t->uid);
	if (i < 0) {
		j->gone = true;
		return;
	}
	mbox_msg *m = &mb->msgs[i];
	if (j->st.has_unchangedsince && m->modseq > j->st.unchangedsince) {
		j->modified[j->n_modified++] = j->uid ? t->uid : t->seq;
		return;
	}
	const unsigned sys = MDF_DRAFT | MDF_FLAGGED | MDF_ANSWERED | MDF_SEEN | MDF_DELETED;
	unsigned want = j->st.mode == IMAP_STORE_REPLACE ? (m->flags & ~sys) | md
	                : j->st.mode == IMAP_STORE_ADD  ? m->flags | md
	                                                : m->flags & ~md;
	uint32_t want_kw = j->st.mode == IMAP_STORE_REPLACE ? kw
	                   : j->st.mode == IMAP_STORE_ADD  ? m->kw | kw
	                                                   : m->kw & ~kw;
	if (want != m->flags || want_kw != m->kw) {
		char *err = NULL;
		bool now_seen = (want & MDF_SEEN) && !(m->flags & MDF_SEEN);
		if (!mbox_set_flags(mb, (size_t)i, want, want_kw, &err)) {
			log_event(LOG_LVL_ERROR, "imap", "sid=%s store_error=%s", j->s->sid, err);
			free(err);
			j->failed = true;
			return;
		}
		if (now_seen)
			imap_audit_msg(j->s, m, false);
		m->modseq = store_view_next_modseq(j->v);
		j->changed[j->n_changed++] = m->uid;
	}
	buf *out = &j->out;
	if (j->st.silent && !j->condstore)
		return;
	BUF_PRINTF(out, "* %u FETCH (", t->seq);
	if (j->uid || j->qresync) /* QRESYNC: every FETCH response carries the UID (RFC 7162 3.2.4) */
		BUF_PRINTF(out, "UID %u ", m->uid);
	if (!j->st.silent) {
		BUF_PUTS(out, "FLAGS ");
		imap_write_flags(out, j->s, j->v, m);
	}
	if (j->condstore)
		BUF_PRINTF(out, "%sMODSEQ (%llu)", j->st.silent ? "" : " ", (unsigned long long)m->modseq);
	BUF_PUTS(out, ")\r\n");
}

static void store_work(void *arg)
{
	store_job *j = arg;
	j->modseq_before = j->v->highestmodseq;
	uint32_t kw = 0;
	if (!keyword_mask(j, &kw))
		return;
	unsigned md = imap_md_flags(j->st.flags.system);
	for (size_t k = 0; k < j->n; k++)
		store_one(j, &j->t[k], md, kw);
	store_view_save(j->v, j->changed, j->n_changed);
}

static void write_set(buf *b, const uint32_t *v, size_t n)
{
	for (size_t k = 0; k < n; k++)
		BUF_PRINTF(b, "%s%u", k ? "," : "", v[k]);
}

static void store_done(void *arg)
{
	store_job *j = arg;
	imap_session *s = j->s;
	if (j->new_keywords)
		imap_write_flag_lists(s);
	conn_write(s->c, j->out.data, j->out.len);
	if (j->full) {
		imap_tagged(s, j->tag, "NO", "[LIMIT] The mailbox has no room for more keywords");
	} else if (j->failed) {
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Some flags could not be stored");
	} else if (j->n_modified > 0) {
		buf set;
		buf_init(&set, BUF_UNBOUNDED);
		write_set(&set, j->modified, j->n_modified);
		imap_tagged(s, j->tag, "OK", "[MODIFIED %s] Conditional STORE failed for some", set.data);
		buf_free(&set);
	} else if (j->gone) {
		imap_tagged(s, j->tag, "NO", "[EXPUNGEISSUED] Some of the messages no longer exist");
	} else {
		imap_tagged(s, j->tag, "OK", "%sSTORE completed", j->uid ? "UID " : "");
	}
	if (s->viewer->flags_modseq == j->modseq_before)
		s->viewer->flags_modseq = s->view->highestmodseq;
	imap_store_free(&j->st);
	buf_free(&j->out);
	free(j->modified);
	free(j->changed);
	free(j->t);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_store_cmd(imap_session *s, const imap_command *c)
{
	imap_seqset set;
	if (!imap_parse_set(s, c, &set))
		return;
	store_job *j = xcalloc(1, sizeof(*j));
	const char *err = NULL;
	if (!imap_store_parse(c->args->next, &j->st, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid STORE arguments");
	} else if (s->readonly) {
		imap_tagged(s, c->tag, "NO", "[READ-ONLY] The mailbox is read-only (EXAMINE)");
	} else {
		if (j->st.has_unchangedsince)
			s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
		j->s = s;
		j->v = s->view;
		j->tag = xstrdup(c->tag);
		j->uid = c->uid;
		j->condstore = s->enabled & IMAP_ENABLED_CONDSTORE;
		j->qresync = s->enabled & IMAP_ENABLED_QRESYNC;
		j->t = imap_targets(s, &set, c->uid, &j->n);
		j->modified = xcalloc(j->n + 1, sizeof(uint32_t));
		j->changed = xcalloc(j->n + 1, sizeof(uint32_t));
		imap_seqset_free(&set);
		buf_init(&j->out, BUF_UNBOUNDED);
		conn_pause(s->c);
		store_view_run(s->view, STORE_WRITE, store_work, store_done, j);
		return;
	}
	imap_store_free(&j->st);
	imap_seqset_free(&set);
	free(j);
}
