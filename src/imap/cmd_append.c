/* cmd_append.c — APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502:
 * several messages, all stored or none, APPENDUID with a UID set) and
 * CATENATE (RFC 4469: a message made of TEXT literals and IMAP URLs of
 * messages or parts in this account), BINARY literal8 and UTF8 (literal8).
 *
 * The command is read on the loop; each URL part is then read from its
 * folder as a reader job on that folder's view, one after the other; then
 * every message is written to the target folder's tmp/ and brought in as
 * one writer job.  Every failure before the last step stores nothing; a
 * failure in it removes the files already written. */
#include "imap/session.h"
#include "imap/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "imap/args.h"
#include "imap/date.h"
#include "imap/flags.h"
#include "imap/imapurl.h"
#include "delivery/quotawarn.h"
#include "imap/names.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "mime/imapfmt.h"
#include "mime/mime.h"

#define APPEND_MESSAGES_MAX 1000  /* messages in one MULTIAPPEND */
#define CATENATE_PARTS_MAX 1000   /* parts in one CATENATE */

/* A part of a message: text as sent (TEXT, or a plain literal), or a URL
 * whose bytes are read before the message is stored. */
typedef struct append_part {
	buf text;              /* the bytes (CRLF line ends as on the wire) */
	char *url;             /* NULL for text; the URL as sent, for BADURL */
	imap_url u;
	char *path;            /* the URL's folder */
} append_part;

typedef struct append_msg {
	unsigned md_flags;
	strlist keywords;
	time_t when;
	append_part *parts;
	size_t nparts;
	char name[160];        /* its file in tmp/ */
	uint32_t uid;
} append_msg;

typedef struct append_job {
	imap_session *s;
	char *tag, *name, *path;
	append_msg *msgs;
	size_t n;
	size_t mi, pi;         /* the next part to look at for a URL */
	store_view *src;       /* the folder a URL is being read from */
	store_view *v;         /* the target folder */
	uint64_t max_size;
	const char *no;        /* the NO, or NULL */
	char *badurl;          /* the URL of a [BADURL] NO */
	char *err;             /* for the log */
	bool over, full;       /* refused: over quota, or no room on the disk */
	uint32_t uidvalidity;
} append_job;

static void job_free(append_job *j)
{
	for (size_t m = 0; m < j->n; m++) {
		for (size_t p = 0; p < j->msgs[m].nparts; p++) {
			buf_free(&j->msgs[m].parts[p].text);
			free(j->msgs[m].parts[p].url);
			free(j->msgs[m].parts[p].path);
			imap_url_free(&j->msgs[m].parts[p].u);
		}
		free(j->msgs[m].parts);
		strlist_free(&j->msgs[m].keywords);
	}
	free(j->msgs);
	store_view_close(&j->src);
	store_view_close(&j->v);
	free(j->tag);
	free(j->name);
	free(j->path);
	free(j->badurl);
	free(j->err);
	free(j);
}

/* ---- reading the command ---- */

static append_part *new_part(append_msg *m, uint64_t max)
{
	m->parts = xrealloc(m->parts, (m->nparts + 1) * sizeof(*m->parts));
	append_part *p = &m->parts[m->nparts++];
	memset(p, 0, sizeof(*p));
	buf_init(&p->text, max > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)max);
	return p;
}

static bool is_literal(const imap_arg *a)
{
	return a != NULL && (a->type == IMAP_ARG_LITERAL || a->type == IMAP_ARG_LITERAL8);
}

/* "CATENATE (" cat-part *(SP cat-part) ")": TEXT literal, or URL astring. */
static bool parse_catenate(const imap_arg *list, append_msg *m, uint64_t max, const char **err_r)
{
	if (list->type != IMAP_ARG_LIST || list->child == NULL || list->count > 2 * CATENATE_PARTS_MAX) {
		*err_r = "CATENATE needs a list of TEXT and URL parts";
		return false;
	}
	for (const imap_arg *a = list->child; a != NULL; a = a->next->next) {
		const char *url;
		size_t len;
		if (imap_arg_atom_is(a, "TEXT") && is_literal(a->next)) {
			append_part *p = new_part(m, max);
			if (!buf_append(&p->text, a->next->str, a->next->len)) {
				*err_r = "TOOBIG";
				return false;
			}
		} else if (imap_arg_atom_is(a, "URL") && imap_arg_astring(a->next, &url, &len)) {
			append_part *p = new_part(m, max);
			p->url = xstrndup(url, len);
		} else {
			*err_r = "CATENATE parts are TEXT literal or URL url";
			return false;
		}
	}
	return true;
}

