/* qresync.c — the QRESYNC grammar and set arithmetic (see qresync.h):
 * pure functions, unit-tested and fuzzed; no session, no store. */
#include "imap/qresync.h"

#include <string.h>

#include "imap/args.h"

void imap_select_params_free(imap_select_params *p)
{
	imap_seqset_free(&p->known);
	imap_seqset_free(&p->match_seqs);
	imap_seqset_free(&p->match_uids);
	memset(p, 0, sizeof(*p));
}

static uint64_t set_count(const imap_seqset *resolved)
{
	uint64_t n = 0;
	for (size_t i = 0; i < resolved->n; i++)
		n += (uint64_t)resolved->ranges[i].hi - resolved->ranges[i].lo + 1;
	return n;
}

/* A set of explicit numbers ("*" and "$" are refused: the client names
 * messages it knows), resolved. */
static bool explicit_set(const imap_arg *a, imap_seqset *out, const char **error_r)
{
	imap_seqset raw;
	if (a == NULL || !imap_seqset_parse_arg(a, &raw, error_r))
		return false;
	bool ok = !raw.searchres;
	for (size_t i = 0; ok && i < raw.n; i++)
		ok = raw.ranges[i].lo != 0 && raw.ranges[i].hi != 0;
	if (ok)
		imap_seqset_resolve(&raw, UINT32_MAX, out);
	else
		*error_r = "QRESYNC sets name messages by number: no \"*\" or \"$\"";
	imap_seqset_free(&raw);
	return ok;
}

/* "(" seq-set SP uid-set ")" */
static bool parse_match(const imap_arg *a, imap_select_params *p, const char **error_r)
{
	if (a->type != IMAP_ARG_LIST || a->count != 2) {
		*error_r = "QRESYNC sequence match data is (sequence-set UID-set)";
		return false;
	}
	if (!explicit_set(a->child, &p->match_seqs, error_r) ||
	    !explicit_set(a->child->next, &p->match_uids, error_r))
		return false;
	if (set_count(&p->match_seqs) != set_count(&p->match_uids)) {
		*error_r = "QRESYNC sequence match data: the two sets differ in size";
		return false;
	}
	p->has_match = true;
	return true;
}

/* "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" */
static bool parse_qresync(const imap_arg *a, imap_select_params *p, const char **error_r)
{
	if (a == NULL || a->type != IMAP_ARG_LIST || a->count < 2 || a->count > 4) {
		*error_r = "QRESYNC needs (uidvalidity modseq [known-uids] [seq-match-data])";
		return false;
	}
	const imap_arg *x = a->child;
	if (!imap_arg_number(x, &p->uidvalidity) || p->uidvalidity == 0 ||
	    !imap_arg_number64(x->next, &p->modseq) || p->modseq == 0) {
		*error_r = "QRESYNC needs a UIDVALIDITY and a mod-sequence, both from 1";
		return false;
	}
	x = x->next->next;
	if (x != NULL && x->type != IMAP_ARG_LIST) {
		imap_seqset raw;
		if (!imap_seqset_parse_arg(x, &raw, error_r))
			return false;
		p->has_known = !raw.searchres;
		if (p->has_known)
			imap_seqset_resolve(&raw, UINT32_MAX, &p->known);
		imap_seqset_free(&raw);
		if (!p->has_known) {
			*error_r = "QRESYNC known UIDs cannot be \"$\"";
			return false;
		}
		x = x->next;
	}
	if (x != NULL && (!parse_match(x, p, error_r) || x->next != NULL)) {
		if (x->next != NULL)
			*error_r = "QRESYNC: too many parameters";
		return false;
	}
	p->qresync = p->condstore = true;
	return true;
}

