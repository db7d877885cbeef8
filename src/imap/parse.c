/* parse.c — the generic IMAP command tokenizer (see parse.h): tag, command
 * name, and the argument tree.  Lists are built with an explicit stack, never
 * by recursion.  Meaning of the arguments belongs to the typed readers. */
#include "imap/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/strutil.h"

#define NONE SIZE_MAX
#define DEPTH_CAP 256

typedef struct link {
	size_t next, child;
} link;

typedef struct parser {
	const unsigned char *p;
	size_t len, pos;
	bool utf8;
	bool brackets;          /* FETCH: "[...]" inside atoms */
	unsigned max_depth;
	imap_arg *nodes;
	link *links;
	size_t nnodes, capnodes;
	char *arena;
	size_t apos, acap;
	size_t first;           /* first top-level argument */
	size_t nargs;
	const char *err;
} parser;

/* Copy n bytes into the arena, NUL-terminated; the arena was sized for the
 * whole command (every token is at most its raw length plus a NUL). */
static char *arena_copy(parser *ps, const void *src, size_t n)
{
	if (n + 1 > ps->acap - ps->apos)
		abort(); /* a bug: the arena is sized 2 * len + 16 */
	char *d = ps->arena + ps->apos;
	memcpy(d, src, n);
	d[n] = '\0';
	ps->apos += n + 1;
	return d;
}

static size_t new_node(parser *ps, imap_arg_type type, size_t *stack_list,
                       size_t *stack_last, unsigned depth)
{
	if (ps->nnodes == ps->capnodes) {
		/* at most one node per input byte, so this stays O(len) */
		ps->capnodes = ps->capnodes ? ps->capnodes * 2 : 16;
		ps->nodes = realloc(ps->nodes, ps->capnodes * sizeof(*ps->nodes));
		ps->links = realloc(ps->links, ps->capnodes * sizeof(*ps->links));
		if (ps->nodes == NULL || ps->links == NULL)
			abort();
	}
	size_t ix = ps->nnodes++;
	memset(&ps->nodes[ix], 0, sizeof(ps->nodes[ix]));
	ps->nodes[ix].type = type;
	ps->links[ix].next = ps->links[ix].child = NONE;
	size_t last = stack_last[depth];
	if (last != NONE)
		ps->links[last].next = ix;
	else if (depth == 0)
		ps->first = ix;
	else
		ps->links[stack_list[depth]].child = ix;
	stack_last[depth] = ix;
	if (depth == 0)
		ps->nargs++;
	else
		ps->nodes[stack_list[depth]].count++;
	return ix;
}

static bool is_atom_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

/* A literal "{n}" / "{n+}", CRLF and n bytes at p[i] inside "[...]" (a
 * header-fld-name is an astring, RFC 9051 9): the index after it, or i when
 * there is none. */
static size_t skip_bracket_literal(const parser *ps, size_t i)
{
	size_t j = i + 1, n = 0;
	while (j < ps->len && ps->p[j] >= '0' && ps->p[j] <= '9' && n <= ps->len) {
		n = n * 10 + (size_t)(ps->p[j] - '0');
		j++;
	}
	if (j == i + 1)
		return i;
	if (j < ps->len && ps->p[j] == '+')
		j++;
	if (ps->len - j < 3 || ps->p[j] != '}' || ps->p[j + 1] != '\r' || ps->p[j + 2] != '\n' ||
	    n > ps->len - j - 3)
		return i;
	return j + 3 + n;
}

