/* run.c — sieve_run: walking the compiled script in order (RFC 5228 2.10),
 * if/elsif/else chains, evaluation steps bounded by SIEVE_MAX_STEPS,
 * ${...} expansion when variables is required (RFC 5229 3), and the
 * final result: on a runtime error the actions are dropped and only the
 * implicit keep remains (RFC 5228 2.10.6). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

int sieve_rt_error(sieve_interp *it, const char *fmt, ...)
{
	if (!it->failed) {
		va_list ap;
		va_start(ap, fmt);
		char *msg = sieve_vformat(fmt, ap);
		va_end(ap);
		it->res->error = xasprintf("line %u: %s", it->cur_line, msg);
		free(msg);
		it->failed = true;
	}
	return -1;
}

static bool step(sieve_interp *it, unsigned line)
{
	it->cur_line = line;
	if (++it->steps > SIEVE_MAX_STEPS) {
		sieve_rt_error(it, "the script took more than %d steps", SIEVE_MAX_STEPS);
		return false;
	}
	return true;
}

char *sieve_expand(sieve_interp *it, const char *s)
{
	if (!it->variables || strstr(s, "${") == NULL)
		return xstrdup(s);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	while (*s != '\0' && b.len <= SIEVE_MAX_EXPANDED) {
		const char *close;
		if (s[0] == '$' && s[1] == '{' && (close = strchr(s + 2, '}')) != NULL) {
			const char *name = s + 2;
			size_t n = (size_t)(close - name);
			bool digits = n > 0 && strspn(name, "0123456789") >= n;
			if (digits) {
				/* num-variable = 1*DIGIT: "${0001}" is ${1} */
				size_t z = 0;
				while (z + 1 < n && name[z] == '0')
					z++;
				int idx = n - z == 1 ? name[z] - '0' : 10;
				if (idx < 10 && it->match[idx] != NULL)
					BUF_PUTS(&b, it->match[idx]);
				s = close + 1;
				continue;
			}
			if (sieve_var_name_valid(name, n)) {
				char *key = xstrndup(name, n);
				const char *v = sieve_var_get(it, key);
				free(key);
				if (v != NULL)
					BUF_PUTS(&b, v);
				s = close + 1;
				continue;
			}
		}
		BUF_PUTC(&b, *s++);
	}
	if (b.len > SIEVE_MAX_EXPANDED) {
		sieve_rt_error(it, "a string is longer than %d bytes once its variables are expanded",
			       SIEVE_MAX_EXPANDED);
		buf_truncate(&b, 0);
	}
	return buf_steal(&b);
}

void sieve_expand_list(sieve_interp *it, const sieve_arg *a, strlist *out)
{
	strlist_init(out);
	for (size_t i = 0; i < a->nstrs; i++)
		strlist_add_owned(out, sieve_expand(it, a->strs[i]));
}

int sieve_eval_test(sieve_interp *it, const sieve_node *t)
{
	if (!step(it, t->line))
		return -1;
	int r = t->def->test(it, t);
	return it->failed ? -1 : r;
}

static bool is_def(const sieve_node *n, const char *name)
{
	return strcmp(n->def->name, name) == 0;
}

bool sieve_run_block(sieve_interp *it, sieve_node *const *cmds, size_t n)
{
	bool chain_done = true;
	for (size_t i = 0; i < n; i++) {
		const sieve_node *c = cmds[i];
		if (!step(it, c->line))
			return false;
		if (is_def(c, "require"))
			continue;
		bool is_if = is_def(c, "if"), is_elsif = is_def(c, "elsif"), is_else = is_def(c, "else");
		if (is_if || is_elsif || is_else) {
			if (is_if)
				chain_done = false;
			if (chain_done)
				continue;
			int r = is_else ? 1 : sieve_eval_test(it, c->tests[0]);
			if (r < 0)
				return false;
			if (r == 1) {
				chain_done = true;
				if (!sieve_run_block(it, c->block, c->nblock))
					return false;
			}
			continue;
		}
		if (!c->def->run(it, c) || it->failed)
			return false;
		if (it->stopped || it->returned)
			return false;
	}
	return true;
}

void sieve_result_free(sieve_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		sieve_action_clear(&r->actions[i]);
	free(r->actions);
	strlist_free(&r->keep_flags);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

static void vars_free(sieve_vars *v)
{
	strlist_free(&v->names);
	strlist_free(&v->values);
}

/* Run one script (the main one or an included one) in its own scope. */
bool sieve_run_script(sieve_interp *it, const sieve_script *s);
bool sieve_run_script(sieve_interp *it, const sieve_script *s)
{
	sieve_vars vars, *saved_vars = it->vars;
	strlist gnames, *saved_gnames = it->global_names;
	bool saved_v = it->variables, saved_f = it->imap4flags;
	strlist_init(&vars.names);
	strlist_init(&vars.values);
	strlist_init(&gnames);
	it->vars = &vars;
	it->global_names = &gnames;
	it->variables = (s->caps & CAP_VARIABLES) != 0;
	it->imap4flags = (s->caps & CAP_IMAP4FLAGS) != 0;
	sieve_run_block(it, s->cmds, s->ncmds);
	it->returned = false;
	it->vars = saved_vars;
	it->global_names = saved_gnames;
	it->variables = saved_v;
	it->imap4flags = saved_f;
	vars_free(&vars);
	strlist_free(&gnames);
	return !it->failed;
}

void sieve_run(const sieve_script *script, const sieve_message *msg,
	       const sieve_envelope *env, const sieve_env *environment,
	       sieve_result *res)
{
	static const sieve_env none;
	memset(res, 0, sizeof(*res));
	strlist_init(&res->keep_flags);
	res->implicit_keep = true;
	sieve_vars globals;
	strlist_init(&globals.names);
	strlist_init(&globals.values);
	sieve_interp it = {.msg = msg, .env = env, .environment = environment ? environment : &none,
			   .res = res, .globals = &globals};
	strlist_init(&it.flags);
	strlist_init(&it.once);
	sieve_run_script(&it, script);
	if (it.failed) {
		char *err = res->error;
		res->error = NULL;
		sieve_result_free(res);
		strlist_init(&res->keep_flags);
		res->error = err;
		res->implicit_keep = true;
	} else if (res->implicit_keep) {
		for (size_t i = 0; i < it.flags.n; i++)
			strlist_add(&res->keep_flags, it.flags.items[i]);
	}
	strlist_free(&it.flags);
	strlist_free(&it.once);
	vars_free(&globals);
	for (int i = 0; i < 10; i++)
		free(it.match[i]);
	for (size_t i = 0; i < it.nhdrs; i++) {
		free(it.hdrs[i].name);
		free(it.hdrs[i].raw);
		free(it.hdrs[i].decoded);
	}
	free(it.hdrs);
	mime_free(&it.mime);
}
