/* list.c — LIST and LSUB (RFC 9051 6.3.9, RFC 3501 6.3.8-9), LIST-EXTENDED
 * (RFC 5258) with the SPECIAL-USE selection (RFC 6154), and LIST-STATUS
 * (RFC 5819): which names a request selects, their attributes and
 * CHILDINFO, and a STATUS after each selectable one, counted on a worker by
 * status.c.  Arguments are listargs.c's, folders come from folders.c, names
 * are shown by names.c; this file only decides and writes. */
#include "imap/session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/folders.h"
#include "imap/listargs.h"
#include "imap/names.h"
#include "imap/status.h"
#include "imap/wildcard.h"
#include "lib/log.h"

#define PATTERN_MAX 1024

typedef struct list_ctx {
	imap_session *s;
	const imap_list_args *la;
	bool lsub;
	unsigned select;       /* selection criteria: LSUB selects by subscription */
	strlist existing;      /* INBOX first */
	strlist subscribed;
	strlist candidates;    /* existing, subscribed, and every parent of them */
	strlist full;          /* reference + pattern */
	strlist full_inbox;    /* the same with a leading INBOX in any case as "INBOX" */
} list_ctx;

typedef struct list_entry {
	char *name;
	char *line;            /* the LIST / LSUB response, CRLF included */
	char *path;            /* the folder, when a STATUS follows; else NULL */
	imap_status_counts counts;
	bool counted;
	char *err;
} list_entry;

typedef struct list_job {
	imap_session *s;
	char *tag;
	const char *verb;
	unsigned items;
	list_entry *e;
	size_t n;
	size_t next;           /* LIST-STATUS: the entry being counted */
} list_job;

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* name and each level above it ("a.b.c": "a", "a.b"), once each. */
static void add_with_parents(strlist *out, const char *name)
{
	for (const char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
		char *parent = xstrndup(name, (size_t)(dot - name));
		if (parent[0] != '\0' && !strlist_contains(out, parent))
			strlist_add_owned(out, parent);
		else
			free(parent);
	}
	if (!strlist_contains(out, name))
		strlist_add(out, name);
}

static bool has_descendant(const strlist *l, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->items[i], name, n) == 0 && l->items[i][n] == '.')
			return true;
	return false;
}

static bool is_inbox_level(const char *name)
{
	return strncmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '.');
}

static bool pattern_matches(const list_ctx *x, const char *name)
{
	const strlist *pats = is_inbox_level(name) ? &x->full_inbox : &x->full;
	for (size_t i = 0; i < pats->n; i++)
		if (imap_wildcard_match(pats->items[i], name))
			return true;
	return false;
}

/* The selection criteria, for a request that has some (RFC 5258 3.1). */
static bool meets_selection(const list_ctx *x, const char *name)
{
	if ((x->select & IMAP_LIST_SEL_SUBSCRIBED) && !strlist_contains(&x->subscribed, name))
		return false;
	if ((x->select & IMAP_LIST_SEL_SPECIAL_USE) &&
	    (!strlist_contains(&x->existing, name) || imap_folder_special_use(name) == NULL))
		return false;
	return true;
}

/* RECURSIVEMATCH: a descendant that meets the criteria but is not listed
 * itself (the pattern leaves it out), so the parent says so in CHILDINFO. */
static bool child_meets(const list_ctx *x, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < x->candidates.n; i++) {
		const char *d = x->candidates.items[i];
		if (strncmp(d, name, n) == 0 && d[n] == '.' && meets_selection(x, d) && !pattern_matches(x, d))
			return true;
	}
	return false;
}

/* Whether name is listed; *childinfo_r: with CHILDINFO. */
static bool selected(const list_ctx *x, const char *name, bool *childinfo_r)
{
	*childinfo_r = false;
	if (!pattern_matches(x, name))
		return false;
	if (!(x->select & (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE)))
		return strlist_contains(&x->existing, name) || has_descendant(&x->existing, name);
	*childinfo_r = (x->select & IMAP_LIST_SEL_RECURSIVEMATCH) && child_meets(x, name);
	return meets_selection(x, name) || *childinfo_r;
}

