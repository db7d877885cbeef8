/* canonical.h — canonical maps: exact address → address, and @domain →
 * @domain (or → one address), each entry for a set of targets (envelope
 * sender, envelope recipient, the From / To / Cc / Reply-To / Sender
 * fields) and directions (inbound: mail arriving on port 25 for us;
 * outbound: mail our users submit).  An exact entry wins over a domain
 * entry; among entries of one kind the first wins.  Matching ignores case
 * (ASCII).  Pure: the config reader fills it (policy/polconf.c). */
#ifndef YUBIN_REWRITE_CANONICAL_H
#define YUBIN_REWRITE_CANONICAL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rw_target {
	RW_ENV_SENDER,
	RW_ENV_RCPT,
	RW_HDR_FROM,
	RW_HDR_TO,
	RW_HDR_CC,
	RW_HDR_REPLY_TO,
	RW_HDR_SENDER,
	RW_TARGET_COUNT
} rw_target;

#define RW_TARGET_BIT(t) (1u << (t))
#define RW_ALL_TARGETS ((1u << RW_TARGET_COUNT) - 1)
#define RW_HEADER_TARGETS (RW_ALL_TARGETS & ~(RW_TARGET_BIT(RW_ENV_SENDER) | RW_TARGET_BIT(RW_ENV_RCPT)))

typedef enum rw_direction { RW_INBOUND = 1, RW_OUTBOUND = 2, RW_BOTH = 3 } rw_direction;

/* The config name of a target ("envelope_sender", "envelope_recipient",
 * "from", "to", "cc", "reply-to", "sender"), and back (-1: unknown); the
 * header field name of a header target back to it (-1: not one). */
const char *rw_target_name(rw_target t);
int rw_target_parse(const char *name);
int rw_target_of_field(const char *name, size_t len);
/* "inbound", "outbound", "both" → the direction bits, 0: unknown. */
unsigned rw_direction_parse(const char *name);

typedef struct rw_canon_entry {
	char *match;        /* "user@domain" or "@domain", lower-case */
	char *replace;      /* "user@domain" or "@domain" */
	unsigned targets;   /* RW_TARGET_BIT()s */
	unsigned dirs;      /* rw_direction bits */
} rw_canon_entry;

typedef struct rw_canon {
	rw_canon_entry *e;
	size_t n;
} rw_canon;

/* Add an entry; false with *err_r (a sentence, malloc'd) when match or
 * replace is not an address or "@domain", or "@domain" maps to an
 * address's local part that is empty. */
bool rw_canon_add(rw_canon *c, const char *match, const char *replace, unsigned targets, unsigned dirs,
                  char **err_r);
void rw_canon_free(rw_canon *c);

/* The address that replaces address for target in direction d (malloc'd),
 * or NULL when no entry applies or the result is the same address. */
char *rw_canon_apply(const rw_canon *c, rw_target t, rw_direction d, const char *address);

#endif
