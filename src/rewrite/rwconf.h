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
 * Errors are "file:line: sentence".  Pure (libconfig only). */
#ifndef YUBIN_REWRITE_RWCONF_H
#define YUBIN_REWRITE_RWCONF_H

#include <libconfig.h>
#include <stdbool.h>

#include "lib/strutil.h"
#include "rewrite/rewrite.h"

/* rewrite.canonical (a list of groups) into r; false with errors added. */
bool rw_config_read_canonical(rw_rules *r, const config_setting_t *s, const char *file, strlist *errors);
/* rewrite.masquerade (a group) into r; false with errors added. */
bool rw_config_read_masquerade(rw_rules *r, const config_setting_t *s, const char *file, strlist *errors);

/* Read both from the file at path (NULL: nothing configured, r stays
 * empty); false with errors added. */
bool rw_config_load(const char *path, rw_rules *r, strlist *errors);

#endif