/* One message from *xp on: [flags] [date-time] data; *xp moves past it. */
static bool parse_message(const imap_arg **xp, append_msg *m, uint64_t max, const char **err_r)
{
	const imap_arg *x = *xp;
	imap_flags fl;
	imap_flags_init(&fl);
	m->when = time(NULL);
	int offset;
	bool ok = true;
	if (x != NULL && x->type == IMAP_ARG_LIST) {
		ok = imap_flags_parse_list(x, &fl, err_r);
		x = x->next;
	}
	if (ok && x != NULL && x->type == IMAP_ARG_QUOTED && x->next != NULL) {
		ok = imap_datetime_parse_arg(x, &m->when, &offset);
		if (!ok)
			*err_r = "Invalid date-time";
		x = x->next;
	}
	m->md_flags = imap_md_flags(fl.system);
	m->keywords = fl.keywords; /* taken over */
	strlist_init(&fl.keywords);
	imap_flags_free(&fl);
	if (!ok)
		return false;
	if (is_literal(x)) {
		append_part *p = new_part(m, max);
		ok = buf_append(&p->text, x->str, x->len);
	} else if (imap_arg_atom_is(x, "UTF8") && x->next != NULL && x->next->type == IMAP_ARG_LIST &&
	           x->next->count == 1 && x->next->child->type == IMAP_ARG_LITERAL8) { /* RFC 6855 4 */
		x = x->next;
		append_part *p = new_part(m, max);
		ok = buf_append(&p->text, x->child->str, x->child->len);
	} else if (imap_arg_atom_is(x, "CATENATE") && x->next != NULL) { /* RFC 4469 */
		x = x->next;
		return parse_catenate(x, m, max, err_r) && (*xp = x->next, true);
	} else {
		*err_r = "APPEND needs a mailbox, then for each message optional flags and date, and a literal";
		return false;
	}
	if (!ok)
		*err_r = "TOOBIG";
	*xp = x->next;
	return ok;
}

/* A URL part must name this server, this account and a folder of it. */
static bool check_url(imap_session *s, append_part *p)
{
	const char *err = NULL;
	if (!imap_url_parse(p->url, strlen(p->url), &p->u, &err))
		return false;
	if (p->u.host != NULL && !str_ascii_ieq(p->u.host, s->srv->cfg->hostname))
		return false;
	if (p->u.user != NULL && !str_ascii_ieq(p->u.user, s->account))
		return false;
	p->path = imap_folder_path(s, p->u.mailbox);
	return p->path != NULL && imap_folder_exists(s, p->path);
}

/* ---- reading the URL parts, one after the other ---- */

static void next_url(append_job *j);
static void store_all(append_job *j);

static append_part *current(append_job *j)
{
	return &j->msgs[j->mi].parts[j->pi];
}

/* Worker, a reader on the URL's folder: the bytes it names (as FETCH
 * BODY[section]<partial> would send them). */
/* What a URL part may still add: the message stays within the message
 * size, and the whole command within what the reader takes in literals,
 * so URLs cannot make a command hold more than a literal could. */
static size_t url_room(const append_job *j)
{
	uint64_t msg = 0, all = 0;
	for (size_t k = 0; k <= j->mi; k++) {
		const append_msg *m = &j->msgs[k];
		for (size_t q = 0; q < m->nparts && (k < j->mi || q < j->pi); q++) {
			all += m->parts[q].text.len;
			if (k == j->mi)
				msg += m->parts[q].text.len;
		}
	}
	uint64_t total = imap_reader_default_limits().max_command;
	uint64_t room_msg = msg < j->max_size ? j->max_size - msg : 0;
	uint64_t room_all = all < total ? total - all : 0;
	return (size_t)(room_msg < room_all ? room_msg : room_all);
}