/* An atom (with "[...]" sections when brackets); returns its length or 0. */
static size_t scan_atom(parser *ps)
{
	size_t i = ps->pos;
	while (i < ps->len) {
		unsigned char c = ps->p[i];
		if (c == '[' && ps->brackets) {
			i++;
			while (i < ps->len && ps->p[i] != ']') {
				c = ps->p[i];
				if (c == '{') {
					size_t after = skip_bracket_literal(ps, i);
					if (after != i) {
						i = after;
						continue;
					}
				}
				if (c < 0x20 || c >= 0x7f || c == '[') {
					ps->err = "Invalid character inside [ ].";
					return 0;
				}
				i++;
			}
			if (i == ps->len) {
				ps->err = "Missing ] after [.";
				return 0;
			}
			i++;
			continue;
		}
		if (!is_atom_byte(c))
			break;
		i++;
	}
	if (i == ps->pos)
		ps->err = i < ps->len && ps->p[i] >= 0x80 ? "8-bit characters must be in a quoted string or literal."
		                           : "Invalid character in the command.";
	return i - ps->pos;
}

/* A quoted string at ps->pos (the opening quote); escapes removed. */
static bool read_quoted(parser *ps, imap_arg *a)
{
	size_t i = ps->pos + 1;
	if (ps->len - ps->pos + 1 > ps->acap - ps->apos)
		abort(); /* a bug: the arena is sized 2 * len + 16 */
	char *out = ps->arena + ps->apos;
	size_t n = 0;
	bool eight = false;
	for (;;) {
		if (i >= ps->len) {
			ps->err = "Unterminated quoted string.";
			return false;
		}
		unsigned char c = ps->p[i++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i >= ps->len || (ps->p[i] != '"' && ps->p[i] != '\\')) {
				ps->err = "Only \\\\ and \\\" may be escaped in a quoted string.";
				return false;
			}
			c = ps->p[i++];
		} else if (c == '\r' || c == '\n' || c == '\0') {
			ps->err = "Quoted strings cannot contain CR, LF or NUL; use a literal.";
			return false;
		} else if (c >= 0x80) {
			if (!ps->utf8) {
				ps->err = "8-bit characters in a quoted string need UTF-8 support enabled.";
				return false;
			}
			eight = true;
		}
		out[n++] = (char)c;
	}
	if (eight && !imap_utf8_valid(out, n)) {
		ps->err = "Quoted string is not valid UTF-8.";
		return false;
	}
	out[n] = '\0';
	ps->apos += n + 1;
	a->str = out;
	a->len = n;
	ps->pos = i;
	return true;
}

/* {n} / {n+} / ~{n} / ~{n+}, CRLF, then n bytes. */
static bool read_literal(parser *ps, imap_arg *a, bool lit8)
{
	size_t i = ps->pos + (lit8 ? 2 : 1);
	size_t n = 0, digits = 0;
	while (i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9') {
		if (n > (SIZE_MAX - 9) / 10) {
			ps->err = "Literal size is too large.";
			return false;
		}
		n = n * 10 + (size_t)(ps->p[i++] - '0');
		digits++;
	}
	if (digits == 0) {
		ps->err = "Literal size must be a number.";
		return false;
	}
	if (i < ps->len && ps->p[i] == '+')
		i++;
	if (i >= ps->len || ps->p[i] != '}') {
		ps->err = "Literal size must end with }.";
		return false;
	}
	i++;
	if (ps->len - i < 2 || ps->p[i] != '\r' || ps->p[i + 1] != '\n') {
		ps->err = "Literal size must be followed by CRLF.";
		return false;
	}
	i += 2;
	if (n > ps->len - i) {
		ps->err = "Literal is shorter than its announced size.";
		return false;
	}
	if (!lit8 && memchr(ps->p + i, '\0', n) != NULL) {
		ps->err = "Literals cannot contain NUL; use literal8 (~{n}).";
		return false;
	}
	a->str = arena_copy(ps, ps->p + i, n);
	a->len = n;
	ps->pos = i + n;
	return true;
}