bool imap_select_params_parse(const imap_arg *list, bool qresync_enabled, imap_select_params *p,
                              const char **error_r)
{
	memset(p, 0, sizeof(*p));
	if (list->type != IMAP_ARG_LIST || list->child == NULL) {
		*error_r = "SELECT parameters are a non-empty list";
		return false;
	}
	for (const imap_arg *a = list->child; a != NULL; a = a->next) {
		if (imap_arg_atom_is(a, "CONDSTORE")) {
			p->condstore = true;
		} else if (imap_arg_atom_is(a, "QRESYNC") && !p->qresync) {
			if (!qresync_enabled) {
				*error_r = "QRESYNC must be enabled first (ENABLE QRESYNC)";
				return false;
			}
			if (!parse_qresync(a->next, p, error_r))
				return false;
			a = a->next;
		} else {
			*error_r = "Unknown or repeated SELECT parameter";
			return false;
		}
	}
	return true;
}

uint32_t imap_qresync_match_floor(const imap_select_params *p, const uint32_t *present, size_t n)
{
	if (!p->has_match)
		return 0;
	imap_seqset_iter si, ui;
	imap_seqset_iter_init(&si, &p->match_seqs);
	imap_seqset_iter_init(&ui, &p->match_uids);
	uint32_t seq, uid, floor = 0;
	while (imap_seqset_iter_next(&si, &seq) && imap_seqset_iter_next(&ui, &uid)) {
		if (seq > n || present[seq - 1] != uid)
			break;
		floor = uid;
	}
	return floor;
}

/* A UID set written range by range, ascending. */
typedef struct uid_writer {
	buf *out;
	size_t mark;
	uint32_t lo, hi;
	bool open, any, ok;
	const imap_seqset *known;
	size_t ki;
	uint32_t above;
} uid_writer;

static void flush(uid_writer *w)
{
	if (!w->open)
		return;
	bool ok = (!w->any || buf_putc(w->out, ',')) &&
	          (w->lo == w->hi ? buf_printf(w->out, "%u", w->lo)
	                          : buf_printf(w->out, "%u:%u", w->lo, w->hi));
	w->ok = w->ok && ok;
	w->any = true;
	w->open = false;
}

static void add_range(uid_writer *w, uint32_t lo, uint32_t hi)
{
	if (w->open && (uint64_t)w->hi + 1 >= lo) {
		if (hi > w->hi)
			w->hi = hi;
		return;
	}
	flush(w);
	w->lo = lo;
	w->hi = hi;
	w->open = true;
}

/* lo..hi (ascending calls) as far as it is above w->above and in known. */
static void emit(uid_writer *w, uint32_t lo, uint32_t hi)
{
	if (hi <= w->above || lo > hi)
		return;
	if (lo <= w->above)
		lo = w->above + 1;
	if (w->known == NULL) {
		add_range(w, lo, hi);
		return;
	}
	const imap_seqset *k = w->known;
	while (w->ki < k->n && k->ranges[w->ki].hi < lo)
		w->ki++;
	for (size_t i = w->ki; i < k->n && k->ranges[i].lo <= hi; i++) {
		uint32_t a = k->ranges[i].lo > lo ? k->ranges[i].lo : lo;
		uint32_t b = k->ranges[i].hi < hi ? k->ranges[i].hi : hi;
		add_range(w, a, b);
	}
}

bool imap_vanished_set(buf *out, const uint32_t *gone, size_t ngone, bool exact,
                       const uint32_t *present, size_t npresent, uint32_t uidnext,
                       const imap_seqset *known, uint32_t above)
{
	uid_writer w = {.out = out, .mark = out->len, .ok = true, .known = known, .above = above};
	if (exact) {
		for (size_t i = 0; i < ngone; i++)
			emit(&w, gone[i], gone[i]);
	} else {
		uint32_t next = 1; /* the lowest UID not yet looked at */
		for (size_t i = 0; i < npresent && present[i] < uidnext; i++) {
			if (present[i] > next)
				emit(&w, next, present[i] - 1);
			next = present[i] + 1;
		}
		if (uidnext > next)
			emit(&w, next, uidnext - 1);
	}
	flush(&w);
	if (!w.ok)
		buf_truncate(out, w.mark);
	return w.ok && w.any;
}

bool imap_write_uid_set(buf *out, const uint32_t *uids, size_t n)
{
	return imap_vanished_set(out, uids, n, true, NULL, 0, 0, NULL, 0);
}
