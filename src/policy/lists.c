/* lists.c — the named lists as the rules see them (see lists.h). */
#include "policy/lists.h"

#include <stddef.h>

bool policy_lists_has(const struct policy_lists *l, const char *name)
{
	(void)name;
	return l != NULL && false;
}

bool policy_lists_match(const struct policy_lists *l, const char *name, const char *value)
{
	(void)name;
	(void)value;
	return l != NULL && false;
}
