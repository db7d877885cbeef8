/* tableset.h — the entries of one policy list in memory and how a key is
 * matched against them; every table backend (static, file, sqlite) builds
 * one of these and swaps it whole when it reloads.
 *
 * Entries, one per item:
 *   alice@example.org    that address (case-insensitive)
 *   @example.org         every address at example.org (not its subdomains)
 *   example.org          the domain itself, and every address at it
 *   *.example.org        every subdomain of example.org, and every address
 *                        at one (not example.org itself)
 *   anything else        a name (a HELO name, a user), matched exactly
 *   192.0.2.0/24, 2001:db8::/32, 192.0.2.7, ::1
 *                        networks and single addresses, for client IPs
 * Pure: no I/O, no clock, no logging. */
#ifndef YUBIN_POLICY_TABLESET_H
#define YUBIN_POLICY_TABLESET_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/strutil.h"

/* The longest entry or key looked up (a whole address fits). */
#define TABLESET_MAX_ENTRY 512
/* Entries per list: a list is meant for people to maintain, and a file of
 * a million lines is still read in well under a second. */
#define TABLESET_MAX_ENTRIES 1000000

typedef struct tableset tableset;

tableset *tableset_new(void);
void tableset_free(tableset **s);
/* Add one entry (surrounding blanks already removed).  False, with a
 * sentence in *err_r (malloc'd), when it is malformed: a bad network
 * ("192.0.2.0/33", host bits set), text that looks like an address but is
 * none ("192.0.2.300"), blanks or control bytes inside, a misplaced
 * wildcard, too long, or one entry too many. */
bool tableset_add(tableset *s, const char *entry, char **err_r);
/* The same checks without adding (for the CLI); the entry as it is stored
 * (lower-cased names) in *norm_r when valid. */
bool tableset_check(const char *entry, char **norm_r, char **err_r);
/* After the last add, before the first look-up. */
void tableset_seal(tableset *s);
/* Whether an address, domain or name is on the list (see above). */
bool tableset_contains(const tableset *s, const char *key);
/* Whether an IP address (text) is in one of the networks. */
bool tableset_contains_ip(const tableset *s, const char *ip);
/* The entries as they were added, in order. */
const strlist *tableset_entries(const tableset *s);

#endif