static void url_work(void *arg)
{
	append_job *j = arg;
	append_part *p = current(j);
	buf_free(&p->text);
	buf_init(&p->text, url_room(j));
	const mbox *mb = j->src->mb;
	long i = mb ? mbox_find(mb, p->u.uid) : -1;
	if (i < 0 || (p->u.uidvalidity != 0 && p->u.uidvalidity != mb->uidvalidity)) {
		j->no = "No such message";
		return;
	}
	size_t len;
	char *data = mbox_read(mb, (size_t)i, (size_t)j->max_size * 2 + 1024, &len);
	if (data == NULL) {
		j->no = "The message cannot be read";
		return;
	}
	mime_message *m = mime_parse(data, len);
	imap_section sec;
	if (imap_section_parse(p->u.section ? p->u.section : "", &sec) == IMAP_FETCH_SYNTAX) {
		j->no = "Bad section";
	} else {
		imap_fetch_status st = imap_section_fetch(&p->text, m, &sec);
		if (st != IMAP_FETCH_OK)
			j->no = st == IMAP_FETCH_TOO_BIG ? "TOOBIG" : "No such part";
		else if (p->u.partial)
			imap_partial(&p->text, p->u.start, p->u.count);
		imap_section_free(&sec);
	}
	mime_free(&m);
	free(data);
}

static void url_done(void *arg)
{
	append_job *j = arg;
	store_view_close(&j->src);
	if (j->no != NULL) {
		j->badurl = xstrdup(current(j)->url);
		store_all(j); /* it answers the NO */
		return;
	}
	j->pi++;
	next_url(j);
}

static void next_url(append_job *j)
{
	for (; j->mi < j->n; j->mi++, j->pi = 0) {
		append_msg *m = &j->msgs[j->mi];
		for (; j->pi < m->nparts; j->pi++) {
			append_part *p = &m->parts[j->pi];
			if (p->url == NULL)
				continue;
			j->src = store_view_open(j->s->srv->views, j->s->maildir, imap_folder_key(j->s, p->path));
			store_view_check(j->src);
			store_view_run(j->src, STORE_READ, url_work, url_done, j);
			return;
		}
	}
	store_all(j);
}

/* ---- storing ---- */

/* The message's bytes with LF line ends, as delivery stores mail. */
static char *assemble(const append_msg *m, size_t *len_r)
{
	size_t total = 0;
	for (size_t p = 0; p < m->nparts; p++)
		total += m->parts[p].text.len;
	char *out = xmalloc(total + 1);
	size_t n = 0;
	for (size_t p = 0; p < m->nparts; p++) {
		const buf *t = &m->parts[p].text;
		memcpy(out + n, t->data ? t->data : "", t->len);
		n += t->len;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!(out[i] == '\r' && i + 1 < n && out[i + 1] == '\n'))
			out[k++] = out[i];
	*len_r = k;
	return out;
}

static bool write_tmp(append_job *j, append_msg *m)
{
	unsigned char rnd[8];
	RAND_bytes(rnd, sizeof rnd);
	snprintf(m->name, sizeof m->name, "%lld.A%02x%02x%02x%02x%02x%02x%02x%02x.%s", (long long)time(NULL),
	         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], j->s->srv->cfg->hostname);
	size_t len;
	char *data = assemble(m, &len);
	char *tmp = xasprintf("%s/tmp/%s", j->path, m->name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fs_write_all(fd, data, len) && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	struct timeval tv[2] = {{m->when, 0}, {m->when, 0}};
	ok = ok && utimes(tmp, tv) == 0;
	if (!ok) {
		j->full = imap_disk_full(errno);
		j->err = xasprintf("%s: %s", tmp, strerror(errno));
		unlink(tmp);
		m->name[0] = '\0';
	}
	free(tmp);
	free(data);
	return ok;
}

