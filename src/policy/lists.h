/* lists.h — the named lists of policy.lists as the rules see them:
 * whether a value is in one.  The lists themselves (static, file, SQLite;
 * reloaded when they change) are policy/table.c's. */
#ifndef YUBIN_POLICY_LISTS_H
#define YUBIN_POLICY_LISTS_H

#include <stdbool.h>

struct policy_lists;

/* Is there a list called name?  (NULL lists: none.) */
bool policy_lists_has(const struct policy_lists *l, const char *name);
/* Is value (an address, a domain, a host name or an IP address) in the
 * list called name?  False when there is no such list. */
bool policy_lists_match(const struct policy_lists *l, const char *name, const char *value);

#endif
