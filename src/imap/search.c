/* search.c — SEARCH arguments into a key tree (see search.h).  Keys are
 * table-driven; recursion is bounded by IMAP_SEARCH_MAX_DEPTH. */
#include "imap/search.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imap/args.h"
#include "imap/date.h"
#include "imap/flags.h"
#include "lib/strutil.h"

typedef enum arg_kind { K_NONE, K_STRING, K_HEADER, K_KEYWORD, K_DATE, K_NUMBER, K_SEQSET,
	                    K_NOT, K_OR, K_MODSEQ, K_INTERVAL } arg_kind;

static const struct {
	const char *name;
	imap_search_op op;
	arg_kind kind;
} keys[] = {
	{"ALL", IMAP_SK_ALL, K_NONE}, {"ANSWERED", IMAP_SK_ANSWERED, K_NONE},
	{"DELETED", IMAP_SK_DELETED, K_NONE}, {"DRAFT", IMAP_SK_DRAFT, K_NONE},
	{"FLAGGED", IMAP_SK_FLAGGED, K_NONE}, {"NEW", IMAP_SK_NEW, K_NONE},
	{"OLD", IMAP_SK_OLD, K_NONE}, {"RECENT", IMAP_SK_RECENT, K_NONE},
	{"SEEN", IMAP_SK_SEEN, K_NONE}, {"UNANSWERED", IMAP_SK_UNANSWERED, K_NONE},
	{"UNDELETED", IMAP_SK_UNDELETED, K_NONE}, {"UNDRAFT", IMAP_SK_UNDRAFT, K_NONE},
	{"UNFLAGGED", IMAP_SK_UNFLAGGED, K_NONE}, {"UNSEEN", IMAP_SK_UNSEEN, K_NONE},
	{"BCC", IMAP_SK_BCC, K_STRING}, {"BODY", IMAP_SK_BODY, K_STRING},
	{"CC", IMAP_SK_CC, K_STRING}, {"FROM", IMAP_SK_FROM, K_STRING},
	{"SUBJECT", IMAP_SK_SUBJECT, K_STRING}, {"TEXT", IMAP_SK_TEXT, K_STRING},
	{"TO", IMAP_SK_TO, K_STRING}, {"HEADER", IMAP_SK_HEADER, K_HEADER},
	{"KEYWORD", IMAP_SK_KEYWORD, K_KEYWORD}, {"UNKEYWORD", IMAP_SK_UNKEYWORD, K_KEYWORD},
	{"BEFORE", IMAP_SK_BEFORE, K_DATE}, {"ON", IMAP_SK_ON, K_DATE},
	{"SINCE", IMAP_SK_SINCE, K_DATE}, {"SENTBEFORE", IMAP_SK_SENTBEFORE, K_DATE},
	{"SENTON", IMAP_SK_SENTON, K_DATE}, {"SENTSINCE", IMAP_SK_SENTSINCE, K_DATE},
	{"LARGER", IMAP_SK_LARGER, K_NUMBER}, {"SMALLER", IMAP_SK_SMALLER, K_NUMBER},
	{"UID", IMAP_SK_UID, K_SEQSET}, {"NOT", IMAP_SK_NOT, K_NOT}, {"OR", IMAP_SK_OR, K_OR},
	{"MODSEQ", IMAP_SK_MODSEQ, K_MODSEQ},
	{"SAVEDBEFORE", IMAP_SK_SAVEDBEFORE, K_DATE}, {"SAVEDON", IMAP_SK_SAVEDON, K_DATE},
	{"SAVEDSINCE", IMAP_SK_SAVEDSINCE, K_DATE},
	{"SAVEDATESUPPORTED", IMAP_SK_SAVEDATESUPPORTED, K_NONE},
	{"OLDER", IMAP_SK_OLDER, K_INTERVAL}, {"YOUNGER", IMAP_SK_YOUNGER, K_INTERVAL},
};

typedef struct sparser {
	const imap_arg *a;       /* the next argument */
	imap_search *s;
	const char *err;
} sparser;

static imap_search_key *new_key(imap_search_op op)
{
	imap_search_key *k = xcalloc(1, sizeof(*k));
	k->op = op;
	return k;
}

static void free_keys(imap_search_key *k)
{
	while (k != NULL) {
		imap_search_key *next = k->next;
		free_keys(k->child);          /* depth bounded by the parser */
		imap_seqset_free(&k->set);
		free(k);
		k = next;
	}
}

static const imap_arg *take(sparser *p)
{
	const imap_arg *a = p->a;
	if (a != NULL)
		p->a = a->next;
	return a;
}

