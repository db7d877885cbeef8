/* reply.h — every fixed SMTP reply in one table (code, RFC 3463 enhanced
 * status, text), and the formatter for multi-line replies.  Session code
 * names a reply by id; the wording and codes live only in reply.c. */
#ifndef YUBIN_SMTP_REPLY_H
#define YUBIN_SMTP_REPLY_H

#include "lib/buf.h"

typedef enum smtp_reply_id {
	RPL_OK,
	RPL_SENDER_OK,
	RPL_RCPT_OK,
	RPL_DATA_GO,
	RPL_BYE,
	RPL_RESET,
	RPL_VRFY,
	RPL_HELP,
	RPL_TLS_GO,
	RPL_AUTH_OK,
	RPL_UNKNOWN_CMD,
	RPL_LINE_TOO_LONG,
	RPL_BARE_EOL_CMD,
	RPL_SYNTAX,
	RPL_PARAM_SYNTAX,
	RPL_SENDER_SYNTAX,
	RPL_RCPT_SYNTAX,
	RPL_PARAM_UNKNOWN,
	RPL_PARAM_REPEATED,
	RPL_DSN_RET,
	RPL_DSN_ENVID,
	RPL_DSN_NOTIFY,
	RPL_DSN_ORCPT,
	RPL_NOT_IMPLEMENTED,
	RPL_BAD_SEQUENCE,
	RPL_NEED_HELO,
	RPL_NEED_MAIL,
	RPL_NEED_RCPT,
	RPL_NESTED_MAIL,
	RPL_AUTH_NOT_OFFERED,
	RPL_AUTH_ALREADY,
	RPL_AUTH_MECH,
	RPL_AUTH_CANCELLED,
	RPL_AUTH_BAD_B64,
	RPL_AUTH_FAILED,
	RPL_AUTH_LOCKED,
	RPL_NEED_TLS,
	RPL_REQUIRETLS_CLEAR,  /* MAIL ... REQUIRETLS outside a TLS session (RFC 8689) */
	RPL_NEED_AUTH,
	RPL_TLS_ALREADY,
	RPL_TLS_UNAVAILABLE,
	RPL_RELAY_DENIED,
	RPL_NO_USER,
	RPL_ALIAS_LOOP,
	RPL_SRS_FORGED,         /* an SRS address we did not make */
	RPL_SRS_EXPIRED,        /* an SRS address older than rewrite.srs.max_age */
	RPL_SENDER_NOT_OWNED,
	RPL_NEEDS_UTF8,
	RPL_TOO_MANY_RCPTS,
	RPL_SIZE_DECLARED,
	RPL_SIZE_EXCEEDED,
	RPL_BARE_EOL_DATA,
	RPL_BDAT_SYNTAX,
	RPL_BDAT_AFTER_DATA,
	RPL_LOCAL_ERROR,
	RPL_NO_STORAGE,
	RPL_DMARC_REJECT,
	RPL_DMARC_TEMPERROR,
	RPL_FROM_NOT_OWNED,
	RPL_SENDER_FIELD_NOT_OWNED,
	RPL_FROM_FIELDS,
	RPL_FROM_NO_MAILBOX,
	RPL_FROM_NEEDS_SENDER,
	RPL_TOO_MANY_ERRORS,
	RPL_TOO_MANY_COMMANDS,
	RPL_TIMEOUT,
	RPL_LOGIN_DEADLINE,
	RPL_TOO_MANY_CONNECTIONS,
	RPL_TOO_MANY_FROM_IP,
	RPL_SHUTDOWN,
	RPL_COUNT
} smtp_reply_id;

typedef struct smtp_reply {
	int code;
	const char *esc;    /* enhanced status code, e.g. "5.7.1" */
	const char *text;
} smtp_reply;

const smtp_reply *reply_get(smtp_reply_id id);
/* Append a fixed reply (one line, CRLF). */
void reply_append(buf *out, smtp_reply_id id);
/* Append a reply with our own text.  Each '\n' in text starts a new line;
 * all but the last line use "code-", the last "code ", and every line
 * carries the enhanced status code when esc is not NULL. */
/* The longest reply we send, every line of it (a bug guard: ours are far
 * shorter). */
#define REPLY_TEXT_MAX 8192
void reply_append_text(buf *out, int code, const char *esc, const char *text);

#endif
