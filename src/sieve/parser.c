/* parser.c — Sieve's grammar (RFC 5228 8.2) into a syntax tree: commands
 * with arguments, tests and blocks.  Only the shape is checked here; what
 * each command accepts is validate.c's job.  Nesting is bounded by
 * SIEVE_MAX_NESTING. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

typedef struct parser {
	sieve_compiler *c;
	sieve_lexer lx;
	sieve_token tok;
	unsigned depth;
} parser;

static const char *tok_desc(const sieve_token *t)
{
	switch (t->kind) {
	case TOK_EOF: return "end of script";
	case TOK_IDENT: return "identifier";
	case TOK_TAG: return "tag";
	case TOK_NUMBER: return "number";
	case TOK_STRING: return "string";
	case TOK_LBRACKET: return "'['";
	case TOK_RBRACKET: return "']'";
	case TOK_LPAREN: return "'('";
	case TOK_RPAREN: return "')'";
	case TOK_LBRACE: return "'{'";
	case TOK_RBRACE: return "'}'";
	case TOK_COMMA: return "','";
	case TOK_SEMI: return "';'";
	default: return "invalid token";
	}
}

static bool next(parser *p)
{
	free(p->tok.text);
	p->tok = sieve_lex(&p->lx);
	if (p->tok.kind == TOK_ERROR)
		return sieve_fail(p->c, p->tok.line, p->tok.col, "%s", p->lx.error);
	return true;
}

static bool unexpected(parser *p, const char *wanted)
{
	return sieve_fail(p->c, p->tok.line, p->tok.col, "expected %s, but found %s",
			  wanted, tok_desc(&p->tok));
}

void sieve_node_free(sieve_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nargs; i++) {
		sieve_arg *a = n->args[i];
		for (size_t j = 0; j < a->nstrs; j++)
			free(a->strs[j]);
		free(a->strs);
		free(a->slines);
		free(a->scols);
		free(a->tag);
		free(a);
	}
	free(n->args);
	for (size_t i = 0; i < n->ntests; i++)
		sieve_node_free(n->tests[i]);
	free(n->tests);
	for (size_t i = 0; i < n->nblock; i++)
		sieve_node_free(n->block[i]);
	free(n->block);
	sieve_script_free(&n->included);
	free(n->name);
	free(n);
}

static void push(void ***arr, size_t *n, void *item)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(void *));
	(*arr)[(*n)++] = item;
}

static void add_string(sieve_arg *a, sieve_token *t)
{
	a->strs = xrealloc(a->strs, (a->nstrs + 1) * sizeof(char *));
	a->slines = xrealloc(a->slines, (a->nstrs + 1) * sizeof(unsigned));
	a->scols = xrealloc(a->scols, (a->nstrs + 1) * sizeof(unsigned));
	a->slines[a->nstrs] = t->line;
	a->scols[a->nstrs] = t->col;
	a->strs[a->nstrs++] = t->text;
	t->text = NULL;
}

static bool parse_string_list(parser *p, sieve_arg *a)
{
	a->is_list = true;
	if (!next(p))
		return false;
	for (;;) {
		if (p->tok.kind != TOK_STRING)
			return unexpected(p, "a string in the string list");
		add_string(a, &p->tok);
		if (!next(p))
			return false;
		if (p->tok.kind == TOK_RBRACKET)
			return next(p);
		if (p->tok.kind != TOK_COMMA)
			return unexpected(p, "',' or ']' in the string list");
		if (!next(p))
			return false;
	}
}

static bool parse_test(parser *p, sieve_node **out);

/* arguments: *argument [test / test-list] */
static bool parse_arguments(parser *p, sieve_node *n)
{
	for (;;) {
		sieve_tok_kind k = p->tok.kind;
		if (k != TOK_STRING && k != TOK_NUMBER && k != TOK_TAG && k != TOK_LBRACKET)
			break;
		sieve_arg *a = xcalloc(1, sizeof(*a));
		a->line = p->tok.line;
		a->col = p->tok.col;
		push((void ***)&n->args, &n->nargs, a);
		if (k == TOK_STRING) {
			a->kind = SARG_STRLIST;
			add_string(a, &p->tok);
		} else if (k == TOK_NUMBER) {
			a->kind = SARG_NUMBER;
			a->num = p->tok.num;
		} else if (k == TOK_TAG) {
			a->kind = SARG_TAG;
			a->tag = p->tok.text;
			p->tok.text = NULL;
		} else {
			a->kind = SARG_STRLIST;
			if (!parse_string_list(p, a))
				return false;
			continue;
		}
		if (!next(p))
			return false;
	}
	if (p->tok.kind == TOK_IDENT) {
		sieve_node *t;
		n->has_tests = true;
		bool ok = parse_test(p, &t);
		push((void ***)&n->tests, &n->ntests, t);   /* freed with n, even half-parsed */
		if (!ok)
			return false;
	} else if (p->tok.kind == TOK_LPAREN) {
		n->has_tests = true;
		n->test_list = true;
		if (++p->depth > SIEVE_MAX_NESTING)
			return sieve_fail(p->c, p->tok.line, p->tok.col, "nested more than %d levels deep",
				  SIEVE_MAX_NESTING);
		do {
			if (!next(p))
				return false;
			if (p->tok.kind != TOK_IDENT)
				return unexpected(p, "a test in the test list");
			sieve_node *t;
			bool ok = parse_test(p, &t);
			push((void ***)&n->tests, &n->ntests, t);
			if (!ok)
				return false;
		} while (p->tok.kind == TOK_COMMA);
		if (p->tok.kind != TOK_RPAREN)
			return unexpected(p, "',' or ')' in the test list");
		p->depth--;
		return next(p);
	}
	return true;
}

