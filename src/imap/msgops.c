/* msgops.c — IMAP's work on messages, on worker threads while the session
 * is paused: SELECT / EXAMINE (opening the folder takes in new mail), FETCH
 * (reading and parsing messages, ENVELOPE, BODYSTRUCTURE, sections, and
 * setting \Seen), STORE (flags are file names: a rename), EXPUNGE and
 * CLOSE.  The responses are built on the worker and sent on the loop. */
#include "imap/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "imap/fetch.h"
#include "imap/flags.h"
#include "imap/seqset.h"
#include "imap/store.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "mime/imapfmt.h"
#include "mime/mime.h"
#include "store/mdname.h"

#define RESPONSE_MAX ((size_t)1 << 31)

/* IMAP system flags and the Maildir letters they are kept as. */
static const struct {
	const char *name;
	unsigned imap, md;
} flag_map[] = {
	{"\\Answered", IMAP_FLAG_ANSWERED, MDF_ANSWERED}, {"\\Flagged", IMAP_FLAG_FLAGGED, MDF_FLAGGED},
	{"\\Deleted", IMAP_FLAG_DELETED, MDF_DELETED},    {"\\Seen", IMAP_FLAG_SEEN, MDF_SEEN},
	{"\\Draft", IMAP_FLAG_DRAFT, MDF_DRAFT},
};
#define N_FLAGS (sizeof(flag_map) / sizeof(flag_map[0]))

static void write_flags(buf *out, unsigned md)
{
	buf_putc(out, '(');
	bool first = true;
	for (size_t i = 0; i < N_FLAGS; i++) {
		if (md & flag_map[i].md) {
			buf_printf(out, "%s%s", first ? "" : " ", flag_map[i].name);
			first = false;
		}
	}
	buf_putc(out, ')');
}

static unsigned md_of(unsigned imap)
{
	unsigned md = 0;
	for (size_t i = 0; i < N_FLAGS; i++)
		if (imap & flag_map[i].imap)
			md |= flag_map[i].md;
	return md;
}

size_t *imap_targets(const mbox *m, const imap_seqset *set, bool uid, size_t *n_r)
{
	size_t *idx = xcalloc(m->n + 1, sizeof(size_t));
	size_t n = 0;
	uint32_t max_uid = m->n > 0 ? m->msgs[m->n - 1].uid : 0;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t key = uid ? m->msgs[i].uid : (uint32_t)(i + 1);
		if (imap_seqset_contains(set, key, uid ? max_uid : (uint32_t)m->n))
			idx[n++] = i;
	}
	*n_r = n;
	return idx;
}

/* ---- SELECT / EXAMINE ---- */

typedef struct select_job {
	imap_session *s;
	char *tag, *name, *path;
	bool readonly;
	mbox *mb;
	char *err;
} select_job;

static void select_work(void *arg)
{
	select_job *j = arg;
	j->mb = mbox_open(j->path, &j->err);
}

static void select_done(void *arg)
{
	select_job *j = arg;
	imap_session *s = j->s;
	if (j->mb == NULL) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s mailbox=%s error=%s", s->sid, s->account,
		          j->name, j->err);
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Cannot open the mailbox");
	} else {
		s->mb = j->mb;
		s->selected = xstrdup(j->name);
		s->readonly = j->readonly;
		s->state = IS_SELECTED;
		const char *all = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
		imap_untagged(s, "FLAGS (%s)", all);
		imap_untagged(s, "OK [PERMANENTFLAGS (%s)] Flags the mailbox keeps", j->readonly ? "" : all);
		imap_untagged(s, "%zu EXISTS", s->mb->n);
		imap_untagged(s, "0 RECENT");
		for (size_t i = 0; i < s->mb->n; i++) {
			if (!(s->mb->msgs[i].flags & MDF_SEEN)) {
				imap_untagged(s, "OK [UNSEEN %zu] First unseen", i + 1);
				break;
			}
		}
		imap_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", s->mb->uidvalidity);
		imap_untagged(s, "OK [UIDNEXT %u] Predicted next UID", s->mb->uidnext);
		imap_tagged(s, j->tag, "OK", "[%s] %s completed", j->readonly ? "READ-ONLY" : "READ-WRITE",
		            j->readonly ? "EXAMINE" : "SELECT");
	}
	free(j->tag);
	free(j->name);
	free(j->path);
	free(j->err);
	free(j);
	conn_resume(s->c);
}

