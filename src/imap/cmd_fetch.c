/* cmd_fetch.c — FETCH and UID FETCH (RFC 9051 6.4.5, RFC 3516 BINARY,
 * RFC 7162 CHANGEDSINCE and MODSEQ) on a worker under the folder's gate:
 * a reader, or a writer when it sets \Seen.  ENVELOPE, BODYSTRUCTURE and
 * BODY come from the account's index; sections read and parse the file.
 * The responses are made in batches of about CONN_OUT_HIGH bytes: each
 * batch is sent and the next made only once the client has read most of
 * it, so FETCH 1:* BODY[] of a large folder holds one batch in memory, not
 * the folder.  The gate is let go between batches. */
#include "imap/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/fetch.h"
#include "mime/imapfmt.h"
#include "mime/mime.h"
#include "store/mdname.h"

#define RESPONSE_MAX ((size_t)1 << 31)

typedef struct fetch_job {
	imap_session *s;
	store_view *v;
	char *tag;
	bool uid, writes, condstore, qresync;
	imap_fetch f;
	imap_seqset set;        /* as the client sent it, for VANISHED */
	imap_target *t;
	size_t n;
	buf out;
	const char *no;         /* a NO for the whole command, or NULL */
	bool bad, gone;
	size_t next;            /* the next target to answer for */
	uint32_t *changed;      /* \Seen set on these, in this batch */
	size_t n_changed;
	uint64_t modseq_before; /* the folder's highest mod-sequence at the start */
	uint64_t modseq_own;    /* ... after our last batch */
	bool foreign;           /* someone else changed the folder between batches */
} fetch_job;

static bool needs_file(const imap_fetch *f)
{
	return f->nbodies > 0 || (f->items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER | IMAP_FETCH_RFC822_TEXT));
}

static bool needs_cache(const imap_fetch *f)
{
	return f->items & (IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_BODY | IMAP_FETCH_PREVIEW);
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
	BUF_PRINTF(out, "%s{%zu}\r\n", nul ? "~" : "", data->len);
	BUF_APPEND(out, data->data, data->len);
}

/* One section of message m as name, then its bytes (or the size). */
static void write_section(fetch_job *j, const mime_message *m, const char *name, const char *spec,
                          imap_body_kind kind, bool partial, uint64_t start, uint64_t count)
{
	imap_section sec;
	imap_fetch_status st = imap_section_parse(spec, &sec);
	if (st == IMAP_FETCH_SYNTAX) {
		j->bad = true;
		return;
	}
	buf data;
	buf_init(&data, RESPONSE_MAX);
	st = kind == IMAP_BODY_SECTION ? imap_section_fetch(&data, m, &sec) : imap_binary_fetch(&data, m, &sec);
	imap_section_free(&sec);
	if (st == IMAP_FETCH_UNKNOWN_CTE)
		j->no = "[UNKNOWN-CTE] The part's Content-Transfer-Encoding is not known";
	else if (st != IMAP_FETCH_OK)
		buf_clear(&data); /* no such part: an empty string */
	if (kind == IMAP_BODY_BINARY_SIZE) {
		BUF_PRINTF(&j->out, "%s %zu", name, data.len);
	} else {
		if (partial)
			imap_partial(&data, start, count);
		BUF_PUTS(&j->out, name);
		if (partial)
			BUF_PRINTF(&j->out, "<%llu>", (unsigned long long)start);
		BUF_PUTC(&j->out, ' ');
		write_literal(&j->out, &data, kind == IMAP_BODY_BINARY);
	}
	buf_free(&data);
}

static void write_sections(fetch_job *j, const mime_message *m)
{
	static const struct { unsigned item; const char *name, *spec; } rfc822[] = {
		{IMAP_FETCH_RFC822_HEADER, "RFC822.HEADER", "HEADER"},
		{IMAP_FETCH_RFC822_TEXT, "RFC822.TEXT", "TEXT"},
		{IMAP_FETCH_RFC822, "RFC822", ""},
	};
	for (size_t k = 0; k < 3; k++) {
		if (j->f.items & rfc822[k].item) {
			BUF_PUTC(&j->out, ' ');
			write_section(j, m, rfc822[k].name, rfc822[k].spec, IMAP_BODY_SECTION, false, 0, 0);
		}
	}
	for (size_t k = 0; k < j->f.nbodies; k++) {
		imap_fetch_body *b = &j->f.bodies[k];
		const char *word = b->kind == IMAP_BODY_SECTION ? "BODY"
		                   : b->kind == IMAP_BODY_BINARY ? "BINARY" : "BINARY.SIZE";
		char *name = xasprintf("%s[%s]", word, b->section);
		BUF_PUTC(&j->out, ' ');
		write_section(j, m, name, b->section, b->kind, b->partial, b->start, b->count);
		free(name);
	}
}

