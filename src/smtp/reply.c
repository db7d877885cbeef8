/* reply.c — the reply table and the multi-line formatter (see reply.h).
 * Changing what clients see for a given outcome happens here and only here. */
#include "smtp/reply.h"

#include <string.h>

static const smtp_reply replies[RPL_COUNT] = {
	[RPL_OK]                = {250, "2.0.0", "Ok"},
	[RPL_SENDER_OK]         = {250, "2.1.0", "Sender ok"},
	[RPL_RCPT_OK]           = {250, "2.1.5", "Recipient ok"},
	[RPL_DATA_GO]           = {354, NULL, "End data with <CR><LF>.<CR><LF>"},
	[RPL_BYE]               = {221, "2.0.0", "Bye"},
	[RPL_RESET]             = {250, "2.0.0", "Reset"},
	[RPL_VRFY]              = {252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"},
	[RPL_HELP]              = {214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH"},
	[RPL_TLS_GO]            = {220, "2.0.0", "Ready to start TLS"},
	[RPL_AUTH_OK]           = {235, "2.7.0", "Authentication successful"},
	[RPL_UNKNOWN_CMD]       = {500, "5.5.1", "Command unrecognized"},
	[RPL_LINE_TOO_LONG]     = {500, "5.5.2", "Line too long"},
	[RPL_BARE_EOL_CMD]      = {500, "5.5.2", "Bare CR or LF in command; lines must end with CRLF"},
	[RPL_SYNTAX]            = {501, "5.5.2", "Syntax error in command"},
	[RPL_PARAM_SYNTAX]      = {501, "5.5.4", "Invalid parameter value"},
	[RPL_SENDER_SYNTAX]     = {501, "5.1.7", "Bad sender address syntax"},
	[RPL_RCPT_SYNTAX]       = {501, "5.1.3", "Bad recipient address syntax"},
	[RPL_PARAM_UNKNOWN]     = {555, "5.5.4", "Unsupported parameter"},
	[RPL_PARAM_REPEATED]    = {501, "5.5.4", "Parameter given more than once"},
	[RPL_DSN_RET]           = {501, "5.5.4", "RET must be FULL or HDRS"},
	[RPL_DSN_ENVID]         = {501, "5.5.4", "ENVID must be xtext of 1 to 100 characters, printable ASCII once decoded"},
	[RPL_DSN_NOTIFY]        = {501, "5.5.4", "NOTIFY must be NEVER, or SUCCESS, FAILURE, DELAY separated by commas, each once"},
	[RPL_DSN_ORCPT]         = {501, "5.5.4", "ORCPT must be rfc822;xtext or utf-8;address, at most 500 characters"},
	[RPL_NOT_IMPLEMENTED]   = {502, "5.5.1", "Command not implemented"},
	[RPL_BAD_SEQUENCE]      = {503, "5.5.1", "Bad sequence of commands"},
	[RPL_NEED_HELO]         = {503, "5.5.1", "Send EHLO or HELO first"},
	[RPL_NEED_MAIL]         = {503, "5.5.1", "Need MAIL command first"},
	[RPL_NEED_RCPT]         = {503, "5.5.1", "Need RCPT command first"},
	[RPL_NESTED_MAIL]       = {503, "5.5.1", "Sender already given"},
	[RPL_AUTH_NOT_OFFERED]  = {503, "5.5.1", "Authentication not available on this port"},
	[RPL_AUTH_ALREADY]      = {503, "5.5.1", "Already authenticated"},
	[RPL_AUTH_MECH]         = {504, "5.5.4", "Unrecognized authentication mechanism"},
	[RPL_AUTH_CANCELLED]    = {501, "5.0.0", "Authentication cancelled"},
	[RPL_AUTH_BAD_B64]      = {501, "5.5.2", "Cannot decode base64 response"},
	[RPL_AUTH_FAILED]       = {535, "5.7.8", "Authentication credentials invalid"},
	[RPL_AUTH_LOCKED]       = {454, "4.7.0", "Too many failed logins; try again later"},
	[RPL_NEED_TLS]          = {530, "5.7.0", "Must issue a STARTTLS command first"},
	[RPL_REQUIRETLS_CLEAR]  = {530, "5.7.10", "REQUIRETLS needs a TLS session: issue STARTTLS first"},
	[RPL_NEED_AUTH]         = {530, "5.7.0", "Authentication required"},
	[RPL_TLS_ALREADY]       = {503, "5.5.1", "TLS already active"},
	[RPL_TLS_UNAVAILABLE]   = {454, "4.7.0", "TLS not available"},
	[RPL_RELAY_DENIED]      = {554, "5.7.1", "Relay access denied"},
	[RPL_NO_USER]           = {550, "5.1.1", "No such user here"},
	[RPL_ALIAS_LOOP]        = {550, "5.4.6", "Alias loop detected for this recipient"},
	[RPL_SRS_FORGED]        = {550, "5.1.1", "This forwarding (SRS) address was not made here: its signature does not match"},
	[RPL_SRS_EXPIRED]       = {550, "5.1.1", "This forwarding (SRS) address has expired: bounces to it are accepted for a limited number of days"},
	[RPL_SENDER_NOT_OWNED]  = {553, "5.7.1", "Sender address not owned by the authenticated user"},
	[RPL_NEEDS_UTF8]        = {553, "5.6.7", "Non-ASCII address requires the SMTPUTF8 parameter"},
	[RPL_TOO_MANY_RCPTS]    = {452, "4.5.3", "Too many recipients"},
	[RPL_SIZE_DECLARED]     = {552, "5.3.4", "Message size exceeds fixed maximum message size"},
	[RPL_SIZE_EXCEEDED]     = {552, "5.3.4", "Message size exceeds fixed maximum message size"},
	[RPL_BARE_EOL_DATA]     = {554, "5.6.0", "Message rejected: bare CR or LF in data; lines must end with CRLF"},
	[RPL_BDAT_SYNTAX]       = {501, "5.5.4", "Syntax: BDAT <size> [LAST]"},
	[RPL_BDAT_AFTER_DATA]   = {503, "5.5.1", "Cannot mix DATA and BDAT"},
	[RPL_LOCAL_ERROR]       = {451, "4.3.0", "Local error in processing; try again later"},
	[RPL_NO_STORAGE]        = {452, "4.3.1", "Insufficient system storage; try again later"},
	[RPL_DMARC_REJECT]      = {550, "5.7.1", "Rejected by the DMARC policy of the From domain"},
	[RPL_DMARC_TEMPERROR]   = {451, "4.7.0", "DMARC check of the From domain failed for now (DNS); try again later"},
	[RPL_FROM_NOT_OWNED]    = {550, "5.7.1", "The From address is not yours to send as (your address, an alias of yours, or a send-as address)"},
	[RPL_SENDER_FIELD_NOT_OWNED] = {550, "5.7.1", "The Sender address is not yours to send as (your address, an alias of yours, or a send-as address)"},
	[RPL_FROM_FIELDS]       = {550, "5.7.1", "The message has more than one From or Sender field"},
	[RPL_FROM_NO_MAILBOX]   = {550, "5.7.1", "The From or Sender field holds no usable mailbox address (an empty group or a bad address)"},
	[RPL_FROM_NEEDS_SENDER] = {550, "5.7.1", "The From field names several authors; add a Sender field with your address (RFC 5322 3.6.2)"},
	[RPL_TOO_MANY_ERRORS]   = {421, "4.7.0", "Too many errors; closing connection"},
	[RPL_TOO_MANY_COMMANDS] = {421, "4.7.0", "Too many commands without a transaction; closing connection"},
	[RPL_TIMEOUT]           = {421, "4.4.2", "Timeout; closing connection"},
	[RPL_LOGIN_DEADLINE]    = {421, "4.7.0", "Authentication took too long; closing connection"},
	[RPL_TOO_MANY_CONNECTIONS] = {421, "4.7.0", "Too many connections; try again later"},
	[RPL_TOO_MANY_FROM_IP]  = {421, "4.7.0", "Too many connections from your address; try again later"},
	[RPL_SHUTDOWN]          = {421, "4.3.2", "Server shutting down; try again later"},
};

const smtp_reply *reply_get(smtp_reply_id id)
{
	return &replies[id];
}

void reply_append(buf *out, smtp_reply_id id)
{
	const smtp_reply *r = &replies[id];
	reply_append_text(out, r->code, r->esc, r->text);
}

void reply_append_text(buf *out, int code, const char *esc, const char *text)
{
	const char *p = text;
	size_t start = out->len;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (!buf_printf(out, "%03d%c", code, nl ? '-' : ' ') ||
		    (esc != NULL && !buf_printf(out, "%s ", esc)) ||
		    !buf_append(out, p, n) || !buf_puts(out, "\r\n")) {
			/* never half a reply: a reply past the buffer's maximum is
			 * dropped whole (our replies are bounded; this is a bug guard) */
			buf_truncate(out, start);
			return;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}
