/* roles.c — the role table (see roles.h).  The only file of the network
 * layer that names the protocols' session modules; it must not hold any
 * protocol logic beyond the one-line refusal each protocol speaks when the
 * server is full. */
#include "net/roles.h"

#include <assert.h>
#include <stddef.h>

#include "http/server.h"
#include "imap/session.h"
#include "managesieve/session.h"
#include "pop3/session.h"
#include "smtp/reply.h"
#include "smtp/session.h"

static bool smtp_busy(buf *out, bool per_ip)
{
	size_t before = out->len;
	reply_append(out, per_ip ? RPL_TOO_MANY_FROM_IP : RPL_TOO_MANY_CONNECTIONS);
	return out->len > before;
}

static bool pop3_busy(buf *out, bool per_ip)
{
	return buf_puts(out, "-ERR [SYS/TEMP] Too many connections; try again later\r\n");
}

static bool imap_busy(buf *out, bool per_ip)
{
	return buf_puts(out, "* BYE [UNAVAILABLE] Too many connections; try again later\r\n");
}

static const server_protocol smtp_proto = {
	.name = "smtp", .sid_prefix = 'S', .start = smtp_session_start, .busy = smtp_busy,
	.drain = smtp_sessions_drain, .free_all = smtp_sessions_free,
};
static const server_protocol pop3_proto = {
	.name = "pop3", .sid_prefix = 'P', .start = pop3_session_start, .busy = pop3_busy,
	.drain = pop3_sessions_drain, .free_all = pop3_sessions_free,
};
static const server_protocol managesieve_proto = {
	.name = "managesieve", .sid_prefix = 'M', .start = msieve_session_start, .busy = msieve_busy,
	.drain = msieve_sessions_drain, .free_all = msieve_sessions_free,
};
static const server_protocol imap_proto = {
	.name = "imap", .sid_prefix = 'I', .start = imap_session_start, .busy = imap_busy,
	.drain = imap_sessions_drain, .free_all = imap_sessions_free,
};

/* Indexed by listener_role. */
static const server_role roles[ROLE_COUNT] = {
	[ROLE_SMTP] = {ROLE_SMTP, &smtp_proto, ROLE_TLS_STARTTLS, 25, 0},
	[ROLE_SUBMISSION] = {ROLE_SUBMISSION, &smtp_proto, ROLE_TLS_STARTTLS, 587, 2525},
	[ROLE_SUBMISSIONS] = {ROLE_SUBMISSIONS, &smtp_proto, ROLE_TLS_IMPLICIT, 465, 0},
	[ROLE_POP3] = {ROLE_POP3, &pop3_proto, ROLE_TLS_STARTTLS, 110, 0},
	[ROLE_POP3S] = {ROLE_POP3S, &pop3_proto, ROLE_TLS_IMPLICIT, 995, 0},
	[ROLE_IMAP] = {ROLE_IMAP, &imap_proto, ROLE_TLS_STARTTLS, 143, 0},
	[ROLE_IMAPS] = {ROLE_IMAPS, &imap_proto, ROLE_TLS_IMPLICIT, 993, 0},
	[ROLE_HTTPS] = {ROLE_HTTPS, &http_protocol, ROLE_TLS_IMPLICIT, 443, 8443},
	[ROLE_MANAGESIEVE] = {ROLE_MANAGESIEVE, &managesieve_proto, ROLE_TLS_STARTTLS, 4190, 0},
};

static const server_protocol *const protocols[] = {&smtp_proto, &pop3_proto, &imap_proto,
                                                   &managesieve_proto, &http_protocol};

const server_role *server_role_get(listener_role role)
{
	assert(role >= 0 && role < ROLE_COUNT && roles[role].proto != NULL);
	return &roles[role];
}

bool server_role_implicit_tls(listener_role role)
{
	return server_role_get(role)->tls == ROLE_TLS_IMPLICIT;
}

const server_protocol *const *server_protocols(int *n_r)
{
	*n_r = (int)(sizeof protocols / sizeof protocols[0]);
	return protocols;
}