void imap_select(imap_session *s, const char *tag, const char *name, bool readonly)
{
	/* a SELECT, even a failing one, leaves the selected state first */
	mbox_free(&s->mb);
	free(s->selected);
	s->selected = NULL;
	s->state = IS_AUTH;
	char *path = imap_folder_path(s, name);
	struct stat st;
	char *cur = path ? xasprintf("%s/cur", path) : NULL;
	bool exists = cur != NULL && (stat(cur, &st) == 0 || strcmp(path, s->maildir) == 0);
	free(cur);
	if (!exists) {
		imap_tagged(s, tag, "NO", "[NONEXISTENT] No such mailbox");
		free(path);
		return;
	}
	select_job *j = xcalloc(1, sizeof(*j));
	*j = (select_job){.s = s, .tag = xstrdup(tag), .name = xstrdup(name), .path = path,
	                  .readonly = readonly};
	conn_pause(s->c);
	workers_submit(s->srv->wk, select_work, select_done, j);
}

/* ---- FETCH ---- */

typedef struct fetch_job {
	imap_session *s;
	char *tag;
	bool uid;
	bool readonly;
	imap_fetch f;
	size_t *idx;
	size_t n;
	buf out;
	const char *no;         /* a NO for the whole command, or NULL */
} fetch_job;

static bool needs_body(const imap_fetch *f)
{
	return f->nbodies > 0 ||
	       (f->items & (IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_BODY |
	                    IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER | IMAP_FETCH_RFC822_TEXT));
}

static bool sets_seen(const imap_fetch *f)
{
	if (f->items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_TEXT))
		return true;
	for (size_t i = 0; i < f->nbodies; i++)
		if (!f->bodies[i].peek && f->bodies[i].kind != IMAP_BODY_BINARY_SIZE)
			return true;
	return false;
}

static void write_literal(buf *out, const buf *data, bool binary)
{
	bool nul = binary && memchr(data->data, '\0', data->len) != NULL;
	buf_printf(out, "%s{%zu}\r\n", nul ? "~" : "", data->len);
	buf_append(out, data->data, data->len);
}

/* One section of message m as name, then its bytes (or the size). */
static void write_section(fetch_job *j, const mime_message *m, const char *name, const char *spec,
                          imap_body_kind kind, bool partial, uint64_t start, uint64_t count)
{
	imap_section sec;
	imap_fetch_status st = imap_section_parse(spec, &sec);
	if (st == IMAP_FETCH_SYNTAX) {
		j->no = "BAD";
		return;
	}
	buf data;
	buf_init(&data, RESPONSE_MAX);
	st = kind == IMAP_BODY_SECTION ? imap_section_fetch(&data, m, &sec) : imap_binary_fetch(&data, m, &sec);
	imap_section_free(&sec);
	if (st == IMAP_FETCH_UNKNOWN_CTE) {
		j->no = "[UNKNOWN-CTE] The part's Content-Transfer-Encoding is not known";
	} else if (st != IMAP_FETCH_OK) {
		buf_clear(&data); /* no such part: an empty string */
	}
	if (kind == IMAP_BODY_BINARY_SIZE) {
		buf_printf(&j->out, "%s %zu", name, data.len);
	} else {
		if (partial)
			imap_partial(&data, start, count);
		buf_puts(&j->out, name);
		if (partial)
			buf_printf(&j->out, "<%llu>", (unsigned long long)start);
		buf_putc(&j->out, ' ');
		write_literal(&j->out, &data, kind == IMAP_BODY_BINARY);
	}
	buf_free(&data);
}

