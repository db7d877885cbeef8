/* header.c — rewriting the addresses of one address-list header field
 * (see header.h): a lexer into RFC 5322 tokens, a walk over them that
 * finds each addr-spec (in angle brackets or bare, in or out of groups),
 * the rebuild with the map's answers, and the refold of lines made too
 * long.  Must not decide what an address becomes (the map does) or log. */
#include "rewrite/header.h"

#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

#define FOLD_SOFT 78
#define FOLD_HARD 998

typedef enum tok_kind { T_ATOM, T_QUOTED, T_COMMENT, T_DLIT, T_SPECIAL } tok_kind;

typedef struct tok {
	tok_kind kind;
	size_t start, end;   /* offsets in the field */
} tok;

typedef struct lexer {
	const char *s;
	size_t len;
	tok *t;
	size_t n, cap;
} lexer;

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return strchr("()<>[]:;@\\,\"", c) != NULL;
}

static void push(lexer *lx, tok_kind k, size_t start, size_t end)
{
	if (lx->n == lx->cap) {
		lx->cap = lx->cap ? lx->cap * 2 : 32;
		lx->t = xrealloc(lx->t, lx->cap * sizeof(*lx->t));
	}
	lx->t[lx->n++] = (tok){k, start, end};
}

/* The end of a quoted string or domain literal starting at i (its opening
 * character), past the closing one; 0 when it does not close, or when a
 * domain literal holds more than an address literal can (RFC 5321 4.1.3:
 * printable ASCII without '[', '\\', blanks, and here also without '@'
 * and '"', which would make the address split at the wrong place), so
 * that such a field is left as it is rather than taken apart wrongly. */
static size_t close_of(const char *s, size_t len, size_t i, char closing)
{
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (closing == ']' && c != ']' && (c <= ' ' || c > '~' || c == '[' || c == '\\' || c == '@' || c == '"'))
			return 0;
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == closing)
			return i + 1;
	}
	return 0;
}

/* A comment with nested comments and quoted pairs; 0 when it does not close. */
static size_t comment_end(const char *s, size_t len, size_t i)
{
	int depth = 0;
	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return 0;
}

/* Tokens of s[from, len); false when a construct does not close. */
static bool lex(lexer *lx, size_t from)
{
	const char *s = lx->s;
	size_t i = from;
	while (i < lx->len) {
		char c = s[i];
		size_t end;
		if (is_wsp(c)) {
			i++;
			continue;
		}
		if (c == '"' || c == '[' || c == '(') {
			end = c == '(' ? comment_end(s, lx->len, i) : close_of(s, lx->len, i, c == '"' ? '"' : ']');
			if (end == 0)
				return false;
			push(lx, c == '"' ? T_QUOTED : c == '[' ? T_DLIT : T_COMMENT, i, end);
		} else if (is_special(c)) {
			end = i + 1;
			push(lx, T_SPECIAL, i, end);
		} else {
			for (end = i; end < lx->len && !is_wsp(s[end]) && !is_special(s[end]); end++)
				;
			push(lx, T_ATOM, i, end);
		}
		i = end;
	}
	return true;
}

static bool is_char(const lexer *lx, size_t k, char c)
{
	return lx->t[k].kind == T_SPECIAL && lx->s[lx->t[k].start] == c;
}

/* One addr-spec found: the bytes it covers and the address it spells. */
typedef struct found {
	size_t start, end;
	char *address;
} found;

/* Two word tokens of a local part or domain may sit side by side only
 * through a dot ("john"."doe", a.b). */
static bool joined_by_dot(const lexer *lx, const tok *a, const tok *b)
{
	return lx->s[a->end - 1] == '.' || lx->s[b->start] == '.';
}

/* Tokens [a, b) as one addr-spec: word tokens, one '@', domain tokens, no
 * comment inside and no line break inside.  NULL when they are not one. */
