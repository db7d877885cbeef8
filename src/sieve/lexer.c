/* lexer.c — Sieve's tokens (RFC 5228 2.2-2.4, 8.1): identifiers, tags,
 * numbers with K/M/G, quoted and multi-line strings, punctuation; comments
 * and white space skipped.  Tracks line and column (in characters) of each
 * token.  Knows nothing of commands or extensions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

void sieve_lexer_init(sieve_lexer *lx, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
	lx->col = 1;
}

static void advance(sieve_lexer *lx)
{
	unsigned char c = (unsigned char)*lx->p++;
	if (c == '\n') {
		lx->line++;
		lx->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		lx->col++;   /* a UTF-8 continuation byte is not a new character */
	}
}

static bool at(const sieve_lexer *lx, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(lx->end - lx->p) >= n && memcmp(lx->p, s, n) == 0;
}

static sieve_token error_tok(sieve_lexer *lx, unsigned line, unsigned col, const char *msg)
{
	sieve_token t = {TOK_ERROR, line, col, NULL, 0};
	free(lx->error);
	lx->error = xstrdup(msg);
	return t;
}

/* Skip blanks and comments; false (error set) on an unclosed comment. */
static bool skip_space(sieve_lexer *lx, unsigned *line_r, unsigned *col_r)
{
	for (;;) {
		while (lx->p < lx->end && strchr(" \t\r\n", *lx->p) != NULL)
			advance(lx);
		if (lx->p < lx->end && *lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx);
		} else if (at(lx, "/*")) {
			lx->comment_line = lx->line;
			advance(lx);
			advance(lx);
			while (lx->p < lx->end && !at(lx, "*/"))
				advance(lx);
			if (lx->p >= lx->end) {
				*line_r = lx->line;   /* reported where the script ends */
				*col_r = lx->col;
				return false;
			}
			advance(lx);
			advance(lx);
		} else {
			return true;
		}
	}
}

static sieve_token lex_number(sieve_lexer *lx, sieve_token t)
{
	uint64_t v = 0;
	while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
		unsigned d = (unsigned)(*lx->p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return error_tok(lx, t.line, t.col, "number is too large");
		v = v * 10 + d;
		advance(lx);
	}
	unsigned shift = 0;
	if (lx->p < lx->end && strchr("kKmMgG", *lx->p) != NULL) {
		char q = (char)toupper((unsigned char)*lx->p);
		shift = q == 'K' ? 10 : q == 'M' ? 20 : 30;
		advance(lx);
	}
	if (shift != 0 && v > (UINT64_MAX >> shift))
		return error_tok(lx, t.line, t.col, "number is too large");
	/* RFC 5228 2.4.1 asks for 31 bits at least; we keep 63 */
	v <<= shift;
	if (v > INT64_MAX)
		return error_tok(lx, t.line, t.col, "number is too large");
	if (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
		return error_tok(lx, lx->line, lx->col, "invalid character after a number");
	t.kind = TOK_NUMBER;
	t.num = v;
	return t;
}

static sieve_token lex_quoted(sieve_lexer *lx, sieve_token t)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	advance(lx);
	for (;;) {
		if (lx->p >= lx->end) {
			char msg[64];
			snprintf(msg, sizeof(msg), "end of script in the string started at line %u", t.line);
			buf_free(&b);
			return error_tok(lx, lx->line, lx->col, msg);
		}
		char c = *lx->p;
		if (c == '"')
			break;
		if (c == '\\') {
			advance(lx);
			if (lx->p >= lx->end)
				continue;
			c = *lx->p;   /* RFC 5228 2.4.2: "\x" is "x" for every x */
		}
		BUF_PUTC(&b, c);
		advance(lx);
	}
	advance(lx);
	t.kind = TOK_STRING;
	t.text = buf_steal(&b);
	return t;
}

/* text: ... CRLF "." CRLF (RFC 5228 2.4.2, 8.1) */
static sieve_token lex_multiline(sieve_lexer *lx, sieve_token t)
{
	for (int i = 0; i < 5; i++)
		advance(lx);
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		advance(lx);
	if (lx->p < lx->end && *lx->p == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			advance(lx);
	}
	if (at(lx, "\r\n"))
		advance(lx);
	if (lx->p >= lx->end || *lx->p != '\n')
		return error_tok(lx, lx->line, lx->col, "expected a line end after \"text:\"");
	advance(lx);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (;;) {
		if (lx->p >= lx->end) {
			char msg[80];
			snprintf(msg, sizeof(msg), "end of script in the multi-line string started at line %u",
				 t.line);
			buf_free(&b);
			return error_tok(lx, lx->line, lx->col, msg);
		}
		const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		const char *eol = nl != NULL ? nl + 1 : lx->end;
		size_t n = (size_t)(eol - lx->p);
		size_t body = n - (nl != NULL) - (nl != NULL && nl > lx->p && nl[-1] == '\r');
		if (body == 1 && lx->p[0] == '.') {
			while (lx->p < eol)
				advance(lx);
			break;
		}
		const char *from = lx->p;
		if (n >= 2 && from[0] == '.' && from[1] == '.')
			from++;        /* dot-stuffing */
		BUF_APPEND(&b, from, (size_t)(eol - from));
		while (lx->p < eol)
			advance(lx);
	}
	t.kind = TOK_STRING;
	t.text = buf_steal(&b);
	return t;
}

sieve_token sieve_lex(sieve_lexer *lx)
{
	unsigned cl = 0, cc = 0;
	if (!skip_space(lx, &cl, &cc)) {
		char msg[80];
		snprintf(msg, sizeof(msg), "end of script in the comment started at line %u",
			 lx->comment_line);
		return error_tok(lx, cl, cc, msg);
	}
	sieve_token t = {TOK_EOF, lx->line, lx->col, NULL, 0};
	if (lx->p >= lx->end)
		return t;
	char c = *lx->p;
	static const char punct[] = "[](){},;";
	static const sieve_tok_kind pk[] = {TOK_LBRACKET, TOK_RBRACKET, TOK_LPAREN, TOK_RPAREN,
		TOK_LBRACE, TOK_RBRACE, TOK_COMMA, TOK_SEMI};
	const char *pp = strchr(punct, c);
	if (c != '\0' && pp != NULL) {
		advance(lx);
		t.kind = pk[pp - punct];
		return t;
	}
	if (isdigit((unsigned char)c))
		return lex_number(lx, t);
	if (c == '"')
		return lex_quoted(lx, t);
	if (at(lx, "text:") || (lx->end - lx->p >= 5 && strncasecmp(lx->p, "text:", 5) == 0))
		return lex_multiline(lx, t);
	bool tag = c == ':';
	const char *s = lx->p + tag;
	if (s < lx->end && (isalpha((unsigned char)*s) || *s == '_')) {
		const char *e = s;
		while (e < lx->end && (isalnum((unsigned char)*e) || *e == '_'))
			e++;
		t.kind = tag ? TOK_TAG : TOK_IDENT;
		t.text = xstrndup(s, (size_t)(e - s));
		str_ascii_lower(t.text);
		while (lx->p < e)
			advance(lx);
		return t;
	}
	if (tag)
		return error_tok(lx, t.line, t.col, "expected a tag name after ':'");
	return error_tok(lx, t.line, t.col, "unexpected character");
}
