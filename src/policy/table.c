/* table.c — the policy lists' one interface (see table.h): picks the
 * backend a list's type names and forwards look-ups to its current
 * entries; and the set of configured lists by name.  It knows no file,
 * database or entry syntax itself. */
#include "policy/table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

struct table {
	char *name;
	const table_backend *be;
	void *state;
};

static const table_backend *const backends[] = {
	&table_backend_static,
	&table_backend_file,
	&table_backend_sqlite,
};

void table_config_error(strlist *errors, const table_config *cfg, const char *fmt, ...)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%s: list %s: ", cfg->where != NULL ? cfg->where : "config", cfg->name);
	va_list ap;
	va_start(ap, fmt);
	BUF_VPRINTF(&b, fmt, ap);
	va_end(ap);
	strlist_add_owned(errors, buf_steal(&b));
}

void table_log_problem(const char *name, const char *source, const char *why)
{
	log_event(LOG_LVL_WARN, "policy_list", "list=%s source=%s error=%s action=\"keeps its last contents\"",
	          name, source, why);
}

table *table_open(const table_config *cfg, strlist *errors)
{
	const table_backend *be = NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (cfg->type != NULL && strcmp(cfg->type, backends[i]->type) == 0)
			be = backends[i];
	if (be == NULL) {
		table_config_error(errors, cfg, "type must be \"static\", \"file\" or \"sqlite\", not \"%s\"",
		                   cfg->type != NULL ? cfg->type : "");
		return NULL;
	}
	void *state = be->open(cfg, errors);
	if (state == NULL)
		return NULL;
	table *t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(cfg->name);
	t->be = be;
	t->state = state;
	return t;
}

void table_free(table **tp)
{
	table *t = *tp;
	if (t == NULL)
		return;
	t->be->close(t->state);
	free(t->name);
	free(t);
	*tp = NULL;
}

const char *table_name(const table *t)
{
	return t->name;
}

const char *table_type(const table *t)
{
	return t->be->type;
}

bool table_contains_at(table *t, time_t now, const char *key)
{
	return key != NULL && tableset_contains(t->be->current(t->state, now), key);
}

bool table_contains_ip_at(table *t, time_t now, const char *ip)
{
	return ip != NULL && tableset_contains_ip(t->be->current(t->state, now), ip);
}

bool table_contains(table *t, const char *key)
{
	return table_contains_at(t, time(NULL), key);
}

bool table_contains_ip(table *t, const char *ip)
{
	return table_contains_ip_at(t, time(NULL), ip);
}

bool table_edit(table *t, bool add, const char *value, bool *changed_r, char **err_r)
{
	*changed_r = false;
	if (t->be->edit == NULL) {
		*err_r = xasprintf("list %s is written in the configuration file: change it there", t->name);
		return false;
	}
	char *norm = NULL;
	if (!tableset_check(value, &norm, err_r))
		return false;
	bool ok = t->be->edit(t->state, add, norm, changed_r, err_r);
	free(norm);
	return ok;
}

const strlist *table_entries(table *t, time_t now)
{
	return tableset_entries(t->be->current(t->state, now));
}

/* ---- the lists by name ---- */

struct policy_lists {
	table **items;
	size_t n, cap;
};

policy_lists *policy_lists_new(void)
{
	return xcalloc(1, sizeof(policy_lists));
}

void policy_lists_free(policy_lists **lp)
{
	policy_lists *l = *lp;
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		table_free(&l->items[i]);
	free(l->items);
	free(l);
	*lp = NULL;
}

void policy_lists_add(policy_lists *l, table *t)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(table *));
	}
	l->items[l->n++] = t;
}

table *policy_list_find(const policy_lists *l, const char *name)
{
	for (size_t i = 0; l != NULL && i < l->n; i++)
		if (strcmp(l->items[i]->name, name) == 0)
			return l->items[i];
	return NULL;
}

size_t policy_lists_count(const policy_lists *l)
{
	return l != NULL ? l->n : 0;
}

table *policy_list_at(policy_lists *l, size_t i)
{
	return l->items[i];
}
