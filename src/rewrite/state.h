/* state.h — the server's address rewriting at run time: the rules of
 * rewrite.canonical / rewrite.masquerade and, with rewrite.srs.enable, the
 * SRS domain and secrets.  Made once at start-up (after the privilege
 * drop: the secret file belongs to the service user), read-only after. */
#ifndef YUBIN_REWRITE_STATE_H
#define YUBIN_REWRITE_STATE_H

#include <stdbool.h>

#include "lib/config.h"
#include "lib/strutil.h"
#include "rewrite/rewrite.h"
#include "rewrite/srs.h"

typedef struct rewrite_state {
	const rw_rules *rules; /* the policy configuration's (pc->rewrite), or an empty set */
	rw_rules none;
	bool srs_on;
	bool arc_on;          /* rewrite.arc_seal (delivery/outbound.c seals) */
	char *srs_domain;     /* lower case: the forwarding domain, of SRS
	                       * addresses and of the ARC key */
	strlist secrets;      /* never logged */
	srs_config srs;       /* points at secrets and srs_domain */
} rewrite_state;

/* The secret file's path: rewrite.srs.secret_file or DATA_DIR/srs.secret
 * (malloc'd). */
char *rewrite_srs_secret_path(const config *cfg);

/* rules: the rules read with the configuration (NULL: none; must outlive
 * the state).  With SRS on, the secrets are read (the file is made with a
 * random secret when it does not exist).  first_domain:
 * the SRS domain when rewrite.srs.domain is unset (NULL: none, an error
 * with SRS on).  NULL with errors added. */
rewrite_state *rewrite_state_load(const config *cfg, const rw_rules *rules, const char *first_domain,
                                  strlist *errors);
void rewrite_state_free(rewrite_state **st);

/* Is address at the SRS domain with an SRS0/SRS1 local part? */
bool rewrite_is_our_srs(const rewrite_state *st, const char *address);

#endif
