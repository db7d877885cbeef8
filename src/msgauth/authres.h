/* authres.h — the Authentication-Results header field (RFC 8601): building
 * ours from the SPF, DKIM and DMARC results, and finding the fields already
 * in a message that claim our authserv-id, which must be removed before
 * ours is added (RFC 8601 5).  Pure: no DNS, no I/O. */
#ifndef YUBIN_MSGAUTH_AUTHRES_H
#define YUBIN_MSGAUTH_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "msgauth/dkimverify.h"
#include "msgauth/dmarc.h"
#include "msgauth/spf.h"

/* Lines of the built field stay under this many characters (RFC 5322 2.1.1). */
#define AUTHRES_LINE_MAX 78

typedef struct authres_input {
	const char *authserv_id;     /* ours: the configured host name */
	bool crlf;                   /* line ends: CRLF, else LF (as the message) */
	bool has_spf;                /* add spf= */
	spf_result spf;
	const char *spf_domain;      /* the domain SPF checked (smtp.mailfrom) */
	bool spf_helo;               /* it was the HELO identity: smtp.helo */
	const char *spf_problem;     /* a comment for temperror / permerror; NULL */
	bool has_spf_helo;           /* add a second spf= for the HELO identity */
	spf_result spf_helo_result;
	const char *helo;            /* smtp.helo of that one */
	const char *spf_helo_problem;
	bool has_dkim;               /* add dkim= (dkim=none when n_dkim is 0) */
	const dkim_verdict *dkim;    /* one dkim= per signature, top down */
	size_t n_dkim;
	const dmarc_outcome *dmarc;  /* NULL: no dmarc= */
} authres_input;

/* Append "Authentication-Results: <id>;" and one result per line after it,
 * folded so that every line is shorter than AUTHRES_LINE_MAX (a single
 * word longer than that keeps its own line), ending with a line end.
 * Property values that are not RFC 2045 tokens are quoted; reasons and
 * the DMARC policy go in comments.  False when out's maximum was reached
 * (out is then cut back to its length on entry). */
bool authres_build(const authres_input *in, buf *out);

typedef struct authres_range {
	size_t start;    /* first byte of the field */
	size_t end;      /* after the line end of its last line */
} authres_range;

/* The Authentication-Results fields of msg[0, len)'s header (LF or CRLF)
 * whose authserv-id is authserv_id (ASCII case-insensitive; comments and
 * blanks around it, a quoted form and a version after it are allowed),
 * top down, as byte ranges in msg.  Other servers' fields are not
 * returned.  malloc'd array with *n_r entries; NULL when there are none. */
authres_range *authres_find_ours(const char *msg, size_t len, const char *authserv_id, size_t *n_r);

#endif
