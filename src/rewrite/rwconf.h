/* rwconf.h — the lists of groups under "rewrite" in the configuration
 * file (the scalar rewrite.srs.* settings are lib/config.c's):
 *
 *   rewrite: {
 *     canonical = ( { match = "@old.example"; replace = "@new.example";
 *                     targets = [ "envelope_sender", "from" ];
 *                     direction = "outbound"; } );      # or "inbound", "both"
 *     masquerade = { domains = [ "example.org" ]; except = [ "root" ];
 *                    direction = "outbound"; targets = [ ... ]; };
 *   };
 *
 * Errors are "file:line: sentence".  Pure (libconfig only); the policy
 * configuration holds the result (pc->rewrite). */
#ifndef YUBIN_REWRITE_RWCONF_H
#define YUBIN_REWRITE_RWCONF_H

#include <libconfig.h>
#include <stdbool.h>

#include "lib/strutil.h"
#include "policy/polconf.h"
#include "rewrite/rewrite.h"

/* Readers for policy/polconf.c's table: rewrite.canonical (a list of
 * groups) and rewrite.masquerade (a group) into pc->rewrite (made on
 * first use); false with errors added. */
bool rw_config_read_canonical(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors);
bool rw_config_read_masquerade(policy_config *pc, const config_setting_t *s, const char *file, strlist *errors);
/* For policy_config_free. */
void rw_config_free(rw_rules **r);

#endif