static sieve_node *new_node(parser *p)
{
	sieve_node *n = xcalloc(1, sizeof(*n));
	n->name = p->tok.text;
	p->tok.text = NULL;
	n->line = p->tok.line;
	n->col = p->tok.col;
	return n;
}

static bool parse_test(parser *p, sieve_node **out)
{
	*out = NULL;
	if (++p->depth > SIEVE_MAX_NESTING)
		return sieve_fail(p->c, p->tok.line, p->tok.col, "nested more than %d levels deep",
				  SIEVE_MAX_NESTING);
	sieve_node *n = new_node(p);
	*out = n;
	if (!next(p) || !parse_arguments(p, n))
		return false;
	p->depth--;
	return true;
}

static bool parse_commands(parser *p, sieve_node ***cmds, size_t *n, bool in_block);

static bool parse_command(parser *p, sieve_node **out)
{
	sieve_node *n = new_node(p);
	*out = n;
	if (!next(p) || !parse_arguments(p, n))
		return false;
	if (p->tok.kind == TOK_SEMI)
		return next(p);
	if (p->tok.kind != TOK_LBRACE)
		return unexpected(p, "end of command ';' or the beginning of a compound block '{'");
	if (++p->depth > SIEVE_MAX_NESTING)
		return sieve_fail(p->c, p->tok.line, p->tok.col, "nested more than %d levels deep",
				  SIEVE_MAX_NESTING);
	n->has_block = true;
	if (!next(p) || !parse_commands(p, &n->block, &n->nblock, true))
		return false;
	p->depth--;
	return next(p);    /* the '}' */
}

static bool parse_commands(parser *p, sieve_node ***cmds, size_t *n, bool in_block)
{
	for (;;) {
		if (p->tok.kind == TOK_RBRACE && in_block)
			return true;
		if (p->tok.kind == TOK_EOF && !in_block)
			return true;
		if (p->tok.kind != TOK_IDENT)
			return unexpected(p, in_block ? "a command or '}'" : "a command");
		sieve_node *c;
		bool ok = parse_command(p, &c);
		push((void ***)cmds, n, c);
		if (!ok)
			return false;
	}
}

bool sieve_parse(sieve_compiler *c, const char *text, size_t len, sieve_script *s)
{
	parser p = {.c = c};
	sieve_lexer_init(&p.lx, text, len);
	bool ok = next(&p) && parse_commands(&p, &s->cmds, &s->ncmds, false);
	free(p.tok.text);
	free(p.lx.error);
	return ok;
}
