/* table_static.c — the "static" list backend: entries written in the
 * config (values = [ ... ]), checked when the config is read and never
 * reloaded. */
#include "policy/table.h"

#include <stdlib.h>

static void *static_open(const table_config *cfg, strlist *errors)
{
	if (cfg->values == NULL) {
		table_config_error(errors, cfg, "a static list needs values = [ ... ]");
		return NULL;
	}
	tableset *s = tableset_new();
	bool ok = true;
	for (size_t i = 0; i < cfg->values->n; i++) {
		char *why = NULL;
		if (!tableset_add(s, cfg->values->items[i], &why)) {
			table_config_error(errors, cfg, "value %zu: %s", i + 1, why);
			free(why);
			ok = false;
		}
	}
	if (!ok) {
		tableset_free(&s);
		return NULL;
	}
	tableset_seal(s);
	return s;
}

static const tableset *static_current(void *state, time_t now)
{
	(void)now;
	return state;
}

static void static_close(void *state)
{
	tableset *s = state;
	tableset_free(&s);
}

const table_backend table_backend_static = {
	.type = "static",
	.open = static_open,
	.current = static_current,
	.close = static_close,
};