/* The attributes of a listed name, between the parentheses. */
static void write_attributes(const list_ctx *x, const char *name, buf *out)
{
	unsigned ret = x->la->ret;
	bool ext = x->la->extended, exists = strlist_contains(&x->existing, name);
	const char *use = exists && !x->lsub ? imap_folder_special_use(name) : NULL;
	const char *attr[4] = {NULL, NULL, NULL, NULL};
	if (!exists) /* \NonExistent implies \Noselect; rev1 clients know only the latter */
		attr[0] = ext || (x->s->enabled & IMAP_ENABLED_REV2) ? "\\NonExistent" : "\\Noselect";
	if (!x->lsub && (ret & IMAP_LIST_RET_SUBSCRIBED) && strlist_contains(&x->subscribed, name))
		attr[1] = "\\Subscribed";
	if (!ext || (ret & IMAP_LIST_RET_CHILDREN)) /* the basic form always had them */
		attr[2] = has_descendant(&x->existing, name) ? "\\HasChildren" : "\\HasNoChildren";
	if (!ext || (ret & IMAP_LIST_RET_SPECIAL_USE))
		attr[3] = use;
	const char *sep = "";
	for (size_t k = 0; k < 4; k++) {
		if (attr[k] != NULL) {
			BUF_PRINTF(out, "%s%s", sep, attr[k]);
			sep = " ";
		}
	}
}

/* The CHILDINFO values: the selection options the criteria are made of. */
static void write_childinfo(const list_ctx *x, buf *out)
{
	BUF_PUTS(out, " (\"CHILDINFO\" (");
	if (x->select & IMAP_LIST_SEL_SUBSCRIBED)
		BUF_PRINTF(out, "\"SUBSCRIBED\"%s", x->select & IMAP_LIST_SEL_SPECIAL_USE ? " " : "");
	if (x->select & IMAP_LIST_SEL_SPECIAL_USE)
		BUF_PUTS(out, "\"SPECIAL-USE\"");
	BUF_PUTS(out, "))");
}

/* The response for name, or NULL when the name cannot be shown. */
static char *entry_line(const list_ctx *x, const char *verb, const char *name, bool childinfo)
{
	buf line;
	buf_init(&line, BUF_UNBOUNDED);
	BUF_PRINTF(&line, "* %s (", verb);
	write_attributes(x, name, &line);
	BUF_PUTS(&line, ") \".\" ");
	if (!imap_name_out(x->s, &line, name)) {
		buf_free(&line);
		return NULL;
	}
	if (childinfo)
		write_childinfo(x, &line);
	BUF_PUTS(&line, "\r\n");
	return buf_steal(&line);
}

/* The patterns with the reference in front; false when one is too long. */
static bool full_patterns(list_ctx *x)
{
	for (size_t i = 0; i < x->la->patterns.n; i++) {
		char *full = xasprintf("%s%s", x->la->ref, x->la->patterns.items[i]);
		if (strlen(full) > PATTERN_MAX) {
			free(full);
			return false;
		}
		char *folded = xstrdup(full);
		if (strncasecmp(folded, "INBOX", 5) == 0) /* INBOX is INBOX in any case */
			memcpy(folded, "INBOX", 5);
		strlist_add_owned(&x->full, full);
		strlist_add_owned(&x->full_inbox, folded);
	}
	return true;
}

static void gather(list_ctx *x)
{
	imap_folder_names(x->s, &x->existing);
	if (!imap_subscriptions_read(x->s, &x->subscribed)) /* never changed: all of them */
		for (size_t i = 0; i < x->existing.n; i++)
			strlist_add(&x->subscribed, x->existing.items[i]);
	strlist_add(&x->candidates, "INBOX");
	for (size_t i = 0; i < x->existing.n; i++)
		add_with_parents(&x->candidates, x->existing.items[i]);
	for (size_t i = 0; i < x->subscribed.n; i++)
		add_with_parents(&x->candidates, x->subscribed.items[i]);
	qsort(x->candidates.items + 1, x->candidates.n - 1, sizeof(char *), by_name);
}

static void ctx_free(list_ctx *x)
{
	strlist_free(&x->existing);
	strlist_free(&x->subscribed);
	strlist_free(&x->candidates);
	strlist_free(&x->full);
	strlist_free(&x->full_inbox);
}