static char *addr_spec(const lexer *lx, size_t a, size_t b, size_t *start_r, size_t *end_r)
{
	while (a < b && lx->t[a].kind == T_COMMENT)
		a++;
	while (b > a && lx->t[b - 1].kind == T_COMMENT)
		b--;
	size_t at = b;
	for (size_t k = a; k < b; k++) {
		const tok *t = &lx->t[k];
		if (t->kind == T_COMMENT || (t->kind == T_SPECIAL && !is_char(lx, k, '@')))
			return NULL;
		if (is_char(lx, k, '@')) {
			if (at != b)
				return NULL;
			at = k;
			continue;
		}
		bool local = at == b;
		if (t->kind == T_DLIT ? local || k != at + 1 || k + 1 != b : t->kind == T_QUOTED && !local)
			return NULL;
		if (k > a && k != at + 1 && !joined_by_dot(lx, &lx->t[k - 1], t))
			return NULL;
	}
	if (at == b || at == a || at + 1 == b)
		return NULL;
	*start_r = lx->t[a].start;
	*end_r = lx->t[b - 1].end;
	if (memchr(lx->s + *start_r, '\n', *end_r - *start_r) != NULL)
		return NULL; /* folded inside the address: leave it */
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	for (size_t k = a; k < b; k++)
		BUF_APPEND(&out, lx->s + lx->t[k].start, lx->t[k].end - lx->t[k].start);
	return buf_steal(&out);
}

typedef struct finds {
	found *f;
	size_t n;
} finds;

static void add_found(finds *fs, const lexer *lx, size_t a, size_t b)
{
	size_t start, end;
	char *addr = addr_spec(lx, a, b, &start, &end);
	if (addr == NULL)
		return;
	fs->f = xrealloc(fs->f, (fs->n + 1) * sizeof(*fs->f));
	fs->f[fs->n++] = (found){start, end, addr};
}

/* Inside <...> from token a (after '<') to b (the '>'): skip an obsolete
 * route "@a,@b:" first. */
static void angle_addr(finds *fs, const lexer *lx, size_t a, size_t b)
{
	size_t k = a;
	while (k < b && lx->t[k].kind == T_COMMENT)
		k++;
	if (k < b && is_char(lx, k, '@')) {
		while (k < b && !is_char(lx, k, ':'))
			k++;
		if (k == b)
			return;
		a = k + 1;
	}
	add_found(fs, lx, a, b);
}

/* Walk the tokens: every mailbox ends at ',' or ';' (or the end); a ':'
 * outside brackets starts a group, whose name is no address. */
static bool find_addresses(const lexer *lx, finds *fs)
{
	size_t mb = 0, open = 0;
	bool in_angle = false, had_angle = false;
	for (size_t k = 0; k <= lx->n; k++) {
		bool end = k == lx->n;
		if (in_angle) {
			if (end || is_char(lx, k, '<'))
				return false;
			if (is_char(lx, k, '>')) {
				angle_addr(fs, lx, open + 1, k);
				in_angle = false;
				had_angle = true;
			}
			continue;
		}
		if (!end && is_char(lx, k, '<')) {
			if (had_angle)
				return false;
			in_angle = true;
			open = k;
		} else if (!end && is_char(lx, k, '>')) {
			return false;
		} else if (!end && is_char(lx, k, ':')) {
			mb = k + 1; /* the group's name is behind us */
			had_angle = false;
		} else if (end || is_char(lx, k, ',') || is_char(lx, k, ';')) {
			if (!had_angle)
				add_found(fs, lx, mb, k);
			mb = k + 1;
			had_angle = false;
		}
	}
	return true;
}

/* ---- folding ---- */

typedef struct cut {
	size_t pos;     /* where the new line starts */
	bool add_space; /* after a comma with no space: the new line needs one */
	bool in_comment; /* inside a comment: used only when no other will do */
} cut;

typedef struct cuts {
	cut *c;
	size_t n;
} cuts;

static void add_cut(cuts *cs, size_t pos, bool add_space, bool in_comment)
{
	cs->c = xrealloc(cs->c, (cs->n + 1) * sizeof(*cs->c));
	cs->c[cs->n++] = (cut){pos, add_space, in_comment};
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* s[a, b) is one run of blanks on one line (no CR, no LF). */
static bool blank_run(const char *s, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++)
		if (!is_blank(s[i]))
			return false;
	return a < b;
}

