/* listconf.h — the reader of policy.lists (for policy/polconf.c's table
 * of readers): each named group becomes an open table (policy/table.h). */
#ifndef YUBIN_POLICY_LISTCONF_H
#define YUBIN_POLICY_LISTCONF_H

#include "policy/polconf.h"

bool policy_lists_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors);

#endif