static bool parse_key(sparser *p, unsigned depth, imap_search_key **k_r);

/* Keys from p->a until the end of the list; linked as children of and. */
static bool parse_keys(sparser *p, unsigned depth, imap_search_key *and)
{
	imap_search_key **tail = &and->child;
	while (p->a != NULL) {
		if (!parse_key(p, depth, tail))
			return false;
		tail = &(*tail)->next;
	}
	if (and->child == NULL) {
		p->err = "Missing search keys.";
		return false;
	}
	return true;
}

/* MODSEQ ["/flags/..." priv|shared|all] n (RFC 7162 3.1.5) */
static bool parse_modseq(sparser *p, imap_search_key *k)
{
	const imap_arg *a = take(p);
	p->err = "MODSEQ needs a mod-sequence number.";
	if (a != NULL && a->type == IMAP_ARG_QUOTED) {
		const imap_arg *t = take(p);
		if (a->len <= 7 || !str_ascii_nieq(a->str, "/flags/", 7) || t == NULL ||
		    t->type != IMAP_ARG_ATOM) {
			p->err = "Invalid MODSEQ entry name.";
			return false;
		}
		static const char *const types[] = {"priv", "shared", "all"};
		for (size_t i = 0; i < 3; i++)
			if (str_ascii_ieq(t->str, types[i]))
				k->entry_type = types[i];
		if (k->entry_type == NULL) {
			p->err = "MODSEQ entry type must be priv, shared or all.";
			return false;
		}
		k->entry = a->str;
		a = take(p);
	}
	p->s->uses_modseq = true;
	return imap_arg_number64(a, &k->number);
}

static bool parse_key_args(sparser *p, arg_kind kind, unsigned depth, imap_search_key *k)
{
	const imap_arg *a;
	switch (kind) {
	case K_NONE:
		return true;
	case K_HEADER:
		if (!imap_arg_astring(take(p), &k->field, &k->len) || k->len == 0) {
			p->err = "HEADER needs a field name and a string.";
			return false;
		}
		__attribute__((fallthrough)); /* then the value */
	case K_STRING:
		p->err = "Search key needs a string.";
		return imap_arg_astring(take(p), &k->str, &k->len);
	case K_KEYWORD:
		a = take(p);
		p->err = "KEYWORD needs a keyword.";
		if (a == NULL || a->type != IMAP_ARG_ATOM || !imap_flag_keyword_valid(a->str, a->len))
			return false;
		k->str = a->str;
		k->len = a->len;
		return true;
	case K_DATE:
		p->err = "Invalid date (expected d-Mon-yyyy).";
		return imap_date_parse_arg(take(p), &k->date);
	case K_NUMBER:
		p->err = "Search key needs a number.";
		return imap_arg_number64(take(p), &k->number);
	case K_SEQSET:
		return imap_seqset_parse_arg(take(p), &k->set, &p->err);
	case K_NOT:
		return parse_key(p, depth + 1, &k->child);
	case K_OR:
		return parse_key(p, depth + 1, &k->child) && parse_key(p, depth + 1, &k->child->next);
	case K_MODSEQ:
		return parse_modseq(p, k);
	case K_INTERVAL: /* seconds, nz-number (RFC 5032 3): the cut-off from now */
		p->err = "OLDER and YOUNGER need a number of seconds from 1.";
		if (!imap_arg_number64(take(p), &k->number) || k->number == 0 || k->number > (uint64_t)1 << 40)
			return false;
		k->date = time(NULL) - (time_t)k->number;
		return true;
	}
	return false;
}

static bool parse_key(sparser *p, unsigned depth, imap_search_key **k_r)
{
	if (depth >= IMAP_SEARCH_MAX_DEPTH) {
		p->err = "Search keys are nested too deeply.";
		return false;
	}
	const imap_arg *a = take(p);
	if (a == NULL) {
		p->err = "Missing search key.";
		return false;
	}
	if (a->type == IMAP_ARG_LIST) {
		*k_r = new_key(IMAP_SK_AND);
		sparser sub = {a->child, p->s, NULL};
		bool ok = parse_keys(&sub, depth + 1, *k_r);
		p->err = sub.err;
		return ok;
	}
	if (a->type != IMAP_ARG_ATOM) {
		p->err = "Expected a search key.";
		return false;
	}
	unsigned char c = (unsigned char)a->str[0];
	if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
		*k_r = new_key(IMAP_SK_SEQSET);
		return imap_seqset_parse(a->str, a->len, &(*k_r)->set, &p->err);
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (str_ascii_ieq(a->str, keys[i].name)) {
			*k_r = new_key(keys[i].op);
			return parse_key_args(p, keys[i].kind, depth, *k_r);
		}
	}
	p->err = "Unknown search key.";
	return false;
}