/* Fold points inside the comment s[a, b) (its parentheses included):
 * before the first blank of a run of blanks between two other characters,
 * never at a quoted pair.  RFC 5322 3.2.2 allows FWS there, and unfolding
 * gives the comment back as it was. */
static void comment_cuts(cuts *cs, const char *s, size_t a, size_t b)
{
	for (size_t i = a + 1; i + 1 < b; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (!is_blank(s[i]) || is_wsp(s[i - 1]))
			continue;
		size_t e = i;
		while (e < b && is_blank(s[e]))
			e++;
		if (e < b && !is_wsp(s[e]))
			add_cut(cs, i, false, true);
		i = e - 1;
	}
}

/* Where a line of the field s[0, len) may be broken, in order: before the
 * blanks between two tokens outside angle brackets, after a comma between
 * addresses that has no blank after it, and, as a last resort, at a blank
 * inside a comment.  Never inside a quoted string, a domain literal or an
 * angle address, and never right after the colon (from: its offset + 1).
 * The positions come from the same lexer that found the addresses, so the
 * two never disagree on where a comment or quoted string ends.  No cut at
 * all when the rebuilt field does not lex. */
static cuts fold_points(const char *s, size_t len, size_t from)
{
	cuts cs = {0};
	lexer lx = {.s = s, .len = len};
	if (lex(&lx, from)) {
		bool angle = false;
		size_t gap = from;
		for (size_t k = 0; k < lx.n; k++) {
			const tok *t = &lx.t[k];
			if (!angle && gap > from && blank_run(s, gap, t->start))
				add_cut(&cs, gap, false, false);
			if (is_char(&lx, k, '<'))
				angle = true;
			else if (is_char(&lx, k, '>'))
				angle = false;
			else if (!angle && is_char(&lx, k, ',') && k + 1 < lx.n && lx.t[k + 1].start == t->end)
				add_cut(&cs, t->end, true, false);
			else if (!angle && t->kind == T_COMMENT)
				comment_cuts(&cs, s, t->start, t->end);
			gap = t->end;
		}
	}
	free(lx.t);
	return cs;
}

/* The cut for the line starting at ls and ending at le, lead the blank
 * added in front of it (0 or 1): the last cut between tokens that keeps
 * the line within FOLD_SOFT, else the last one inside a comment that
 * does, else the first after FOLD_SOFT; NULL when there is none.
 * *first: where the cuts not yet behind a line start begin. */
static const cut *pick(const cuts *cs, size_t *first, const char *s, size_t ls, size_t le, size_t lead)
{
	const cut *top = NULL, *inner = NULL, *after = NULL;
	size_t content = ls; /* a line holds more than blanks */
	while (content < le && is_wsp(s[content]))
		content++;
	while (*first < cs->n && cs->c[*first].pos <= ls)
		++*first; /* lines only move forward: the cuts behind are done */
	for (size_t i = *first; i < cs->n && cs->c[i].pos < le && after == NULL; i++) {
		const cut *c = &cs->c[i];
		if (c->pos <= content)
			continue;
		if (lead + c->pos - ls > FOLD_SOFT)
			after = c;
		else if (c->in_comment)
			inner = c;
		else
			top = c;
	}
	return top ? top : inner ? inner : after;
}

/* s[0, len) again with its long lines folded; false when a line stays
 * longer than FOLD_HARD (counting the blank a comma cut adds) or out's
 * bound is reached. */
