/* rateconf.h — the reader of policy.ratelimits (for policy/polconf.c's
 * table of readers). */
#ifndef YUBIN_POLICY_RATECONF_H
#define YUBIN_POLICY_RATECONF_H

#include "policy/polconf.h"

bool policy_ratelimits_read(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors);

#endif
