/* parse.c — ManageSieve command syntax (see parse.h).  No I/O, no state. */
#include "managesieve/parse.h"

#include <string.h>

#include "lib/utf8.h"

#define NUMBER_MAX 4294967295ULL

typedef struct cursor {
	char *p, *end;
	const char *err;
} cursor;

static bool fail(cursor *c, const char *err)
{
	if (c->err == NULL)
		c->err = err;
	return false;
}

/* Digits into *n (at most NUMBER_MAX); false without digits or past it. */
static bool digits(cursor *c, uint64_t *n)
{
	uint64_t v = 0;
	char *start = c->p;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		v = v * 10 + (uint64_t)(*c->p - '0');
		if (v > NUMBER_MAX)
			return fail(c, "Number too large");
		c->p++;
	}
	if (c->p == start)
		return fail(c, "Expected a number");
	*n = v;
	return true;
}

static bool quoted(cursor *c, msieve_arg *a)
{
	c->p++; /* the opening quote */
	char *out = c->p;
	a->str = out;
	for (;;) {
		if (c->p >= c->end)
			return fail(c, "Unterminated quoted string");
		char ch = *c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (c->p >= c->end || (*c->p != '"' && *c->p != '\\'))
				return fail(c, "Only \\\" and \\\\ may be escaped in a quoted string");
			ch = *c->p++;
		} else if (ch == '\r' || ch == '\n' || ch == '\0') {
			return fail(c, "CR, LF or NUL in a quoted string");
		}
		*out++ = ch;
		if ((size_t)(out - a->str) > MSIEVE_QUOTED_MAX)
			return fail(c, "Quoted string longer than 1024 octets; send a literal");
	}
	a->len = (size_t)(out - a->str);
	if (!imap_utf8_valid(a->str, a->len))
		return fail(c, "A quoted string must be UTF-8");
	a->type = MSIEVE_ARG_STRING;
	return true;
}

static bool literal(cursor *c, msieve_arg *a)
{
	c->p++; /* "{" */
	uint64_t n;
	if (!digits(c, &n))
		return false;
	if (c->p < c->end && *c->p == '+')
		c->p++;
	if (c->end - c->p < 3 || memcmp(c->p, "}\r\n", 3) != 0)
		return fail(c, "A literal is {n+} or {n}, then CRLF");
	c->p += 3;
	if ((uint64_t)(c->end - c->p) < n)
		return fail(c, "Literal shorter than announced");
	a->type = MSIEVE_ARG_STRING;
	a->literal = true;
	a->str = c->p;
	a->len = (size_t)n;
	c->p += n;
	return true;
}

static bool argument(cursor *c, msieve_arg *a)
{
	*a = (msieve_arg){0};
	if (c->p >= c->end)
		return fail(c, "Missing argument");
	if (*c->p == '"')
		return quoted(c, a);
	if (*c->p == '{')
		return literal(c, a);
	if (*c->p >= '0' && *c->p <= '9') {
		uint64_t n;
		if (!digits(c, &n))
			return false;
		a->type = MSIEVE_ARG_NUMBER;
		a->num = (uint32_t)n;
		return true;
	}
	return fail(c, "Arguments are quoted strings, literals or numbers");
}

static bool atom_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

bool msieve_parse(char *data, size_t len, bool with_verb, msieve_cmd *cmd_r, const char **err_r)
{
	cursor c = {.p = data, .end = data + len};
	*cmd_r = (msieve_cmd){0};
	if (with_verb) {
		cmd_r->verb = c.p;
		while (c.p < c.end && atom_char(*c.p))
			c.p++;
		cmd_r->verb_len = (size_t)(c.p - cmd_r->verb);
		if (cmd_r->verb_len == 0) {
			*err_r = "Expected a command name";
			return false;
		}
	}
	while (c.p < c.end) {
		if (with_verb || cmd_r->nargs > 0) {
			if (*c.p != ' ') {
				*err_r = "Arguments are separated by one space";
				return false;
			}
			c.p++;
		}
		if (cmd_r->nargs == MSIEVE_ARGS_MAX) {
			*err_r = "Too many arguments";
			return false;
		}
		if (!argument(&c, &cmd_r->args[cmd_r->nargs])) {
			*err_r = c.err;
			return false;
		}
		cmd_r->nargs++;
	}
	if (!with_verb && (cmd_r->nargs != 1 || cmd_r->args[0].type != MSIEVE_ARG_STRING)) {
		*err_r = "A SASL response is one string";
		return false;
	}
	return true;
}

bool msieve_literal_at_end(const char *line, size_t len, uint64_t *n_r, bool *bad_r)
{
	*bad_r = false;
	if (len < 3 || line[len - 1] != '}')
		return false;
	size_t i = len - 1;
	if (line[i - 1] == '+')
		i--;
	size_t end = i;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == end || i == 0 || line[i - 1] != '{')
		return false;
	uint64_t v = 0;
	for (size_t k = i; k < end; k++) {
		v = v * 10 + (uint64_t)(line[k] - '0');
		if (v > NUMBER_MAX) {
			*bad_r = true;
			return false;
		}
	}
	*n_r = v;
	return true;
}
