/* copy.c — COPY and MOVE (RFC 6851) and their UID forms, and RENAME of
 * INBOX (which moves all its messages into the new folder, RFC 9051
 * 6.3.6), in three steps
 * while the session waits: (1) on the loop, under the source folder's gate,
 * what each message is (its file, flags, keywords by name); (2) a writer on
 * the target folder's view: each file hard-linked into the target's tmp/
 * under a new name (same bytes, same arrival time), then taken in with its
 * flags and keywords (store_view_add) — all or nothing: if one link fails,
 * none is taken in; (3) for MOVE, a writer on the source that expunges the
 * originals.  The reply carries COPYUID (RFC 4315); MOVE sends it untagged
 * before its EXPUNGEs. */
#include "imap/session.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delivery/quotawarn.h"
#include "imap/names.h"
#include "imap/seqset.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "store/mdname.h"

typedef struct copy_job {
	imap_session *s;
	store_view *src, *dst;
	char *tag;
	bool move, uid, rename;
	imap_target *t;       /* the source messages; NULL: all of them (RENAME INBOX) */
	size_t n;
	char **files;         /* their names in the source's cur/ */
	store_new_msg *msgs;  /* what the target takes in */
	char **kwnames;       /* the keyword names, NULL-separated per message */
	uint32_t dst_validity;
	uint64_t bytes;       /* the messages' sizes: what a COPY adds to the account */
	bool ok, gone;
	bool over, full;      /* refused: past the quota; the disk is full */
	char *err;
} copy_job;

static void copy_free(copy_job *j)
{
	for (size_t k = 0; k < j->n; k++) {
		free(j->files[k]);
		free((char *)j->msgs[k].name);
		for (size_t w = 0; w < j->msgs[k].n_keywords; w++)
			free((char *)j->msgs[k].keywords[w]);
		free((void *)j->msgs[k].keywords);
	}
	free(j->files);
	free(j->msgs);
	free(j->t);
	store_view_close(&j->src);
	store_view_close(&j->dst);
	free(j->err);
	free(j->tag);
	free(j);
}

/* Link (or, across file systems, copy) src to dst. */
static bool link_or_copy(const char *src, const char *dst)
{
	if (link(src, dst) == 0)
		return true;
	if (errno != EXDEV && errno != EPERM)
		return false;
	size_t len;
	char *data = fs_read_file(src, (size_t)1 << 31, &len);
	if (data == NULL)
		return false;
	int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fs_write_all(fd, data, len) && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	free(data);
	return ok;
}

static void copy_reply(copy_job *j);

/* Step 2, a writer on the target. */
static void copy_work(void *arg)
{
	copy_job *j = arg;
	const char *src = j->src->mb->path;
	const char *dst = j->dst->mb ? j->dst->mb->path : NULL;
	j->ok = dst != NULL;
	if (dst == NULL)
		j->err = xstrdup(j->dst->err ? j->dst->err : "the target folder cannot be read");
	/* a MOVE (and RENAME INBOX) adds nothing to the account: a user over
	 * the quota can still move mail to Trash */
	if (j->ok && !j->move && imap_quota_exceeded(j->s, j->bytes, j->n)) {
		j->ok = false;
		j->over = true;
		j->err = xstrdup("over quota");
	}
	size_t linked = 0;
	for (; j->ok && linked < j->n; linked++) {
		char *from = mbox_file_locate(src, j->files[linked]);
		char *to = xasprintf("%s/tmp/%s", dst, j->msgs[linked].name);
		if (from == NULL || !link_or_copy(from, to)) {
			j->full = from != NULL && imap_disk_full(errno);
			j->err = xasprintf("%s: %s", from ? from : j->files[linked], from ? strerror(errno) : "gone");
			j->ok = false;
		}
		free(from);
		free(to);
	}
	if (!j->ok && !j->over && !j->full)
		j->full = imap_disk_full_at(j->s->maildir);
	if (!j->ok) { /* all or nothing: take back what was linked (and a half-made copy) */
		for (size_t k = 0; k < linked; k++) {
			char *to = xasprintf("%s/tmp/%s", dst, j->msgs[k].name);
			unlink(to);
			free(to);
		}
		return;
	}
	errno = 0;
	j->ok = store_view_add(j->dst, j->msgs, j->n, &j->err);
	/* the UID list or the index could not grow */
	j->full = !j->ok && (imap_disk_full(errno) || imap_disk_full_at(j->s->maildir));
	j->dst_validity = j->dst->mb->uidvalidity;
	if (j->ok && !j->move) /* the 90 % warning, as local delivery gives it */
		quota_warn_recheck(j->s->srv->quota, j->s->srv->cfg->hostname, j->s->account, j->s->maildir);
}