/* The listed names, in order, each with its response line. */
static list_entry *list_entries(const list_ctx *x, const char *verb, size_t *n_r)
{
	list_entry *e = xcalloc(x->candidates.n + 1, sizeof(*e));
	size_t n = 0;
	for (size_t i = 0; i < x->candidates.n; i++) {
		const char *name = x->candidates.items[i];
		bool childinfo;
		char *line;
		if (!selected(x, name, &childinfo) || (line = entry_line(x, verb, name, childinfo)) == NULL)
			continue;
		e[n] = (list_entry){.name = xstrdup(name), .line = line};
		if ((x->la->ret & IMAP_LIST_RET_STATUS) && strlist_contains(&x->existing, name))
			e[n].path = imap_folder_path(x->s, name);
		n++;
	}
	*n_r = n;
	return e;
}

static void job_free(list_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->e[i].name);
		free(j->e[i].line);
		free(j->e[i].path);
		free(j->e[i].err);
	}
	free(j->e);
	free(j->tag);
	free(j);
}

/* Every response, then the tagged OK. */
static void list_reply(list_job *j)
{
	imap_session *s = j->s;
	for (size_t i = 0; i < j->n; i++) {
		list_entry *e = &j->e[i];
		conn_puts(s->c, e->line);
		if (e->counted)
			imap_status_reply(s, e->name, j->items, &e->counts);
		else if (e->err != NULL) /* RFC 5819: the STATUS may be left out */
			log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s list_status_error=%s", s->sid,
			          s->account, e->err);
	}
	imap_tagged(s, j->tag, "OK", "%s completed", j->verb);
}

/* LIST-STATUS: the entries' folders are counted one after the other, each
 * through its shared view; then every response goes out. */
static void count_next(list_job *j);

static void counted(void *arg, const imap_status_counts *counts)
{
	list_job *j = arg;
	list_entry *e = &j->e[j->next++];
	e->counted = counts != NULL;
	if (counts != NULL)
		e->counts = *counts;
	else
		e->err = xasprintf("%s cannot be read", e->path);
	count_next(j);
}

static void count_next(list_job *j)
{
	while (j->next < j->n && j->e[j->next].path == NULL)
		j->next++;
	if (j->next < j->n) {
		imap_status_count(j->s->srv->views, j->s->maildir, j->e[j->next].path, false, counted, j);
		return;
	}
	imap_session *s = j->s;
	list_reply(j);
	job_free(j);
	conn_resume(s->c);
}

/* LIST "" "": the hierarchy delimiter and the root (RFC 9051 6.3.9). */
static bool root_only(const imap_list_args *la)
{
	return la->patterns.n == 1 && la->patterns.items[0][0] == '\0' && la->select == 0;
}

static void run_list(imap_session *s, const char *tag, const imap_list_args *la, bool lsub)
{
	const char *verb = lsub ? "LSUB" : "LIST";
	list_ctx x = {.s = s, .la = la, .lsub = lsub,
	              .select = lsub ? IMAP_LIST_SEL_SUBSCRIBED : la->select};
	strlist_init(&x.existing);
	strlist_init(&x.subscribed);
	strlist_init(&x.candidates);
	strlist_init(&x.full);
	strlist_init(&x.full_inbox);
	if (!full_patterns(&x)) {
		imap_tagged(s, tag, "BAD", "Pattern too long");
		ctx_free(&x);
		return;
	}
	gather(&x);
	list_job *j = xcalloc(1, sizeof(*j));
	*j = (list_job){.s = s, .tag = xstrdup(tag), .verb = verb, .items = la->status_items};
	j->e = list_entries(&x, verb, &j->n);
	ctx_free(&x);
	bool count = false;
	for (size_t i = 0; i < j->n; i++)
		count = count || j->e[i].path != NULL;
	if (!count) {
		list_reply(j);
		job_free(j);
		return;
	}
	conn_pause(s->c);
	count_next(j);
}

void imap_list(imap_session *s, const imap_command *c, bool lsub)
{
	imap_list_args la;
	const char *err = NULL;
	if (!imap_list_args_parse(c->args, lsub, imap_names_utf8(s), (s->enabled & IMAP_ENABLED_REV2) != 0,
	                          &la, &err)) {
		imap_tagged(s, c->tag, "BAD", "%s", err);
	} else if (root_only(&la)) {
		imap_untagged(s, "%s (\\Noselect) \".\" \"\"", lsub ? "LSUB" : "LIST");
		imap_tagged(s, c->tag, "OK", "%s completed", lsub ? "LSUB" : "LIST");
	} else {
		run_list(s, c->tag, &la, lsub);
	}
	imap_list_args_free(&la);
}