/* The simple items; each is written with a space before it (the first one's
 * is dropped by the caller). */
static void write_simple(fetch_job *j, const mbox_msg *msg, bool flags, const store_cache *c)
{
	buf *out = &j->out;
	const imap_fetch *f = &j->f;
	if (j->uid || j->qresync || (f->items & IMAP_FETCH_UID)) /* QRESYNC: always (RFC 7162 3.2.4) */
		BUF_PRINTF(out, " UID %u", msg->uid);
	if (flags) {
		BUF_PUTS(out, " FLAGS ");
		imap_write_flags(out, j->s, j->v, msg);
	}
	if ((f->items & IMAP_FETCH_MODSEQ) || (flags && j->condstore))
		BUF_PRINTF(out, " MODSEQ (%llu)", (unsigned long long)msg->modseq);
	const struct { unsigned item; const char *name; const time_t *t; } dates[] = {
		{IMAP_FETCH_INTERNALDATE, "INTERNALDATE", &msg->internal},
		{IMAP_FETCH_SAVEDATE, "SAVEDATE", &msg->savedate}, /* RFC 8514 */
	};
	for (size_t k = 0; k < 2; k++) {
		if (!(f->items & dates[k].item))
			continue;
		char date[64];
		struct tm tm;
		gmtime_r(dates[k].t, &tm);
		strftime(date, sizeof date, "%d-%b-%Y %H:%M:%S +0000", &tm);
		BUF_PRINTF(out, " %s \"%s\"", dates[k].name, date);
	}
	if (f->items & IMAP_FETCH_RFC822_SIZE)
		BUF_PRINTF(out, " RFC822.SIZE %llu", (unsigned long long)msg->vsize);
	if (f->items & IMAP_FETCH_ENVELOPE)
		BUF_PRINTF(out, " ENVELOPE %s", c->envelope);
	if (f->items & IMAP_FETCH_BODYSTRUCTURE)
		BUF_PRINTF(out, " BODYSTRUCTURE %s", c->bodystructure);
	if (f->items & IMAP_FETCH_BODY)
		BUF_PRINTF(out, " BODY %s", c->body);
	if ((f->items & IMAP_FETCH_PREVIEW) && buf_puts(out, " PREVIEW "))
		imap_write_string(out, c->preview, strlen(c->preview));
}

static bool sections_valid(const imap_fetch *f)
{
	for (size_t k = 0; k < f->nbodies; k++) {
		imap_section sec;
		if (imap_section_parse(f->bodies[k].section, &sec) == IMAP_FETCH_SYNTAX)
			return false;
		imap_section_free(&sec);
	}
	return true;
}

static void fetch_one(fetch_job *j, const imap_target *t)
{
	mbox *mb = j->v->mb;
	long i = mbox_find(mb, t->uid);
	if (i < 0) {
		j->gone = true; /* expunged; the session hears of it later */
		return;
	}
	mbox_msg *msg = &mb->msgs[i];
	if (j->f.has_changedsince && msg->modseq <= j->f.changedsince)
		return;
	store_cache c = {0};
	if (needs_cache(&j->f)) {
		char *path = mbox_msg_path(mb, (size_t)i);
		bool ok = store_index_cache(j->v->ix, msg->uid, path, &c);
		free(path);
		if (!ok && (path = mbox_locate(mb, (size_t)i)) != NULL) { /* renamed by someone else */
			ok = store_index_cache(j->v->ix, msg->uid, path, &c);
			free(path);
		}
		if (!ok) {
			j->gone = true;
			return;
		}
	}
	size_t len = 0;
	char *data = needs_file(&j->f) ? mbox_read(mb, (size_t)i, RESPONSE_MAX, &len) : NULL;
	bool flags_changed = false;
	if (j->writes && !(msg->flags & MDF_SEEN)) {
		char *err = NULL;
		if (mbox_set_flags(mb, (size_t)i, msg->flags | MDF_SEEN, msg->kw, &err)) {
			msg->modseq = store_view_next_modseq(j->v);
			j->changed[j->n_changed++] = msg->uid;
			flags_changed = true;
			imap_audit_msg(j->s, msg, false);
		}
		free(err);
	}
	buf *out = &j->out;
	BUF_PRINTF(out, "* %u FETCH (", t->seq);
	size_t mark = out->len;
	write_simple(j, msg, (j->f.items & IMAP_FETCH_FLAGS) || flags_changed, &c);
	if (data != NULL) {
		mime_message *m = mime_parse(data, len);
		write_sections(j, m);
		mime_free(&m);
	} else if (needs_file(&j->f)) {
		j->gone = true;
	}
	/* drop the space before the first item */
	if (out->len > mark) {
		memmove(out->data + mark, out->data + mark + 1, out->len - mark);
		out->len--;
	}
	BUF_PUTS(out, ")\r\n");
	store_cache_free(&c);
	free(data);
}