/* Step 3 (MOVE), a writer on the source. */
static void expunge_work(void *arg)
{
	copy_job *j = arg;
	uint32_t *uids = xcalloc(j->n + 1, sizeof(uint32_t));
	for (size_t k = 0; k < j->n; k++)
		uids[k] = j->t[k].uid;
	char *err = NULL;
	if (!store_view_expunge(j->src, uids, j->n, &err)) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s move_expunge_error=%s", j->s->sid, err);
		free(err);
	}
	free(uids);
}

static void expunge_done(void *arg)
{
	copy_reply(arg);
}

static void copy_done(void *arg)
{
	copy_job *j = arg;
	if (j->ok && j->move)
		store_view_run(j->src, STORE_WRITE, expunge_work, expunge_done, j);
	else
		copy_reply(j);
}

/* Step 1, on the loop under the source's gate. */
static void copy_collect(void *arg)
{
	copy_job *j = arg;
	const store_view *v = j->src;
	if (v->mb == NULL) {
		j->err = xstrdup(v->err ? v->err : "the folder cannot be read");
		copy_reply(j);
		return;
	}
	if (j->t == NULL) { /* RENAME INBOX: every message */
		j->n = v->mb->n;
		j->t = xcalloc(j->n + 1, sizeof(imap_target));
		for (size_t k = 0; k < j->n; k++)
			j->t[k] = (imap_target){.seq = (uint32_t)(k + 1), .uid = v->mb->msgs[k].uid};
	}
	j->files = xcalloc(j->n + 1, sizeof(char *));
	j->msgs = xcalloc(j->n + 1, sizeof(store_new_msg));
	for (size_t k = 0; k < j->n; k++) {
		long i = mbox_find(v->mb, j->t[k].uid);
		if (i < 0) {
			j->gone = true; /* all or nothing (RFC 9051 6.4.7) */
			j->n = k;
			copy_reply(j);
			return;
		}
		const mbox_msg *m = &v->mb->msgs[i];
		unsigned char rnd[6];
		RAND_bytes(rnd, sizeof rnd);
		/* the copies of one second take UIDs in the order of the originals */
		j->msgs[k].name = xasprintf("%lld.C%08zx%02x%02x%02x%02x%02x%02x.%s", (long long)m->internal, k,
		                            rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		                            j->s->srv->cfg->hostname);
		j->msgs[k].flags = m->flags;
		j->files[k] = xstrdup(m->file);
		j->bytes += m->vsize;
		const char **names = xcalloc(STORE_KEYWORDS_MAX + 1, sizeof(char *));
		for (int b = 0; b < STORE_KEYWORDS_MAX; b++)
			if ((m->kw & (1u << b)) && v->kw.names[b] != NULL)
				names[j->msgs[k].n_keywords++] = xstrdup(v->kw.names[b]);
		j->msgs[k].keywords = names;
	}
	store_view_run(j->dst, STORE_WRITE, copy_work, copy_done, j);
}

static void write_uids(buf *out, const uint32_t *uids, size_t n)
{
	for (size_t k = 0; k < n; k++)
		BUF_PRINTF(out, "%s%u", k ? "," : "", uids[k]);
}