/* Worker, the writer on the target folder: all the messages or none. */
static void store_work(void *arg)
{
	append_job *j = arg;
	if (j->v->mb == NULL) {
		j->err = xstrdup(j->v->err ? j->v->err : "the folder cannot be read");
		j->full = imap_disk_full_at(j->s->maildir);
		return;
	}
	uint64_t bytes = 0; /* as sent, CRLF: the size IMAP counts */
	for (size_t k = 0; k < j->n; k++)
		for (size_t p = 0; p < j->msgs[k].nparts; p++)
			bytes += j->msgs[k].parts[p].text.len;
	if (imap_quota_exceeded(j->s, bytes, j->n)) {
		j->over = true;
		j->err = xstrdup("over quota");
		j->msgs[0].uid = 0;
		return;
	}
	bool ok = true;
	for (size_t k = 0; ok && k < j->n; k++)
		ok = write_tmp(j, &j->msgs[k]);
	store_new_msg *nm = xcalloc(j->n, sizeof(*nm));
	for (size_t k = 0; k < j->n; k++)
		nm[k] = (store_new_msg){.name = j->msgs[k].name, .flags = j->msgs[k].md_flags,
		                        .keywords = (const char *const *)j->msgs[k].keywords.items,
		                        .n_keywords = j->msgs[k].keywords.n};
	errno = 0;
	if (ok && store_view_add(j->v, nm, j->n, &j->err)) {
		for (size_t k = 0; k < j->n; k++)
			ok = ok && (j->msgs[k].uid = nm[k].uid) != 0;
		j->uidvalidity = j->v->mb->uidvalidity;
		if (!ok && j->err == NULL)
			j->err = xstrdup("an appended message was not found");
		/* the 90 % warning, as local delivery gives it (the messages are
		 * in: whatever this finds, the APPEND stands) */
		if (ok)
			quota_warn_recheck(j->s->srv->quota, j->s->srv->cfg->hostname, j->s->account, j->s->maildir);
	} else {
		for (size_t k = 0; k < j->n; k++) { /* what was written goes: none is stored */
			char *tmp = j->msgs[k].name[0] ? xasprintf("%s/tmp/%s", j->path, j->msgs[k].name) : NULL;
			if (tmp != NULL)
				unlink(tmp);
			free(tmp);
		}
		if (ok) /* the UID list or the index could not grow */
			j->full = imap_disk_full(errno);
		if (j->err == NULL)
			j->err = xstrdup("the messages could not be stored");
		j->msgs[0].uid = 0;
		if (!j->full)
			j->full = imap_disk_full_at(j->path);
	}
	free(nm);
}

/* The UIDs in the order of the messages (RFC 4315 APPENDUID), runs of
 * consecutive ones as ranges. */
static bool write_uids(buf *out, const uint32_t *uids, size_t n)
{
	bool ok = true;
	for (size_t k = 0; k < n && ok;) {
		size_t e = k;
		while (e + 1 < n && uids[e + 1] == uids[e] + 1)
			e++;
		ok = (k == 0 || buf_putc(out, ',')) &&
		     (e == k ? buf_printf(out, "%u", uids[k]) : buf_printf(out, "%u:%u", uids[k], uids[e]));
		k = e + 1;
	}
	return ok;
}

static void store_done(void *arg)
{
	append_job *j = arg;
	imap_session *s = j->s;
	if (s->view != NULL && s->view == j->v)
		imap_report(s, true); /* RFC 9051 6.3.12: the new messages' EXISTS */
	bool stored = j->n > 0 && j->msgs[0].uid != 0 && j->msgs[j->n - 1].uid != 0;
	if (!stored && (j->over || j->full)) {
		log_event(LOG_LVL_WARN, "imap", "sid=%s user=%s append_refused=%s", s->sid, s->account, j->err);
		imap_tagged(s, j->tag, "NO", "%s", j->over
		            ? "[OVERQUOTA] The mailbox is over its quota; delete some mail first"
		            : "[OVERQUOTA] The disk is full; delete some mail or try again later");
	} else if (!stored) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s append_error=%s", s->sid, s->account,
		          j->err ? j->err : "?");
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] The message could not be stored");
	} else {
		uint32_t *uids = xcalloc(j->n, sizeof(uint32_t));
		for (size_t k = 0; k < j->n; k++) {
			uids[k] = j->msgs[k].uid;
			log_event(LOG_LVL_INFO, "imap_append", "sid=%s user=%s mailbox=%s uid=%u", s->sid, s->account,
			          j->name, j->msgs[k].uid);
		}
		buf set;
		buf_init(&set, 64 + 24 * j->n);
		if (write_uids(&set, uids, j->n))
			imap_tagged(s, j->tag, "OK", "[APPENDUID %u %s] APPEND completed", j->uidvalidity, buf_str(&set));
		else
			imap_tagged(s, j->tag, "OK", "APPEND completed");
		buf_free(&set);
		free(uids);
	}
	job_free(j);
	conn_resume(s->c);
}