static bool refold(const char *s, size_t len, size_t name_len, buf *out)
{
	cuts cs = fold_points(s, len, name_len + 1);
	bool ok = true;
	size_t ls = 0, first = 0;
	while (ok && ls < len) {
		const char *nl = memchr(s + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - s) : len;
		size_t lead = 0;
		const cut *k;
		while (ok && lead + le - ls > FOLD_SOFT && (k = pick(&cs, &first, s, ls, le, lead)) != NULL) {
			ok = lead + k->pos - ls <= FOLD_HARD && buf_append(out, s + ls, k->pos - ls) &&
			     buf_puts(out, k->add_space ? "\n " : "\n");
			lead = k->add_space;
			ls = k->pos;
		}
		ok = ok && lead + le - ls <= FOLD_HARD && buf_append(out, s + ls, le - ls) &&
		     (nl == NULL || buf_putc(out, '\n'));
		ls = le + 1;
	}
	free(cs.c);
	return ok;
}

/* Was any line of s[0, len) between start and end longer than FOLD_SOFT? */
static bool has_long_line(const char *s, size_t len)
{
	size_t ls = 0;
	while (ls < len) {
		const char *nl = memchr(s + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - s) : len;
		if (le - ls > FOLD_SOFT)
			return true;
		ls = le + 1;
	}
	return false;
}

/* ---- the field ---- */

static rw_hdr_status rebuild(const char *field, size_t len, size_t name_len, const finds *fs, char **repl,
                             buf *out)
{
	buf tmp;
	buf_init(&tmp, out->max);
	size_t at = 0;
	bool ok = true;
	for (size_t i = 0; i < fs->n && ok; i++) {
		if (repl[i] == NULL)
			continue;
		ok = buf_append(&tmp, field + at, fs->f[i].start - at) && buf_puts(&tmp, repl[i]);
		at = fs->f[i].end;
	}
	ok = ok && buf_append(&tmp, field + at, len - at);
	rw_hdr_status st = ok ? RW_HDR_CHANGED : RW_HDR_TOO_LONG;
	if (ok && has_long_line(tmp.data, tmp.len)) {
		size_t before = out->len;
		if (!refold(tmp.data, tmp.len, name_len, out)) {
			buf_truncate(out, before);
			st = RW_HDR_TOO_LONG;
		}
	} else if (ok && !buf_append(out, tmp.data, tmp.len)) {
		st = RW_HDR_TOO_LONG;
	}
	buf_free(&tmp);
	return st;
}

rw_hdr_status rw_header_rewrite(const char *field, size_t len, size_t name_len, rw_addr_map *map, void *arg,
                                buf *out)
{
	if (name_len == 0 || name_len >= len || field[name_len] != ':')
		return RW_HDR_UNREADABLE;
	lexer lx = {.s = field, .len = len};
	finds fs = {0};
	rw_hdr_status st = RW_HDR_SAME;
	if (!lex(&lx, name_len + 1) || !find_addresses(&lx, &fs))
		st = RW_HDR_UNREADABLE;
	char **repl = fs.n ? xcalloc(fs.n, sizeof(*repl)) : NULL;
	bool any = false;
	for (size_t i = 0; i < fs.n && st == RW_HDR_SAME; i++) {
		repl[i] = map(arg, fs.f[i].address);
		if (repl[i] != NULL && strpbrk(repl[i], "\r\n") != NULL) {
			free(repl[i]);
			repl[i] = NULL;
		}
		any |= repl[i] != NULL;
	}
	if (st == RW_HDR_SAME && any)
		st = rebuild(field, len, name_len, &fs, repl, out);
	for (size_t i = 0; i < fs.n; i++) {
		free(fs.f[i].address);
		free(repl[i]);
	}
	free(repl);
	free(fs.f);
	free(lx.t);
	return st;
}

bool rw_header_next(const char *msg, size_t len, size_t *pos, rw_field *f)
{
	size_t i = *pos;
	if (i >= len || msg[i] == '\n' || (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n'))
		return false;
	f->start = i;
	f->name_len = 0;
	for (size_t k = i; k < len && msg[k] != '\n'; k++)
		if (msg[k] == ':') {
			f->name_len = k - i;
			break;
		}
	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		i = nl ? (size_t)(nl - msg) + 1 : len;
		if (i >= len || (msg[i] != ' ' && msg[i] != '\t'))
			break;
	}
	f->end = i;
	*pos = i;
	return true;
}