/* One token at ps->pos that is not a parenthesis. */
static bool read_token(parser *ps, imap_arg *a)
{
	unsigned char c = ps->p[ps->pos];
	if (c == '"') {
		a->type = IMAP_ARG_QUOTED;
		return read_quoted(ps, a);
	}
	if (c == '{') {
		a->type = IMAP_ARG_LITERAL;
		return read_literal(ps, a, false);
	}
	if (c == '~' && ps->pos + 1 < ps->len && ps->p[ps->pos + 1] == '{') {
		a->type = IMAP_ARG_LITERAL8;
		return read_literal(ps, a, true);
	}
	size_t n = scan_atom(ps);
	if (n == 0)
		return false;
	a->str = arena_copy(ps, ps->p + ps->pos, n);
	a->len = n;
	a->type = n == 3 && str_ascii_nieq(a->str, "NIL", 3) ? IMAP_ARG_NIL : IMAP_ARG_ATOM;
	ps->pos += n;
	return true;
}

/* After a token or ")": a space before the next token, ")" or the end. */
static bool read_separator(parser *ps, unsigned depth, bool *end_r)
{
	*end_r = false;
	if (ps->pos == ps->len) {
		if (depth > 0) {
			ps->err = "Missing ) at the end of the command.";
			return false;
		}
		*end_r = true;
		return true;
	}
	unsigned char c = ps->p[ps->pos];
	if (c == ')')
		return true;
	if (c != ' ') {
		if (c >= 0x80)
			ps->err = "8-bit characters must be in a quoted string or literal.";
		else if (c < 0x20 || c == 0x7f)
			ps->err = "Invalid character in the command.";
		else
			ps->err = "Missing space between arguments.";
		return false;
	}
	ps->pos++;
	if (ps->pos < ps->len && ps->p[ps->pos] == ')' && depth == 0) {
		ps->err = "Unexpected ) without a matching (.";
		return false;
	}
	if (ps->pos == ps->len || ps->p[ps->pos] == ' ' || ps->p[ps->pos] == ')') {
		ps->err = "Unexpected space in the command.";
		return false;
	}
	return true;
}

/* The arguments after the command name (ps->pos at the space or the end). */
static bool read_args(parser *ps)
{
	size_t stack_list[DEPTH_CAP + 1], stack_last[DEPTH_CAP + 1];
	unsigned depth = 0;
	bool end;
	stack_last[0] = NONE;
	if (!read_separator(ps, 0, &end) || end)
		return end;
	for (;;) {
		unsigned char c = ps->p[ps->pos];
		if (c == '(') {
			if (depth >= ps->max_depth) {
				ps->err = "Lists are nested too deeply.";
				return false;
			}
			size_t ix = new_node(ps, IMAP_ARG_LIST, stack_list, stack_last, depth);
			stack_list[++depth] = ix;
			stack_last[depth] = NONE;
			ps->pos++;
			if (ps->pos < ps->len && ps->p[ps->pos] == ')')
				continue;        /* "()" */
			if (ps->pos == ps->len || ps->p[ps->pos] == ' ') {
				ps->err = ps->pos == ps->len ? "Missing ) at the end of the command."
				                             : "Unexpected space in the command.";
				return false;
			}
			continue;
		}
		if (c == ')') {
			if (depth == 0) {
				ps->err = "Unexpected ) without a matching (.";
				return false;
			}
			depth--;
			ps->pos++;
		} else {
			size_t ix = new_node(ps, IMAP_ARG_ATOM, stack_list, stack_last, depth);
			if (!read_token(ps, &ps->nodes[ix]))
				return false;
		}
		if (!read_separator(ps, depth, &end))
			return false;
		if (end)
			return true;
	}
}

/* Tag: 1*<ASTRING-CHAR except "+">, then a space. */
static bool read_tag(parser *ps, imap_command *cmd)
{
	size_t i = 0;
	while (i < ps->len && ps->p[i] != ' ') {
		unsigned char c = ps->p[i];
		if (!is_atom_byte(c) || strchr("%*\\+", c) != NULL) {
			ps->err = "Invalid character in the tag.";
			return false;
		}
		i++;
	}
	if (i == 0) {
		ps->err = ps->len == 0 ? "Empty command line." : "Missing tag.";
		return false;
	}
	if (i == ps->len) {
		ps->err = "Missing command name after the tag.";
		return false;
	}
	cmd->tag = arena_copy(ps, ps->p, i);
	ps->pos = i + 1;
	return true;
}

