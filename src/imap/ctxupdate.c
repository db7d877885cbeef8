/* ctxupdate.c — searches kept up to date (see ctxupdate.h).  A run holds
 * the connection paused (so the session outlives it) and a reference to
 * the view; when the session leaves the folder meanwhile, the run finds
 * its context dead and only frees it. */
#include "imap/ctxupdate.h"

#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "imap/names.h"
#include "imap/search.h"
#include "imap/searchmatch.h"
#include "lib/log.h"

typedef struct kept {
	char *tag;
	char *text;                 /* the command, which q points into */
	imap_command cmd;
	imap_search q;
	bool uid;
	uint32_t *uids;             /* the result the client has, ascending UIDs */
	size_t n;
	uint32_t *fresh;            /* a run's result */
	size_t nfresh;
} kept;

struct imap_ctx {
	kept items[IMAP_CTX_MAX];
	size_t n;
	uint64_t modseq;            /* the view's state the results are of */
	uint32_t uidnext;
	bool busy, again, dead;
};

static void kept_free(kept *k)
{
	imap_search_free(&k->q);
	imap_command_free(&k->cmd);
	free(k->text);
	free(k->tag);
	free(k->uids);
	free(k->fresh);
	memset(k, 0, sizeof(*k));
}

static void ctx_destroy(struct imap_ctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		kept_free(&c->items[i]);
	free(c);
}

void imap_ctx_free(imap_session *s)
{
	struct imap_ctx *c = s->ctx;
	s->ctx = NULL;
	if (c == NULL)
		return;
	if (c->busy)
		c->dead = true; /* the run frees it */
	else
		ctx_destroy(c);
}

static void drop(struct imap_ctx *c, size_t i)
{
	kept_free(&c->items[i]);
	memmove(&c->items[i], &c->items[i + 1], (c->n - i - 1) * sizeof(kept));
	memset(&c->items[--c->n], 0, sizeof(kept));
}

static long find(const struct imap_ctx *c, const char *tag)
{
	for (size_t i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->items[i].tag, tag) == 0)
			return (long)i;
	return -1;
}

void imap_ctx_keep(imap_session *s, const char *tag, const char *text, bool uid, const uint32_t *uids,
                   const bool *hit, size_t n)
{
	if (s->ctx == NULL)
		s->ctx = xcalloc(1, sizeof(struct imap_ctx));
	struct imap_ctx *c = s->ctx;
	/* the result may be of a state older than the view's now: the next
	 * report runs the searches again whatever changed */
	c->modseq = 0;
	long old = find(c, tag);
	if (old >= 0 && !c->busy)
		drop(c, (size_t)old); /* a new search under the same tag replaces it */
	if (c->n == IMAP_CTX_MAX || c->busy) {
		imap_untagged(s, "NO [NOUPDATE \"%s\"] %s", tag,
		              c->busy ? "Try again" : "Too many searches are kept up to date");
		return;
	}
	kept *k = &c->items[c->n];
	k->text = xstrdup(text);
	const char *err;
	imap_parse_opts opts = {.utf8 = imap_names_utf8(s)};
	if (!imap_command_parse(k->text, strlen(k->text), &opts, &k->cmd, &err) ||
	    imap_search_parse(k->cmd.args, &k->q, &err) != IMAP_SEARCH_OK) {
		kept_free(k); /* it parsed a moment ago: cannot happen */
		return;
	}
	k->tag = xstrdup(tag);
	k->uid = uid;
	k->uids = xcalloc(n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < n; i++)
		if (hit[i])
			k->uids[k->n++] = uids[i];
	c->n++;
}

void imap_ctx_cancel_cmd(imap_session *s, const imap_command *c)
{
	if (c->nargs == 0) {
		imap_tagged(s, c->tag, "BAD", "CANCELUPDATE needs the tags of the searches");
		return;
	}
	for (const imap_arg *a = c->args; a != NULL; a = a->next) {
		const char *t;
		size_t len;
		if (!imap_arg_string(a, &t, &len) || find(s->ctx, t) < 0 || s->ctx->busy) {
			imap_tagged(s, c->tag, "BAD", "No search with that tag is kept up to date");
			return;
		}
	}
	for (const imap_arg *a = c->args; a != NULL; a = a->next)
		drop(s->ctx, (size_t)find(s->ctx, a->str));
	imap_tagged(s, c->tag, "OK", "CANCELUPDATE completed");
}

/* ---- a run ---- */

typedef struct run {
	imap_session *s;
	struct imap_ctx *c;
	store_view *v;
	uint32_t *uids;            /* the session's messages by number */
	size_t n;
} run;