/* One batch, on a worker under the gate. */
static void fetch_work(void *arg)
{
	fetch_job *j = arg;
	if (j->next == 0) {
		j->modseq_before = j->modseq_own = j->v->highestmodseq;
		if (j->f.vanished) /* before the FETCH responses (RFC 7162 3.2.6) */
			imap_qresync_fetch_work(j->v, j->f.changedsince, &j->set, j->s->saved, j->s->n_saved,
			                        &j->out);
	} else if (j->v->highestmodseq != j->modseq_own) {
		j->foreign = true;
	}
	while (j->next < j->n && j->no == NULL && !j->bad && j->out.len < CONN_OUT_HIGH)
		fetch_one(j, &j->t[j->next++]);
	if (j->n_changed > 0)
		store_view_save(j->v, j->changed, j->n_changed);
	j->n_changed = 0;
	j->modseq_own = j->v->highestmodseq;
}

static void fetch_finish(fetch_job *j);
static void fetch_done(void *arg);

/* The client has read the last batch: the next one (or the end, when the
 * connection is going). */
static void fetch_next(void *arg)
{
	fetch_job *j = arg;
	if (conn_is_closing(j->s->c)) {
		j->next = j->n;
		j->bad = true;
		fetch_finish(j);
		return;
	}
	store_view_run(j->v, j->writes ? STORE_WRITE : STORE_READ, fetch_work, fetch_done, j);
}

static void fetch_done(void *arg)
{
	fetch_job *j = arg;
	imap_session *s = j->s;
	if (!j->bad) {
		conn_write(s->c, j->out.data, j->out.len);
		buf_clear(&j->out);
	}
	if (j->next < j->n && j->no == NULL && !j->bad) {
		conn_when_drained(s->c, fetch_next, j);
		return;
	}
	fetch_finish(j);
}

static void fetch_finish(fetch_job *j)
{
	imap_session *s = j->s;
	if (conn_is_closing(s->c)) {
		/* nothing more can be said */
	} else if (j->bad) {
		imap_tagged(s, j->tag, "BAD", "Invalid section");
	} else {
		if (j->no != NULL)
			imap_tagged(s, j->tag, "NO", "%s", j->no);
		else if (j->gone)
			imap_tagged(s, j->tag, "NO", "[EXPUNGEISSUED] Some of the requested messages no longer exist");
		else
			imap_tagged(s, j->tag, "OK", "%sFETCH completed", j->uid ? "UID " : "");
	}
	/* its own \Seen changes were told just now */
	if (!j->foreign && s->viewer->flags_modseq == j->modseq_before)
		s->viewer->flags_modseq = s->view->highestmodseq;
	imap_fetch_free(&j->f);
	imap_seqset_free(&j->set);
	buf_free(&j->out);
	free(j->changed);
	free(j->t);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_fetch_cmd(imap_session *s, const imap_command *c)
{
	imap_seqset set;
	if (!imap_parse_set(s, c, &set))
		return;
	fetch_job *j = xcalloc(1, sizeof(*j));
	const char *err = NULL, *bad = NULL;
	if (!imap_fetch_parse(c->args->next, &j->f, &err))
		bad = err ? err : "Invalid FETCH items";
	else if (!sections_valid(&j->f)) /* before any response: batches cannot take it back */
		bad = "Invalid section";
	else if (j->f.vanished && (!c->uid || !(s->enabled & IMAP_ENABLED_QRESYNC))) /* RFC 7162 3.2.6 */
		bad = "VANISHED needs UID FETCH and ENABLE QRESYNC";
	if (bad != NULL) {
		imap_tagged(s, c->tag, "BAD", "%s", bad);
		imap_fetch_free(&j->f);
		imap_seqset_free(&set);
		free(j);
		return;
	}
	if (j->f.has_changedsince || (j->f.items & IMAP_FETCH_MODSEQ))
		s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1: both turn CONDSTORE on */
	j->s = s;
	j->v = s->view;
	j->tag = xstrdup(c->tag);
	j->uid = c->uid;
	j->condstore = s->enabled & IMAP_ENABLED_CONDSTORE;
	j->qresync = s->enabled & IMAP_ENABLED_QRESYNC;
	j->writes = !s->readonly && sets_seen(&j->f);
	j->t = imap_targets(s, &set, c->uid, &j->n);
	j->changed = xcalloc(j->n + 1, sizeof(uint32_t));
	j->set = set; /* for VANISHED */
	buf_init(&j->out, BUF_UNBOUNDED);
	conn_pause(s->c);
	store_view_run(s->view, j->writes ? STORE_WRITE : STORE_READ, fetch_work, fetch_done, j);
}