static void fetch_one(fetch_job *j, size_t i)
{
	mbox *mb = j->s->mb;
	mbox_msg *msg = &mb->msgs[i];
	imap_fetch *f = &j->f;
	char *data = NULL;
	size_t len = 0;
	mime_message *m = NULL;
	if (needs_body(f)) {
		char *path = mbox_msg_path(mb, i);
		data = fs_read_file(path, RESPONSE_MAX, &len);
		free(path);
		if (data == NULL && mbox_relocate(mb, i)) { /* renamed by another session */
			path = mbox_msg_path(mb, i);
			data = fs_read_file(path, RESPONSE_MAX, &len);
			free(path);
		}
		if (data == NULL)
			return; /* expunged by another session: the next NOOP tells */
		m = mime_parse(data, len);
	}
	bool flags_changed = false;
	if (!j->readonly && sets_seen(f) && !(msg->flags & MDF_SEEN)) {
		char *err = NULL;
		flags_changed = mbox_set_flags(mb, i, msg->flags | MDF_SEEN, &err);
		free(err);
	}
	buf *out = &j->out;
	buf_printf(out, "* %zu FETCH (", i + 1);
	size_t mark = out->len;
#define SEP() do { if (out->len > mark) buf_putc(out, ' '); } while (0)
	if (j->uid || (f->items & IMAP_FETCH_UID)) {
		SEP();
		buf_printf(out, "UID %u", msg->uid);
	}
	if ((f->items & IMAP_FETCH_FLAGS) || flags_changed) {
		SEP();
		buf_puts(out, "FLAGS ");
		write_flags(out, msg->flags);
	}
	if (f->items & IMAP_FETCH_INTERNALDATE) {
		char date[64];
		struct tm tm;
		gmtime_r(&msg->internal, &tm);
		strftime(date, sizeof date, "%d-%b-%Y %H:%M:%S +0000", &tm);
		SEP();
		buf_printf(out, "INTERNALDATE \"%s\"", date);
	}
	if (f->items & IMAP_FETCH_RFC822_SIZE) {
		SEP();
		buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)msg->vsize);
	}
	if (f->items & IMAP_FETCH_ENVELOPE) {
		SEP();
		buf_puts(out, "ENVELOPE ");
		imap_write_envelope(out, m, m->root);
	}
	if (f->items & IMAP_FETCH_BODYSTRUCTURE) {
		SEP();
		buf_puts(out, "BODYSTRUCTURE ");
		imap_write_body(out, m, m->root, true);
	}
	if (f->items & IMAP_FETCH_BODY) {
		SEP();
		buf_puts(out, "BODY ");
		imap_write_body(out, m, m->root, false);
	}
	static const struct { unsigned item; const char *name, *spec; } rfc822[] = {
		{IMAP_FETCH_RFC822_HEADER, "RFC822.HEADER", "HEADER"},
		{IMAP_FETCH_RFC822_TEXT, "RFC822.TEXT", "TEXT"},
		{IMAP_FETCH_RFC822, "RFC822", ""},
	};
	for (size_t k = 0; k < 3; k++) {
		if (f->items & rfc822[k].item) {
			SEP();
			write_section(j, m, rfc822[k].name, rfc822[k].spec, IMAP_BODY_SECTION, false, 0, 0);
		}
	}
	for (size_t k = 0; k < f->nbodies; k++) {
		imap_fetch_body *b = &f->bodies[k];
		const char *word = b->kind == IMAP_BODY_SECTION ? "BODY"
		                   : b->kind == IMAP_BODY_BINARY ? "BINARY" : "BINARY.SIZE";
		char *name = xasprintf("%s[%s]", word, b->section);
		SEP();
		write_section(j, m, name, b->section, b->kind, b->partial, b->start, b->count);
		free(name);
	}
#undef SEP
	buf_puts(out, ")\r\n");
	mime_free(&m);
	free(data);
}

static void fetch_work(void *arg)
{
	fetch_job *j = arg;
	for (size_t k = 0; k < j->n && j->no == NULL; k++)
		fetch_one(j, j->idx[k]);
}

