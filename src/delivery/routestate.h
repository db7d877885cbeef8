/* routestate.h — the OP25B route as the running server last decided it,
 * kept in data_dir/route.state so that `yubin queue list` and the
 * dashboard's queue page can show it without asking the server.  One
 * small file, replaced atomically on each change; this module only reads
 * and writes it (probe25.c decides). */
#ifndef YUBIN_ROUTESTATE_H
#define YUBIN_ROUTESTATE_H

#include <stdbool.h>
#include <time.h>

#include "lib/config.h"

#define ROUTESTATE_FILE "route.state"

typedef struct routestate {
	bool relay;        /* mail that would go direct goes through relay.host */
	bool blocked;      /* the probe finds port 25 blocked */
	time_t since;      /* when it became so */
	char *reason;      /* the probe's words, malloc'd */
} routestate;

/* Write the state (the probe, on the loop).  False with errno. */
bool routestate_write(const char *data_dir, const routestate *st);
/* Remove a stale file (no probe configured).  */
void routestate_clear(const char *data_dir);
/* Read it: false when there is none (no probe ran) or it is unreadable. */
bool routestate_read(const char *data_dir, routestate *st_r);
void routestate_free(routestate *st);
/* One line for people: "relay since 2026-12-06 18:00:03 UTC (port 25
 * blocked: ...)", "direct (port 25 open, checked since ...)", or from the
 * configuration alone when no probe runs ("relay (relay.host, all mail)",
 * "direct").  malloc'd. */
char *routestate_describe(const config *cfg);

#endif