/* PARTIAL's range "lo:hi" (RFC 5267 4.4), either way round. */
static bool parse_partial(const imap_arg *a, imap_search *s, const char **error_r)
{
	const char *colon = a && a->type == IMAP_ARG_ATOM ? strchr(a->str, ':') : NULL;
	uint32_t lo, hi;
	if (colon == NULL || !imap_parse_number(a->str, (size_t)(colon - a->str), &lo) ||
	    !imap_parse_number(colon + 1, strlen(colon + 1), &hi) || lo == 0 || hi == 0) {
		*error_r = "PARTIAL needs a range n:m of positions from 1.";
		return false;
	}
	s->partial_lo = lo < hi ? lo : hi;
	s->partial_hi = lo < hi ? hi : lo;
	return true;
}

/* RETURN (MIN MAX ALL COUNT SAVE PARTIAL n:m UPDATE CONTEXT) */
bool imap_search_parse_return(const imap_arg *list, imap_search *s, const char **error_r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{"MIN", IMAP_SEARCH_RET_MIN}, {"MAX", IMAP_SEARCH_RET_MAX},
		{"ALL", IMAP_SEARCH_RET_ALL}, {"COUNT", IMAP_SEARCH_RET_COUNT},
		{"SAVE", IMAP_SEARCH_RET_SAVE}, {"PARTIAL", IMAP_SEARCH_RET_PARTIAL},
		{"UPDATE", IMAP_SEARCH_RET_UPDATE}, {"CONTEXT", IMAP_SEARCH_RET_CONTEXT},
	};
	if (list == NULL || list->type != IMAP_ARG_LIST) {
		*error_r = "RETURN needs a list of options.";
		return false;
	}
	s->esearch = true;
	for (const imap_arg *a = list->child; a != NULL; a = a->next) {
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (imap_arg_atom_is(a, opts[i].name))
				bit = opts[i].bit;
		if (bit == 0 || (s->ret & bit)) {
			*error_r = "Unknown or repeated RETURN option (MIN, MAX, ALL, COUNT, SAVE, PARTIAL, UPDATE "
			           "and CONTEXT are known).";
			return false;
		}
		if (bit == IMAP_SEARCH_RET_PARTIAL && !parse_partial(a->next, s, error_r))
			return false;
		if (bit == IMAP_SEARCH_RET_PARTIAL)
			a = a->next;
		s->ret |= bit;
	}
	if ((s->ret & IMAP_SEARCH_RET_PARTIAL) && (s->ret & IMAP_SEARCH_RET_ALL)) {
		*error_r = "PARTIAL and ALL cannot be asked for together."; /* RFC 5267 4.4 */
		return false;
	}
	if ((s->ret & ~(unsigned)(IMAP_SEARCH_RET_UPDATE | IMAP_SEARCH_RET_CONTEXT)) == 0)
		s->ret |= IMAP_SEARCH_RET_ALL;
	return true;
}

imap_search_status imap_search_parse(const imap_arg *args, imap_search *s, const char **error_r)
{
	memset(s, 0, sizeof(*s));
	const imap_arg *a = args;
	if (imap_arg_atom_is(a, "RETURN")) {
		if (!imap_search_parse_return(a->next, s, error_r))
			return IMAP_SEARCH_BAD;
		a = a->next->next;
	}
	if (imap_arg_atom_is(a, "CHARSET")) {
		size_t len;
		if (!imap_arg_astring(a->next, &s->charset, &len)) {
			*error_r = "CHARSET needs a charset name.";
			return IMAP_SEARCH_BAD;
		}
		a = a->next->next;
		if (!imap_search_charset_known(s->charset)) {
			*error_r = "Only the UTF-8 and US-ASCII charsets are supported.";
			return IMAP_SEARCH_BADCHARSET;
		}
	}
	return imap_search_parse_keys(a, s, error_r);
}

bool imap_search_charset_known(const char *charset)
{
	return str_ascii_ieq(charset, "UTF-8") || str_ascii_ieq(charset, "US-ASCII");
}

imap_search_status imap_search_parse_keys(const imap_arg *a, imap_search *s, const char **error_r)
{
	sparser p = {a, s, NULL};
	s->root = new_key(IMAP_SK_AND);
	if (!parse_keys(&p, 0, s->root)) {
		*error_r = p.err;
		return IMAP_SEARCH_BAD;
	}
	return IMAP_SEARCH_OK;
}

void imap_search_free(imap_search *s)
{
	free_keys(s->root);
	memset(s, 0, sizeof(*s));
}