static void run_work(void *arg)
{
	run *r = arg;
	const mbox *mb = r->v->mb;
	uint32_t max_uid = r->n > 0 ? r->uids[r->n - 1] : 0;
	for (size_t i = 0; i < r->c->n; i++) {
		kept *k = &r->c->items[i];
		k->fresh = xcalloc(r->n + 1, sizeof(uint32_t));
		k->nfresh = 0;
		for (size_t q = 0; q < r->n; q++) {
			long m = mbox_find(mb, r->uids[q]);
			if (m < 0)
				continue;
			imap_match_src src = {.mb = mb, .i = (size_t)m};
			imap_match_msg mm = {.m = &mb->msgs[m], .kw = &r->v->kw, .saved = r->s->saved,
			                     .n_saved = r->s->n_saved, .read = imap_match_read_mbox, .read_arg = &src};
			if (imap_search_match(k->q.root, &mm, (uint32_t)(q + 1), (uint32_t)r->n, max_uid))
				k->fresh[k->nfresh++] = r->uids[q];
			imap_match_msg_done(&mm);
		}
	}
}

/* a[0, na) less b[0, nb) (both ascending) into out; how many. */
static size_t minus(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, uint32_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < na; i++)
		if (!imap_uids_have(b, nb, a[i]))
			out[n++] = a[i];
	return n;
}

/* UIDs to the session's message numbers (v ascending either way); those
 * without one are dropped.  How many are left. */
static size_t to_seqs(uint32_t *v, size_t n, const uint32_t *uids, size_t nuids)
{
	size_t k = 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		while (j < nuids && uids[j] < v[i])
			j++;
		if (j < nuids && uids[j] == v[i])
			v[k++] = (uint32_t)(j + 1);
	}
	return k;
}

static void tell(run *r, kept *k)
{
	uint32_t *gone = xcalloc(k->n + 1, sizeof(uint32_t));
	uint32_t *added = xcalloc(k->nfresh + 1, sizeof(uint32_t));
	size_t ngone = minus(k->uids, k->n, k->fresh, k->nfresh, gone);
	size_t nadded = minus(k->fresh, k->nfresh, k->uids, k->n, added);
	if (!k->uid) {
		size_t n;
		uint32_t *now = store_viewer_uids(r->s->viewer, &n);
		ngone = to_seqs(gone, ngone, now, n);
		nadded = to_seqs(added, nadded, now, n);
		free(now);
	}
	if (ngone + nadded > 0) {
		buf line;
		buf_init(&line, BUF_UNBOUNDED); /* never dropped: the client's copy would go wrong */
		bool ok = buf_printf(&line, "* ESEARCH (TAG \"%s\")%s", k->tag, k->uid ? " UID" : "");
		if (ok && ngone > 0) {
			ok = buf_puts(&line, " REMOVEFROM (0 ") && imap_seqset_write(&line, gone, ngone) &&
			     buf_putc(&line, ')');
		}
		if (ok && nadded > 0) {
			ok = buf_puts(&line, " ADDTO (0 ") && imap_seqset_write(&line, added, nadded) &&
			     buf_putc(&line, ')');
		}
		if (ok && buf_puts(&line, "\r\n"))
			conn_write(r->s->c, line.data, line.len);
		buf_free(&line);
	}
	free(k->uids);
	k->uids = k->fresh;
	k->n = k->nfresh;
	k->fresh = NULL;
	free(gone);
	free(added);
}

static void run_done(void *arg)
{
	run *r = arg;
	imap_session *s = r->s;
	struct imap_ctx *c = r->c;
	c->busy = false;
	if (c->dead || s->ctx != c) {
		ctx_destroy(c);
	} else {
		for (size_t i = 0; i < c->n; i++)
			tell(r, &c->items[i]);
		conn_flush(s->c);
		if (c->again) {
			c->again = false;
			imap_ctx_changed(s);
		}
	}
	store_view_close(&r->v);
	free(r->uids);
	free(r);
	conn_resume(s->c);
}

static void start(imap_session *s)
{
	struct imap_ctx *c = s->ctx;
	run *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->c = c;
	r->v = store_view_ref(s->view);
	r->uids = store_viewer_uids(s->viewer, &r->n);
	c->busy = true;
	c->modseq = s->view->highestmodseq;
	c->uidnext = s->view->mb->uidnext;
	conn_pause(s->c);
	store_view_run(r->v, STORE_READ, run_work, run_done, r);
}

void imap_ctx_changed(imap_session *s)
{
	struct imap_ctx *c = s->ctx;
	if (c == NULL || c->n == 0 || s->view == NULL || s->view->mb == NULL)
		return;
	if (c->modseq == s->view->highestmodseq && c->uidnext == s->view->mb->uidnext)
		return;
	if (c->busy) {
		c->again = true;
		return;
	}
	start(s);
}
