/* received.c — the Received: trace header (RFC 5321 4.4, protocol names
 * from RFC 3848 and RFC 6531), folded with tabs, LF line ends as in the
 * spool.  TLS version and cipher go in a comment. */
#include "smtp/session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPS, ... */
static void protocol_name(smtp_session *s, char *out, size_t n)
{
	const char *base = s->txn.smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP";
	bool ext = s->txn.smtputf8 || s->esmtp;
	snprintf(out, n, "%s%s%s", base, ext && conn_is_tls(s->c) ? "S" : "",
	         ext && s->auth_user != NULL ? "A" : "");
}

char *received_header(smtp_session *s, const char *qid, time_t now)
{
	char proto[16], date[64];
	struct tm tm;
	protocol_name(s, proto, sizeof proto);
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	/* RFC 5321 4.1.3: IPv6 address literals carry an "IPv6:" tag */
	BUF_PRINTF(&b, "Received: from %s ([%s%s])\n", s->helo, strchr(s->ip, ':') ? "IPv6:" : "", s->ip);
	if (conn_is_tls(s->c))
		BUF_PRINTF(&b, "\t(using %s with cipher %s)\n", session_tls_version(s), session_tls_cipher(s));
	BUF_PRINTF(&b, "\tby %s (yubin) with %s id %s", s->srv->cfg->hostname, proto, qid);
	if (s->txn.rcpt_cmds.n == 1)
		BUF_PRINTF(&b, "\n\tfor <%s>", s->txn.rcpt_cmds.items[0]);
	BUF_PRINTF(&b, ";\n\t%s\n", date);
	return buf_steal(&b);
}
