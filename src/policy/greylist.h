/* greylist.h — the greylisting store: which (client network, sender,
 * recipient) triplets were seen and when, and which client networks passed
 * often enough to go through at once.  SQLite in WAL mode (data_dir/
 * greylist.db).  Calls block on the disk: the server makes them on its
 * worker pool, never on the event loop; one handle may be used from
 * several threads (calls are serialised inside). */
#ifndef YUBIN_POLICY_GREYLIST_H
#define YUBIN_POLICY_GREYLIST_H

#include <stdbool.h>
#include <time.h>

#include "lib/addrkey.h"

typedef struct greylist greylist;

typedef struct greylist_rules {
	int delay;            /* seconds a new triplet waits */
	int retry_window;     /* seconds after the first sight a retry counts */
	int expire;           /* seconds a passed triplet is remembered (renewed on each pass) */
	int auto_allow;       /* passes after which the whole client network goes
	                       * through at once (0: never) */
	int auto_allow_time;  /* seconds such a network stays allowed (renewed) */
	long max_entries;     /* triplets kept; the oldest go first beyond it */
} greylist_rules;

typedef enum greylist_result {
	GREYLIST_PASS,        /* known and waited long enough, or an allowed network */
	GREYLIST_DEFER,       /* new, or retried too early: 451 */
	GREYLIST_ERROR,       /* the database failed (on_error decides) */
} greylist_result;

/* Open (creating) the database at path.  NULL with *err_r on failure. */
greylist *greylist_open(const char *path, char **err_r);
void greylist_close(greylist **g);

/* Judge one triplet at time now and record the sighting.  net is
 * greylist_network()'s key; sender lower case ("" for the null sender),
 * rcpt lower case.  On GREYLIST_DEFER, *wait_r is the seconds until a
 * retry will pass; on GREYLIST_ERROR, *err_r is the database's message
 * (malloc'd). */
greylist_result greylist_check(greylist *g, const greylist_rules *r, const char *net,
                               const char *sender, const char *rcpt, time_t now,
                               int *wait_r, char **err_r);

/* Forget what has expired at now, and the oldest triplets beyond
 * r->max_entries.  False (with *err_r) on a database error. */
bool greylist_prune(greylist *g, const greylist_rules *r, time_t now, char **err_r);

/* The network a client address is greylisted as: "192.0.2.0/24",
 * "2001:db8:1:2::/64" (an IPv4-mapped address as IPv4); text that is no
 * address is its own key. */
void greylist_network(const char *ip, char key_r[ADDRKEY_MAX]);

#endif
