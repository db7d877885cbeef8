/* compile.c — sieve_compile: the size bound, parsing, validation, and the
 * first error's position and sentence; compiling included scripts with the
 * include depth and recursion checks (RFC 6609 3.2). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

bool sieve_validate_script(sieve_compiler *c, sieve_script *s);

char *sieve_vformat(const char *fmt, va_list ap)
{
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	return msg;
}

bool sieve_fail(sieve_compiler *c, unsigned line, unsigned col, const char *fmt, ...)
{
	if (c->err->msg != NULL)
		return false;
	va_list ap;
	va_start(ap, fmt);
	c->err->msg = sieve_vformat(fmt, ap);
	va_end(ap);
	c->err->line = line;
	c->err->col = col;
	c->err->script = xstrdup(c->name);
	return false;
}

void sieve_error_free(sieve_error *e)
{
	free(e->msg);
	free(e->script);
	memset(e, 0, sizeof(*e));
}

void sieve_script_free(sieve_script **sp)
{
	sieve_script *s = *sp;
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncmds; i++)
		sieve_node_free(s->cmds[i]);
	free(s->cmds);
	free(s->name);
	free(s);
	*sp = NULL;
}

static bool compile(sieve_compiler *c, const char *text, size_t len, sieve_script **s_r)
{
	sieve_script *s = xcalloc(1, sizeof(*s));
	s->name = xstrdup(c->name);
	*s_r = NULL;
	bool ok;
	if (len > SIEVE_MAX_SCRIPT_SIZE)
		ok = sieve_fail(c, 1, 1, "script is larger than %d bytes", SIEVE_MAX_SCRIPT_SIZE);
	else if (memchr(text, '\0', len) != NULL)
		ok = sieve_fail(c, 1, 1, "script contains a NUL byte");
	else
		ok = sieve_parse(c, text, len, s) && sieve_validate_script(c, s);
	strlist_free(&c->varnames);
	if (!ok) {
		sieve_script_free(&s);
		return false;
	}
	*s_r = s;
	return true;
}

bool sieve_compile(const char *text, size_t len, const sieve_loader *loader,
		   sieve_script **script_r, sieve_error *err_r)
{
	static const sieve_loader none = {NULL, NULL};
	memset(err_r, 0, sizeof(*err_r));
	strlist stack;
	strlist_init(&stack);
	strlist_add(&stack, "personal:");
	size_t includes = 0, total = len;
	sieve_compiler c = {.loader = loader != NULL ? loader : &none, .err = err_r,
			    .name = "", .stack = &stack, .includes = &includes, .total = &total};
	strlist_init(&c.varnames);
	bool ok = compile(&c, text, len, script_r);
	strlist_free(&stack);
	return ok;
}

bool sieve_compile_named(sieve_compiler *outer, const char *name, bool global,
			 const char *text, size_t len, sieve_script **s_r)
{
	sieve_compiler c = {.loader = outer->loader, .err = outer->err, .name = name,
			    .depth = outer->depth + 1, .stack = outer->stack,
			    .includes = outer->includes, .total = outer->total};
	strlist_init(&c.varnames);
	char *key = xasprintf("%s:%s", global ? "global" : "personal", name);
	strlist_add_owned(c.stack, key);
	bool ok = compile(&c, text, len, s_r);
	strlist_remove(c.stack, key);
	if (ok)
		(*s_r)->global = global;
	return ok;
}