static void fetch_done(void *arg)
{
	fetch_job *j = arg;
	imap_session *s = j->s;
	if (j->no != NULL && strcmp(j->no, "BAD") == 0) {
		imap_tagged(s, j->tag, "BAD", "Invalid section");
	} else if (j->no != NULL) {
		imap_tagged(s, j->tag, "NO", "%s", j->no);
	} else {
		conn_send(s->c, j->out.data, j->out.len);
		imap_tagged(s, j->tag, "OK", "%sFETCH completed", j->uid ? "UID " : "");
	}
	imap_fetch_free(&j->f);
	buf_free(&j->out);
	free(j->idx);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

/* The set, for FETCH and STORE; false after a BAD. */
static bool parse_set(imap_session *s, const imap_command *c, imap_seqset *set)
{
	const char *err = NULL;
	if (c->nargs < 2 || !imap_seqset_parse_arg(c->args, set, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "A sequence set is needed");
		return false;
	}
	if (set->searchres) {
		imap_tagged(s, c->tag, "BAD", "There is no saved search result");
		imap_seqset_free(set);
		return false;
	}
	return true;
}

void imap_fetch_cmd(imap_session *s, const imap_command *c)
{
	imap_seqset set;
	if (!parse_set(s, c, &set))
		return;
	fetch_job *j = xcalloc(1, sizeof(*j));
	const char *err = NULL;
	if (!imap_fetch_parse(c->args->next, &j->f, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid FETCH items");
		imap_fetch_free(&j->f);
		imap_seqset_free(&set);
		free(j);
		return;
	}
	j->s = s;
	j->tag = xstrdup(c->tag);
	j->uid = c->uid;
	j->readonly = s->readonly;
	j->idx = imap_targets(s->mb, &set, c->uid, &j->n);
	imap_seqset_free(&set);
	buf_init(&j->out, RESPONSE_MAX);
	conn_pause(s->c);
	workers_submit(s->srv->wk, fetch_work, fetch_done, j);
}

/* ---- STORE ---- */

typedef struct store_job {
	imap_session *s;
	char *tag;
	bool uid;
	imap_store st;
	size_t *idx;
	size_t n;
	buf out;
	bool failed;
} store_job;

static void store_work(void *arg)
{
	store_job *j = arg;
	mbox *mb = j->s->mb;
	unsigned md = md_of(j->st.flags.system);
	for (size_t k = 0; k < j->n; k++) {
		size_t i = j->idx[k];
		unsigned now = mb->msgs[i].flags;
		unsigned want = j->st.mode == IMAP_STORE_REPLACE ? (now & ~(unsigned)(MDF_DRAFT | MDF_FLAGGED | MDF_ANSWERED | MDF_SEEN | MDF_DELETED)) | md
		                : j->st.mode == IMAP_STORE_ADD ? now | md : now & ~md;
		char *err = NULL;
		if (want != now && !mbox_set_flags(mb, i, want, &err)) {
			free(err);
			j->failed = true;
			continue;
		}
		if (j->st.silent)
			continue;
		buf_printf(&j->out, "* %zu FETCH (", i + 1);
		if (j->uid)
			buf_printf(&j->out, "UID %u ", mb->msgs[i].uid);
		buf_puts(&j->out, "FLAGS ");
		write_flags(&j->out, mb->msgs[i].flags);
		buf_puts(&j->out, ")\r\n");
	}
}

static void store_done(void *arg)
{
	store_job *j = arg;
	imap_session *s = j->s;
	conn_send(s->c, j->out.data, j->out.len);
	if (j->failed)
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Some flags could not be stored");
	else
		imap_tagged(s, j->tag, "OK", "%sSTORE completed", j->uid ? "UID " : "");
	imap_store_free(&j->st);
	buf_free(&j->out);
	free(j->idx);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_store_cmd(imap_session *s, const imap_command *c)
{
	imap_seqset set;
	if (!parse_set(s, c, &set))
		return;
	store_job *j = xcalloc(1, sizeof(*j));
	const char *err = NULL;
	if (!imap_store_parse(c->args->next, &j->st, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid STORE arguments");
	} else if (s->readonly) {
		imap_tagged(s, c->tag, "NO", "[READ-ONLY] The mailbox is read-only (EXAMINE)");
	} else if (j->st.flags.keywords.n > 0 || j->st.has_unchangedsince) {
		imap_tagged(s, c->tag, "NO", "[CANNOT] Keywords and UNCHANGEDSINCE are not supported yet");
	} else {
		j->s = s;
		j->tag = xstrdup(c->tag);
		j->uid = c->uid;
		j->idx = imap_targets(s->mb, &set, c->uid, &j->n);
		imap_seqset_free(&set);
		buf_init(&j->out, RESPONSE_MAX);
		conn_pause(s->c);
		workers_submit(s->srv->wk, store_work, store_done, j);
		return;
	}
	imap_store_free(&j->st);
	imap_seqset_free(&set);
	free(j);
}

/* ---- NOOP / CHECK: what changed meanwhile ---- */

typedef struct sync_job {
	imap_session *s;
	char *tag;
	const char *verb;
	uint32_t *uids;       /* the session's view before: UIDs and flags by sequence number */
	unsigned *flags;
	size_t n;
	bool ok;
	char *err;
} sync_job;

static void sync_work(void *arg)
{
	sync_job *j = arg;
	j->ok = mbox_sync(j->s->mb, &j->err);
}

/* Tell the session what others did: messages gone (EXPUNGE, from the
 * highest sequence number down), new ones (EXISTS), changed flags. */
static void sync_done(void *arg)
{
	sync_job *j = arg;
	imap_session *s = j->s;
	if (j->ok) {
		for (size_t k = j->n; k > 0; k--)
			if (mbox_find(s->mb, j->uids[k - 1]) < 0)
				imap_untagged(s, "%zu EXPUNGE", k);
		size_t kept = 0;
		for (size_t k = 0; k < j->n; k++)
			kept += mbox_find(s->mb, j->uids[k]) >= 0;
		if (s->mb->n != kept)
			imap_untagged(s, "%zu EXISTS", s->mb->n);
		buf *out = conn_out(s->c);
		for (size_t k = 0; k < j->n; k++) {
			long i = mbox_find(s->mb, j->uids[k]);
			if (i < 0 || s->mb->msgs[i].flags == j->flags[k])
				continue;
			buf_printf(out, "* %ld FETCH (FLAGS ", i + 1);
			write_flags(out, s->mb->msgs[i].flags);
			buf_puts(out, ")\r\n");
		}
		if (j->tag != NULL)
			imap_tagged(s, j->tag, "OK", "%s completed", j->verb);
	} else {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s sync_error=%s", s->sid, s->account, j->err);
		if (j->tag != NULL)
			imap_tagged(s, j->tag, "NO", "[SERVERBUG] Cannot read the mailbox");
	}
	if (j->tag == NULL)
		imap_idle_synced(s);
	free(j->uids);
	free(j->flags);
	free(j->err);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_sync(imap_session *s, const char *tag, const char *verb)
{
	sync_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->tag = tag ? xstrdup(tag) : NULL;
	j->verb = verb;
	j->uids = xcalloc(s->mb->n + 1, sizeof(uint32_t));
	j->flags = xcalloc(s->mb->n + 1, sizeof(unsigned));
	for (size_t i = 0; i < s->mb->n; i++) {
		j->uids[i] = s->mb->msgs[i].uid;
		j->flags[i] = s->mb->msgs[i].flags;
	}
	j->n = s->mb->n;
	conn_pause(s->c);
	workers_submit(s->srv->wk, sync_work, sync_done, j);
}

/* ---- EXPUNGE / CLOSE ---- */

typedef struct expunge_job {
	imap_session *s;
	char *tag;
	bool close;
	uint32_t *before;     /* the UIDs before, by sequence number */
	size_t n_before;
	uint32_t *uids;       /* those marked \Deleted */
	size_t n;
	bool ok;
	char *err;
} expunge_job;

static void expunge_work(void *arg)
{
	expunge_job *j = arg;
	j->ok = mbox_expunge(j->s->mb, j->uids, j->n, &j->err);
}

static void expunge_done(void *arg)
{
	expunge_job *j = arg;
	imap_session *s = j->s;
	if (!j->close) {
		/* from the highest sequence number down, so each stays right */
		for (size_t k = j->n_before; k > 0; k--)
			if (mbox_find(s->mb, j->before[k - 1]) < 0)
				imap_untagged(s, "%zu EXPUNGE", k);
	}
	if (!j->ok)
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s expunge_error=%s", s->sid, s->account, j->err);
	if (j->close) {
		mbox_free(&s->mb);
		free(s->selected);
		s->selected = NULL;
		s->state = IS_AUTH;
	}
	if (j->ok)
		imap_tagged(s, j->tag, "OK", "%s completed", j->close ? "CLOSE" : "EXPUNGE");
	else
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] Some messages could not be removed");
	free(j->before);
	free(j->uids);
	free(j->err);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_expunge(imap_session *s, const char *tag, bool close, const imap_seqset *uids)
{
	if (s->readonly) {
		if (close) { /* CLOSE after EXAMINE removes nothing */
			mbox_free(&s->mb);
			free(s->selected);
			s->selected = NULL;
			s->state = IS_AUTH;
			imap_tagged(s, tag, "OK", "CLOSE completed");
		} else {
			imap_tagged(s, tag, "NO", "[READ-ONLY] The mailbox is read-only (EXAMINE)");
		}
		return;
	}
	expunge_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->tag = xstrdup(tag);
	j->close = close;
	j->before = xcalloc(s->mb->n + 1, sizeof(uint32_t));
	j->uids = xcalloc(s->mb->n + 1, sizeof(uint32_t));
	uint32_t max_uid = s->mb->n > 0 ? s->mb->msgs[s->mb->n - 1].uid : 0;
	for (size_t i = 0; i < s->mb->n; i++) {
		uint32_t uid = s->mb->msgs[i].uid;
		j->before[j->n_before++] = uid;
		if ((s->mb->msgs[i].flags & MDF_DELETED) &&
		    (uids == NULL || imap_seqset_contains(uids, uid, max_uid)))
			j->uids[j->n++] = uid;
	}
	conn_pause(s->c);
	workers_submit(s->srv->wk, expunge_work, expunge_done, j);
}
