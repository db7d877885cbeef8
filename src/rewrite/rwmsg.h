/* rwmsg.h — the header of one message under a configuration's rewriting:
 * which From / To / Cc / Reply-To / Sender fields change and their new
 * text, as edits the caller applies (the spool's edit list, and the
 * message a DKIM signature is made over).  Pure. */
#ifndef YUBIN_REWRITE_RWMSG_H
#define YUBIN_REWRITE_RWMSG_H

#include <stddef.h>

#include "lib/strutil.h"
#include "rewrite/rewrite.h"

/* Put text[0, len) in place of msg[start, end) (a whole header field). */
typedef struct rw_edit {
	size_t start, end;
	char *text;
	size_t len;
} rw_edit;

typedef struct rw_plan {
	rw_edit *e;          /* ascending, not overlapping */
	size_t n;
	strlist changed;     /* the names of the fields rebuilt, for the log */
	strlist skipped;     /* "name:reason" of fields left alone though they
	                      * had addresses to change or could not be read */
} rw_plan;

/* Plan the header fields of msg[from, len) (from: where the client's
 * header starts, after our own trace field) for direction d. */
void rw_plan_header(const rw_rules *r, rw_direction d, const char *msg, size_t len, size_t from, rw_plan *out);
void rw_plan_free(rw_plan *p);
/* "from,to" (or "-" when empty) for a log line (malloc'd). */
char *rw_plan_list(const strlist *l);

#endif