/* All URL parts read (or one failed): check the sizes and store. */
static void store_all(append_job *j)
{
	imap_session *s = j->s;
	if (j->badurl != NULL && strcmp(j->no, "TOOBIG") != 0) {
		imap_tagged(s, j->tag, "NO", "[BADURL %s] %s", j->badurl, j->no);
	} else if (j->badurl != NULL) {
		imap_tagged(s, j->tag, "NO", "[TOOBIG] The message is larger than the server accepts");
	} else {
		for (size_t k = 0; k < j->n && j->no == NULL; k++) {
			uint64_t total = 0;
			for (size_t p = 0; p < j->msgs[k].nparts; p++)
				total += j->msgs[k].parts[p].text.len;
			if (total > j->max_size)
				j->no = "[TOOBIG] The message is larger than the server accepts";
		}
		if (j->no == NULL) {
			j->v = store_view_open(s->srv->views, s->maildir, imap_folder_key(s, j->path));
			store_view_run(j->v, STORE_WRITE, store_work, store_done, j);
			return;
		}
		imap_tagged(s, j->tag, "NO", "%s", j->no);
	}
	job_free(j);
	conn_resume(s->c);
}

/* Read every message of the command into j; false after a reply. */
static bool read_messages(imap_session *s, const imap_command *c, append_job *j)
{
	const imap_arg *x = c->args->next;
	const char *err = NULL;
	while (x != NULL) {
		if (j->n == APPEND_MESSAGES_MAX) {
			imap_tagged(s, c->tag, "NO", "[LIMIT] At most %d messages in one APPEND", APPEND_MESSAGES_MAX);
			return false;
		}
		j->msgs = xrealloc(j->msgs, (j->n + 1) * sizeof(*j->msgs));
		append_msg *m = &j->msgs[j->n++];
		memset(m, 0, sizeof(*m));
		strlist_init(&m->keywords);
		if (!parse_message(&x, m, j->max_size, &err)) {
			if (strcmp(err, "TOOBIG") == 0)
				imap_tagged(s, c->tag, "NO", "[TOOBIG] The message is larger than the server accepts");
			else
				imap_tagged(s, c->tag, "BAD", "%s", err);
			return false;
		}
		for (size_t p = 0; p < m->nparts; p++) {
			if (m->parts[p].url != NULL && !check_url(s, &m->parts[p])) {
				imap_tagged(s, c->tag, "NO", "[BADURL %s] The URL names no message of this account",
				            m->parts[p].url);
				return false;
			}
		}
	}
	if (j->n == 0) {
		imap_tagged(s, c->tag, "BAD", "APPEND needs a message");
		return false;
	}
	return true;
}

void imap_append(imap_session *s, const imap_command *c)
{
	if (c->nargs < 2) {
		imap_tagged(s, c->tag, "BAD", "APPEND needs a mailbox, optional flags and date, and a literal");
		return;
	}
	append_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->tag = xstrdup(c->tag);
	j->max_size = (uint64_t)s->srv->cfg->limits.message_size;
	if (!read_messages(s, c, j)) {
		job_free(j);
		return;
	}
	if (!imap_name_arg(s, c->tag, c->args, &j->name)) {
		job_free(j);
		return;
	}
	j->path = imap_folder_path(s, j->name);
	if (j->path == NULL || !imap_folder_exists(s, j->path)) {
		imap_tagged(s, c->tag, "NO", "%s", j->path ? "[TRYCREATE] No such mailbox" : "[CANNOT] That cannot be a mailbox name");
		job_free(j);
		return;
	}
	conn_pause(s->c);
	next_url(j);
}