static void copy_reply(copy_job *j)
{
	imap_session *s = j->s;
	const char *verb = j->rename ? "RENAME" : j->move ? "MOVE" : "COPY";
	if (j->rename && j->ok) {
		if (s->view == j->src)
			imap_report(s, true);
		imap_tagged(s, j->tag, "OK", "RENAME completed");
	} else if (j->gone) {
		imap_tagged(s, j->tag, "NO", "[EXPUNGEISSUED] Some of the messages no longer exist");
	} else if (!j->ok && (j->over || j->full)) {
		log_event(LOG_LVL_WARN, "imap", "sid=%s user=%s %s_refused=%s", s->sid, s->account, verb, j->err);
		imap_tagged(s, j->tag, "NO", "%s", j->over
		            ? "[OVERQUOTA] The copies would take the account over its quota"
		            : "[OVERQUOTA] The disk is full; delete some mail or try again later");
	} else if (!j->ok) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s %s_error=%s", s->sid, s->account, verb,
		          j->err ? j->err : "?");
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] The messages could not be copied");
	} else {
		buf code;
		buf_init(&code, BUF_UNBOUNDED);
		if (j->n > 0) {
			uint32_t *src = xcalloc(j->n, sizeof(uint32_t)), *dst = xcalloc(j->n, sizeof(uint32_t));
			for (size_t k = 0; k < j->n; k++) {
				src[k] = j->t[k].uid;
				dst[k] = j->msgs[k].uid;
			}
			BUF_PRINTF(&code, "[COPYUID %u ", j->dst_validity);
			write_uids(&code, src, j->n);
			BUF_PUTC(&code, ' ');
			write_uids(&code, dst, j->n);
			BUF_PUTS(&code, "] ");
			free(src);
			free(dst);
		}
		if (j->move) {
			/* RFC 6851: the COPYUID comes untagged, before the EXPUNGEs */
			if (j->n > 0)
				imap_untagged(s, "OK %sMoved", code.data);
			imap_report(s, true);
			imap_tagged(s, j->tag, "OK", "%sMOVE completed", j->uid ? "UID " : "");
		} else {
			if (s->view == j->dst)
				imap_report(s, true); /* copied into the selected folder */
			imap_tagged(s, j->tag, "OK", "%s%sCOPY completed", code.len ? code.data : "",
			            j->uid ? "UID " : "");
		}
		buf_free(&code);
	}
	copy_free(j);
	conn_resume(s->c);
}

void imap_copy(imap_session *s, const imap_command *c, bool move)
{
	imap_seqset set;
	char *name = NULL;
	if (c->nargs != 2) {
		imap_tagged(s, c->tag, "BAD", "A set and a mailbox are needed");
		return;
	}
	if (!imap_parse_set(s, c, &set))
		return;
	char *path = NULL;
	if (!imap_name_arg(s, c->tag, c->args->next, &name)) {
		/* answered */
	} else if ((path = imap_folder_path(s, name)) == NULL || !imap_folder_exists(s, path)) {
		imap_tagged(s, c->tag, "NO", "[TRYCREATE] No such mailbox");
	} else if (move && s->readonly) {
		imap_tagged(s, c->tag, "NO", "[READ-ONLY] The mailbox is read-only (EXAMINE)");
	} else {
		copy_job *j = xcalloc(1, sizeof(*j));
		*j = (copy_job){.s = s, .tag = xstrdup(c->tag), .move = move, .uid = c->uid};
		j->t = imap_targets(s, &set, c->uid, &j->n);
		j->src = store_view_ref(s->view);
		j->dst = store_view_open(s->srv->views, s->maildir, imap_folder_key(s, path));
		conn_pause(s->c);
		store_view_run(j->src, STORE_READ, NULL, copy_collect, j);
	}
	free(path);
	free(name);
	imap_seqset_free(&set);
}

void imap_rename_inbox(imap_session *s, const char *tag, const char *dst_path)
{
	copy_job *j = xcalloc(1, sizeof(*j));
	*j = (copy_job){.s = s, .tag = xstrdup(tag), .move = true, .rename = true};
	j->src = store_view_open(s->srv->views, s->maildir, "");
	j->dst = store_view_open(s->srv->views, s->maildir, imap_folder_key(s, dst_path));
	conn_pause(s->c);
	store_view_run(j->src, STORE_READ, NULL, copy_collect, j);
}