/* A command name: letters, digits and "-" (extensions are X-...). */
static const char *read_name(parser *ps)
{
	size_t s = ps->pos;
	while (ps->pos < ps->len) {
		unsigned char c = ps->p[ps->pos];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			break;
		ps->pos++;
	}
	if (ps->pos == s) {
		ps->err = "Missing command name.";
		return NULL;
	}
	if (ps->pos < ps->len && ps->p[ps->pos] != ' ') {
		ps->err = "Invalid character in the command name.";
		return NULL;
	}
	char *name = arena_copy(ps, ps->p + s, ps->pos - s);
	for (char *q = name; *q; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 32);
	return name;
}

static bool uid_command_ok(const char *name)
{
	static const char *const ok[] = {"COPY", "MOVE", "FETCH", "SEARCH", "STORE", "EXPUNGE", "SORT", "THREAD"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(name, ok[i]) == 0)
			return true;
	return false;
}

static bool read_command(parser *ps, imap_command *cmd)
{
	if (!read_tag(ps, cmd))
		return false;
	if ((cmd->name = read_name(ps)) == NULL)
		return false;
	if (strcmp(cmd->name, "UID") == 0) {
		if (ps->pos == ps->len) {
			ps->err = "UID must be followed by a command.";
			return false;
		}
		ps->pos++;
		if ((cmd->name = read_name(ps)) == NULL)
			return false;
		if (!uid_command_ok(cmd->name)) {
			ps->err = "UID must be followed by COPY, MOVE, FETCH, SEARCH, STORE, EXPUNGE, SORT or THREAD.";
			return false;
		}
		cmd->uid = true;
	}
	ps->brackets = strcmp(cmd->name, "FETCH") == 0;
	return read_args(ps);
}

/* Turn the index links into pointers (the node array no longer moves). */
static void finish_tree(parser *ps, imap_command *cmd)
{
	for (size_t i = 0; i < ps->nnodes; i++) {
		size_t nx = ps->links[i].next, ch = ps->links[i].child;
		ps->nodes[i].next = nx == NONE ? NULL : &ps->nodes[nx];
		ps->nodes[i].child = ch == NONE ? NULL : &ps->nodes[ch];
	}
	cmd->args = ps->first == NONE ? NULL : &ps->nodes[ps->first];
	cmd->nargs = ps->nargs;
}

bool imap_command_parse(const char *data, size_t len, const imap_parse_opts *opts,
                        imap_command *cmd, const char **error_r)
{
	memset(cmd, 0, sizeof(*cmd));
	parser ps = {
		.p = (const unsigned char *)data, .len = len, .first = NONE,
		.utf8 = opts != NULL && opts->utf8,
		.max_depth = opts != NULL && opts->max_depth != 0 ? opts->max_depth
		                                                 : IMAP_PARSE_MAX_DEPTH,
	};
	if (ps.max_depth > DEPTH_CAP)
		ps.max_depth = DEPTH_CAP;
	if (len > (SIZE_MAX - 16) / 2)
		abort(); /* cannot happen: the reader bounds commands */
	ps.acap = 2 * len + 16;
	ps.arena = xmalloc(ps.acap);
	cmd->arena_ = ps.arena;
	bool ok = read_command(&ps, cmd);
	cmd->nodes_ = ps.nodes;
	if (ok)
		finish_tree(&ps, cmd);
	free(ps.links);
	*error_r = ok ? NULL : ps.err;
	return ok;
}

void imap_command_free(imap_command *cmd)
{
	free(cmd->nodes_);
	free(cmd->arena_);
	memset(cmd, 0, sizeof(*cmd));
}
