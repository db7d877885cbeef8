/* sortjob.c — the work SORT and THREAD share (see sortjob.h). */
#include "imap/sortjob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/args.h"
#include "imap/names.h"
#include "imap/searchmatch.h"
#include "lib/strutil.h"

/* A header longer than this is cut here: enough for any real one. */
#define SORT_HEADER_MAX ((size_t)256 << 10)

imap_sortjob *imap_sortjob_new(imap_session *s, const imap_command *c, const char *raw, size_t raw_len)
{
	imap_sortjob *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->tag = xstrdup(c->tag);
	j->uid = c->uid;
	j->text = xstrndup(raw, raw_len);
	const char *err = NULL;
	imap_parse_opts opts = {.utf8 = imap_names_utf8(s)};
	if (!imap_command_parse(j->text, raw_len, &opts, &j->cmd, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid command");
		imap_sortjob_free(&j);
	}
	return j;
}

bool imap_sortjob_charset(imap_sortjob *j, const imap_arg *a)
{
	const char *cs;
	size_t len;
	if (!imap_arg_astring(a, &cs, &len)) {
		imap_tagged(j->s, j->tag, "BAD", "%s needs a charset", j->cmd.name);
		return false;
	}
	if (!imap_search_charset_known(cs)) {
		imap_tagged(j->s, j->tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unknown charset");
		return false;
	}
	j->q.charset = cs;
	return true;
}

bool imap_sortjob_keys(imap_sortjob *j, const imap_arg *a)
{
	const char *err = NULL;
	if (imap_search_parse_keys(a, &j->q, &err) != IMAP_SEARCH_OK) {
		imap_tagged(j->s, j->tag, "BAD", "%s", err ? err : "Invalid search keys");
		return false;
	}
	return true;
}

void imap_sortjob_free(imap_sortjob **jp)
{
	imap_sortjob *j = *jp;
	if (j == NULL)
		return;
	for (size_t k = 0; k < j->nhits; k++)
		imap_sort_msg_free(&j->hits[k]);
	free(j->hits);
	imap_search_free(&j->q);
	imap_command_free(&j->cmd);
	free(j->text);
	free(j->uids);
	free(j->tag);
	free(j);
	*jp = NULL;
}

/* The first bytes of a file, up to the end of its header. */
static char *read_header(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *data = xmalloc(SORT_HEADER_MAX + 1);
	size_t len = 0;
	while (len < SORT_HEADER_MAX) {
		ssize_t r = read(fd, data + len, SORT_HEADER_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		data[len] = '\0';
		if (strstr(data, "\n\n") != NULL || strstr(data, "\n\r\n") != NULL)
			break;
	}
	close(fd);
	data[len] = '\0';
	*len_r = len;
	return data;
}

static char *header_of(const mbox *mb, size_t i, size_t *len_r)
{
	char *path = mbox_msg_path(mb, i);
	char *data = read_header(path, len_r);
	free(path);
	if (data == NULL && (path = mbox_locate(mb, i)) != NULL) {
		data = read_header(path, len_r);
		free(path);
	}
	return data;
}

static void sort_work(void *arg)
{
	imap_sortjob *j = arg;
	store_view *v = j->s->view;
	const mbox *mb = v->mb;
	uint32_t max_uid = j->n > 0 ? j->uids[j->n - 1] : 0;
	j->hits = xcalloc(j->n + 1, sizeof(imap_sort_msg));
	for (size_t k = 0; k < j->n; k++) {
		long i = mbox_find(mb, j->uids[k]);
		if (i < 0)
			continue; /* expunged meanwhile: matches nothing */
		imap_match_src rc = {.mb = mb, .i = (size_t)i};
		imap_match_msg m = {.m = &mb->msgs[i], .kw = &v->kw, .saved = j->s->saved,
		                    .n_saved = j->s->n_saved, .read = imap_match_read_mbox, .read_arg = &rc};
		if (imap_search_match(j->q.root, &m, (uint32_t)(k + 1), (uint32_t)j->n, max_uid)) {
			imap_sort_msg *h = &j->hits[j->nhits++];
			h->seq = (uint32_t)(k + 1);
			h->uid = j->uids[k];
			h->arrival = mb->msgs[i].internal;
			h->date = h->arrival;
			h->size = mb->msgs[i].vsize;
			if (j->need_header) {
				size_t len = 0;
				char *hdr = m.data ? NULL : header_of(mb, (size_t)i, &len);
				imap_sort_msg_fill(h, m.data ? m.data : hdr ? hdr : "", m.data ? m.hdr_end : len);
				free(hdr);
			}
		}
		imap_match_msg_done(&m);
	}
}

static void sort_done(void *arg)
{
	imap_sortjob *j = arg;
	imap_session *s = j->s;
	j->finish(j);
	imap_sortjob_free(&j);
	conn_resume(s->c);
}

void imap_sortjob_run(imap_sortjob *j, void (*finish)(imap_sortjob *j))
{
	imap_session *s = j->s;
	j->finish = finish;
	j->uids = store_viewer_uids(s->viewer, &j->n);
	conn_pause(s->c);
	store_view_run(s->view, STORE_READ, sort_work, sort_done, j);
}
