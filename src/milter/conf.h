/* conf.h — the milters of the configuration (policy.milters): each one's
 * name, address, timeouts, what to do when it fails, and the listener
 * roles whose mail it sees.  Read from the libconfig tree by
 * policy/polconf.c's table; every mistake is a "file:line: sentence". */
#ifndef YUBIN_MILTER_CONF_H
#define YUBIN_MILTER_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/strutil.h"

/* One configured milter. */
typedef struct milter_def {
	char *name;
	char *address;              /* as written in the config */
	struct sockaddr_storage sa; /* parsed */
	socklen_t sa_len;
	int connect_timeout;        /* seconds to connect and negotiate */
	int timeout;                /* seconds for each reply */
	bool tempfail;              /* on_failure = "tempfail" (else "accept") */
	unsigned roles;             /* bit (1 << listener_role) for each role it sees */
} milter_def;

typedef struct milter_defs {
	milter_def *v;
	size_t n;
} milter_defs;

/* "127.0.0.1:11332", "[::1]:11332", "inet:11332@127.0.0.1",
 * "inet6:11332@::1", "unix:/path" or "local:/path" into a socket address;
 * false with a sentence in *err_r. */
bool milter_address_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len_r, const char **err_r);

/* Read the list s (policy.milters) of file; NULL with errors added when
 * an entry is wrong. */
milter_defs *milter_defs_read(const config_setting_t *s, const char *file, strlist *errors);
void milter_defs_free(milter_defs **d);

/* The reader in policy/polconf.c's table: milter_defs_read into
 * pc->milters. */
struct policy_config;
bool milter_defs_policy_read(struct policy_config *pc, const config_setting_t *s, const char *file,
                             strlist *errors);

#endif
