/* parse.h — SMTP command-line parsing (RFC 5321 4.1, with the parameters of
 * RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 4954 AUTH=, and
 * RFC 3461 DSN: RET, ENVID, NOTIFY, ORCPT, whose values dsnparam.c reads,
 * and RFC 8689 REQUIRETLS).
 * Pure functions: no I/O, no replies.  The session turns the status into a
 * reply in one place (reply.c). */
#ifndef YUBIN_SMTP_PARSE_H
#define YUBIN_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope/dsnparam.h"

typedef enum smtp_parse_status {
	SP_OK = 0,
	SP_SYNTAX,          /* the command does not follow the grammar */
	SP_BAD_ADDRESS,     /* the path or mailbox is malformed */
	SP_UNKNOWN_PARAM,   /* an ESMTP parameter we do not support */
	SP_BAD_PARAM,       /* a supported parameter with a bad value */
	SP_NEEDS_UTF8,      /* non-ASCII address without the SMTPUTF8 parameter */
	SP_BAD_RET,         /* RET= other than FULL or HDRS */
	SP_BAD_ENVID,       /* ENVID= not xtext, or too long */
	SP_BAD_NOTIFY,      /* NOTIFY= not NEVER or a list of SUCCESS, FAILURE, DELAY */
	SP_BAD_ORCPT,       /* ORCPT= not rfc822 / utf-8 typed xtext, or too long */
	SP_REPEATED_PARAM,  /* a DSN parameter given twice */
} smtp_parse_status;

typedef enum smtp_body { BODY_UNSPECIFIED, BODY_7BIT, BODY_8BITMIME } smtp_body;

typedef struct smtp_path {
	char *address;      /* malloc'd; "" for the null reverse-path <> */
	bool non_ascii;     /* the address has UTF-8 bytes */
	bool has_size;
	uint64_t size;      /* SIZE= */
	bool smtputf8;      /* SMTPUTF8 parameter */
	bool requiretls;    /* REQUIRETLS parameter (RFC 8689 2; MAIL): whether
	                     * the session may carry it is the caller's check */
	smtp_body body;     /* BODY= */
	dsn_ret ret;        /* RET= (MAIL) */
	char *envid;        /* ENVID= decoded, malloc'd; NULL when absent (MAIL) */
	unsigned notify;    /* NOTIFY= mask, 0 when absent (RCPT) */
	char *orcpt;        /* ORCPT= as "type;decoded address", malloc'd (RCPT) */
} smtp_path;

/* Split "VERB rest": copies the verb (upper-cased, at most verb_cap-1 bytes)
 * and returns a pointer to the arguments (after one space, or "").  Returns
 * NULL when the verb is empty or too long. */
const char *smtp_split_verb(const char *line, char *verb, size_t verb_cap);

/* Parse the argument of MAIL ("FROM:<path> params") into p. */
smtp_parse_status smtp_parse_mail(const char *args, smtp_path *p);
/* Parse the argument of RCPT ("TO:<path> params"); null path not allowed.
 * utf8_session is true when the transaction's MAIL had SMTPUTF8. */
smtp_parse_status smtp_parse_rcpt(const char *args, bool utf8_session, smtp_path *p);
/* Free what a parse left in p. */
void smtp_path_free(smtp_path *p);

/* Parse "BDAT <size> [LAST]". */
bool smtp_parse_bdat(const char *args, uint64_t *size_r, bool *last_r);

#endif
