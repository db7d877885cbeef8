/* copy.c — COPY and MOVE (RFC 6851) and their UID forms, on a worker while
 * the session is paused.  A copy is a hard link of the message file into
 * the target folder under a new name (same bytes, same arrival time, same
 * flags), then the target folder gives it a UID; the reply carries COPYUID
 * (RFC 4315).  MOVE then removes the originals and says EXPUNGE for each.
 * Runs under the source folder's gate: a reader, a writer for MOVE. */
#include "imap/session.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/names.h"
#include "imap/seqset.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "store/mdname.h"

typedef struct copy_job {
	imap_session *s;
	store_view *v;        /* the source */
	char *tag;
	bool move, uid;
	char *dst_path;
	uint32_t *src_uids;   /* source messages */
	size_t n;
	char **bases;         /* their new names in the target */
	uint32_t *dst_uids;
	uint32_t dst_validity;
	bool ok, gone;
	char *err;
} copy_job;

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

static void copy_work(void *arg)
{
	copy_job *j = arg;
	mbox *src = j->v->mb;
	j->ok = true;
	for (size_t k = 0; k < j->n; k++)
		j->gone = j->gone || mbox_find(src, j->src_uids[k]) < 0;
	if (j->gone)
		return; /* all or nothing (RFC 9051 6.4.7) */
	for (size_t k = 0; k < j->n && j->ok; k++) {
		size_t i = (size_t)mbox_find(src, j->src_uids[k]);
		mbox_msg *m = &src->msgs[i];
		unsigned char rnd[6];
		RAND_bytes(rnd, sizeof rnd);
		/* the copies of one second take UIDs in the order of the originals */
		j->bases[k] = xasprintf("%lld.C%08zx%02x%02x%02x%02x%02x%02x.%s", (long long)m->internal, k,
		                        rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], j->s->srv->cfg->hostname);
		mdname n = {.flags = m->flags, .vsize = m->vsize, .has_vsize = true};
		snprintf(n.base, sizeof n.base, "%s", j->bases[k]);
		char name[MDNAME_MAX + 1];
		char *from = mbox_locate(src, i);
		char *to = mdname_format(&n, name) ? xasprintf("%s/cur/%s", j->dst_path, name) : NULL;
		if (from == NULL || to == NULL || !link_or_copy(from, to)) {
			j->err = xasprintf("%s: %s", from ? from : "message file", strerror(errno));
			j->ok = false;
		}
		free(from);
		free(to);
	}
	char *err = NULL;
	mbox *dst = j->ok ? mbox_open(j->dst_path, &err) : NULL; /* gives the copies UIDs */
	if (j->ok && dst == NULL) {
		j->err = err;
		j->ok = false;
	}
	for (size_t i = 0; dst != NULL && i < dst->n; i++) {
		mdname n;
		if (!mdname_parse(dst->msgs[i].file, &n))
			continue;
		for (size_t k = 0; k < j->n; k++)
			if (strcmp(n.base, j->bases[k]) == 0)
				j->dst_uids[k] = dst->msgs[i].uid;
	}
	if (dst != NULL)
		j->dst_validity = dst->uidvalidity;
	mbox_free(&dst);
	if (j->ok && j->move && !store_view_expunge(j->v, j->src_uids, j->n, &j->err))
		j->ok = false;
}

static void write_uids(buf *out, const uint32_t *uids, size_t n)
{
	for (size_t k = 0; k < n; k++)
		buf_printf(out, "%s%u", k ? "," : "", uids[k]);
}

static void copy_done(void *arg)
{
	copy_job *j = arg;
	imap_session *s = j->s;
	const char *verb = j->move ? "MOVE" : "COPY";
	if (j->gone) {
		imap_tagged(s, j->tag, "NO", "[EXPUNGEISSUED] Some of the messages no longer exist");
	} else if (!j->ok) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s %s_error=%s", s->sid, s->account, verb,
		          j->err ? j->err : "?");
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] The messages could not be copied");
	} else {
		buf code;
		buf_init(&code, (size_t)1 << 24);
		if (j->n > 0) {
			buf_printf(&code, "[COPYUID %u ", j->dst_validity);
			write_uids(&code, j->src_uids, j->n);
			buf_putc(&code, ' ');
			write_uids(&code, j->dst_uids, j->n);
			buf_puts(&code, "] ");
		}
		if (j->move) {
			/* RFC 6851: the COPYUID comes untagged, before the EXPUNGEs */
			if (j->n > 0)
				imap_untagged(s, "OK %sMoved", code.data);
			imap_report(s, true);
			imap_tagged(s, j->tag, "OK", "%sMOVE completed", j->uid ? "UID " : "");
		} else {
			imap_tagged(s, j->tag, "OK", "%s%sCOPY completed", code.len ? code.data : "",
			            j->uid ? "UID " : "");
		}
		buf_free(&code);
	}
	for (size_t k = 0; k < j->n; k++)
		free(j->bases[k]);
	free(j->bases);
	free(j->src_uids);
	free(j->dst_uids);
	free(j->dst_path);
	free(j->err);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_copy(imap_session *s, const imap_command *c, bool move)
{
	imap_seqset set;
	const char *err = NULL;
	char *name = NULL;
	if (c->nargs != 2 || !imap_seqset_parse_arg(c->args, &set, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "A set and a mailbox are needed");
		return;
	}
	char *path = NULL;
	if (!imap_name_in(s, c->args->next, &name, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid mailbox name");
	} else if ((path = imap_folder_path(s, name)) == NULL || !imap_folder_exists(s, path)) {
		imap_tagged(s, c->tag, "NO", "[TRYCREATE] No such mailbox");
	} else if (move && s->readonly) {
		imap_tagged(s, c->tag, "NO", "[READ-ONLY] The mailbox is read-only (EXAMINE)");
	} else {
		copy_job *j = xcalloc(1, sizeof(*j));
		j->s = s;
		j->tag = xstrdup(c->tag);
		j->move = move;
		j->uid = c->uid;
		j->dst_path = path;
		path = NULL;
		j->v = s->view;
		imap_target *t = imap_targets(s, &set, c->uid, &j->n);
		j->src_uids = xcalloc(j->n + 1, sizeof(uint32_t));
		j->dst_uids = xcalloc(j->n + 1, sizeof(uint32_t));
		j->bases = xcalloc(j->n + 1, sizeof(char *));
		for (size_t k = 0; k < j->n; k++)
			j->src_uids[k] = t[k].uid;
		free(t);
		conn_pause(s->c);
		store_view_run(s->view, move ? STORE_WRITE : STORE_READ, copy_work, copy_done, j);
	}
	free(path);
	free(name);
	imap_seqset_free(&set);
}
