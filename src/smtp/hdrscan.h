/* hdrscan.h — does the header section of a message being received hold a
 * field of a given name?  Fed the decoded bytes (LF line ends; a CR is
 * passed over) in pieces of any size as they arrive, it looks only at the
 * start of each header line and stops at the blank line that ends the
 * header, so it costs a few comparisons per header line and nothing per
 * body byte.  Used to skip reading a message back from the spool when no
 * Authentication-Results field could need removing. */
#ifndef YUBIN_SMTP_HDRSCAN_H
#define YUBIN_SMTP_HDRSCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hdrscan {
	const char *name;   /* "authentication-results": lower case, without ':' */
	size_t name_len;
	size_t col;         /* characters of the current line so far (CRs not counted) */
	bool matching;      /* the current line so far is a prefix of "name:" */
	bool in_header;     /* the blank line has not come yet */
	bool found;
} hdrscan;

/* Look for field `name` (lower case, static storage). */
void hdrscan_init(hdrscan *h, const char *name);
void hdrscan_feed(hdrscan *h, const char *data, size_t n);
/* A line of the header began with "name:" (any case). */
bool hdrscan_found(const hdrscan *h);

#endif
