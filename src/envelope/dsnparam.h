/* dsnparam.h — the values of the RFC 3461 DSN parameters: RET and ENVID on
 * MAIL, NOTIFY and ORCPT on RCPT.  Parsing (for the server, smtp/parse.c), the
 * parameter strings (for the client, delivery/smtpc.c), the names the queue file
 * stores, and the one rule for which notices a recipient asked for.  Pure;
 * the xtext encodings themselves are in xtext.c. */
#ifndef YUBIN_ENVELOPE_DSNPARAM_H
#define YUBIN_ENVELOPE_DSNPARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* RET=: how much of the message a failure report returns. */
typedef enum dsn_ret { DSN_RET_UNSET = 0, DSN_RET_FULL, DSN_RET_HDRS } dsn_ret;

/* NOTIFY= as a bit mask; 0 means the parameter was absent. */
enum {
	DSN_NOTIFY_NEVER = 1,
	DSN_NOTIFY_SUCCESS = 2,
	DSN_NOTIFY_FAILURE = 4,
	DSN_NOTIFY_DELAY = 8,
};

#define DSN_ENVID_MAX 100   /* characters of the ENVID value (RFC 3461 4.4) */
#define DSN_ORCPT_MAX 500   /* characters of the ORCPT value (RFC 3461 4.2) */

/* "FULL" or "HDRS" in any case. */
bool dsnparam_parse_ret(const char *v, size_t n, dsn_ret *ret_r);
/* "NEVER" alone, or a comma list of SUCCESS, FAILURE, DELAY (any case),
 * each at most once.  *notify_r is never 0 on success. */
bool dsnparam_parse_notify(const char *v, size_t n, unsigned *notify_r);
/* ENVID: xtext of at most DSN_ENVID_MAX characters that decodes to
 * printable ASCII (RFC 3461 4.4).  *envid_r: the decoded value, malloc'd. */
bool dsnparam_parse_envid(const char *v, size_t n, char **envid_r);
/* ORCPT: "rfc822;" xtext decoding to printable ASCII, or "utf-8;"
 * utf-8-addr-xtext (RFC 6533; utf-8-addr-unitext too when unitext, that is
 * in an SMTPUTF8 transaction) decoding to UTF-8 without control
 * characters; at most DSN_ORCPT_MAX characters.  The address type is
 * matched in any case.  *orcpt_r: "rfc822;<address>" or "utf-8;<address>"
 * with the address decoded, malloc'd.  Other address types are refused. */
bool dsnparam_parse_orcpt(const char *v, size_t n, bool unitext, char **orcpt_r);

/* "FULL", "HDRS", or NULL for DSN_RET_UNSET. */
const char *dsnparam_ret_name(dsn_ret ret);
/* Append "NEVER" or the comma list for a non-zero mask. */
bool dsnparam_notify_format(unsigned notify, buf *out);

/* Append the MAIL parameters " RET=... ENVID=..." (each only when set;
 * envid decoded, NULL when none). */
bool dsnparam_mail(dsn_ret ret, const char *envid, buf *out);
/* Append the RCPT parameters " NOTIFY=... ORCPT=..." (each only when set;
 * orcpt as dsnparam_parse_orcpt returns it, NULL when none).  An ORCPT
 * that would be longer than DSN_ORCPT_MAX once encoded is left out. */
bool dsnparam_rcpt(unsigned notify, const char *orcpt, buf *out);

/* Did a recipient with this NOTIFY mask ask for a notice of kind what
 * (DSN_NOTIFY_SUCCESS, _FAILURE or _DELAY)?  Without NOTIFY, failures and
 * delays are reported and successes are not (RFC 3461 4.1). */
bool dsnparam_wants(unsigned notify, unsigned what);

#endif
