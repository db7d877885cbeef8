/* parse.c — SMTP command arguments: paths, mailboxes and ESMTP parameters
 * (see parse.h).  Strict where the RFC is strict; tolerant of the one common
 * deviation, a space after "FROM:" / "TO:". */
#include "smtp/parse.h"

#include <stdlib.h>
#include <string.h>

#include "envelope/address.h"
#include "lib/strutil.h"

const char *smtp_split_verb(const char *line, char *verb, size_t verb_cap)
{
	size_t i = 0;
	while (line[i] != '\0' && line[i] != ' ') {
		if (i + 1 >= verb_cap)
			return NULL;
		char c = line[i];
		verb[i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
		i++;
	}
	if (i == 0)
		return NULL;
	verb[i] = '\0';
	return line[i] == ' ' ? line + i + 1 : line + i;
}

/* "@dom,@dom,...": the A-d-l of an obsolete source route. */
static bool valid_route(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (s[i] != '@')
			return false;
		const char *comma = memchr(s + i, ',', n - i);
		size_t end = comma ? (size_t)(comma - s) : n;
		bool na = false;
		if (!envelope_valid_domain(s + i + 1, end - i - 1, false, &na))
			return false;
		i = comma ? end + 1 : n;
		if (comma && i == n)
			return false;
	}
	return true;
}

/* Find the closing '>' of a path starting at s ('<'), honouring quotes. */
static const char *path_end(const char *s)
{
	bool quoted = false;
	for (const char *p = s + 1; *p; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '>' && !quoted)
			return p;
	}
	return NULL;
}

static bool parse_uint(const char *s, size_t n, uint64_t *v)
{
	if (n == 0 || n > 19)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* RFC 3461 parameters; SP_UNKNOWN_PARAM when key is none of them. */
static smtp_parse_status parse_dsn_param(const char *s, size_t klen, const char *v, size_t vlen,
                                         bool is_mail, bool utf8, smtp_path *p)
{
	bool is_ret = klen == 3 && str_ascii_nieq(s, "RET", 3);
	bool is_envid = klen == 5 && str_ascii_nieq(s, "ENVID", 5);
	bool is_notify = klen == 6 && str_ascii_nieq(s, "NOTIFY", 6);
	bool is_orcpt = klen == 5 && str_ascii_nieq(s, "ORCPT", 5);
	if (is_mail && is_ret) {
		if (p->ret != DSN_RET_UNSET)
			return SP_REPEATED_PARAM;
		return v != NULL && dsnparam_parse_ret(v, vlen, &p->ret) ? SP_OK : SP_BAD_RET;
	}
	if (is_mail && is_envid) {
		if (p->envid != NULL)
			return SP_REPEATED_PARAM;
		return v != NULL && dsnparam_parse_envid(v, vlen, &p->envid) ? SP_OK : SP_BAD_ENVID;
	}
	if (!is_mail && is_notify) {
		if (p->notify != 0)
			return SP_REPEATED_PARAM;
		return v != NULL && dsnparam_parse_notify(v, vlen, &p->notify) ? SP_OK : SP_BAD_NOTIFY;
	}
	if (!is_mail && is_orcpt) {
		if (p->orcpt != NULL)
			return SP_REPEATED_PARAM;
		return v != NULL && dsnparam_parse_orcpt(v, vlen, utf8, &p->orcpt) ? SP_OK : SP_BAD_ORCPT;
	}
	return SP_UNKNOWN_PARAM;
}

/* One "KEY[=VALUE]" parameter; utf8: the transaction uses SMTPUTF8 (RCPT). */
static smtp_parse_status parse_param(const char *s, size_t n, bool is_mail, bool utf8, smtp_path *p)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	const char *v = eq ? eq + 1 : NULL;
	size_t vlen = eq ? n - klen - 1 : 0;
	if (klen == 0)
		return SP_SYNTAX;
	if (is_mail && klen == 4 && str_ascii_nieq(s, "SIZE", 4)) {
		if (v == NULL || !parse_uint(v, vlen, &p->size))
			return SP_BAD_PARAM;
		p->has_size = true;
		return SP_OK;
	}
	if (is_mail && klen == 4 && str_ascii_nieq(s, "BODY", 4)) {
		if (v != NULL && vlen == 4 && str_ascii_nieq(v, "7BIT", 4))
			p->body = BODY_7BIT;
		else if (v != NULL && vlen == 8 && str_ascii_nieq(v, "8BITMIME", 8))
			p->body = BODY_8BITMIME;
		else
			return SP_BAD_PARAM;
		return SP_OK;
	}
	if (is_mail && klen == 8 && str_ascii_nieq(s, "SMTPUTF8", 8)) {
		if (v != NULL)
			return SP_BAD_PARAM;
		p->smtputf8 = true;
		return SP_OK;
	}
	if (is_mail && klen == 10 && str_ascii_nieq(s, "REQUIRETLS", 10)) {
		if (v != NULL)
			return SP_BAD_PARAM; /* RFC 8689 2: the parameter has no value */
		if (p->requiretls)
			return SP_REPEATED_PARAM;
		p->requiretls = true;
		return SP_OK;
	}
	if (is_mail && klen == 4 && str_ascii_nieq(s, "AUTH", 4))
		return v != NULL ? SP_OK : SP_BAD_PARAM; /* RFC 4954 5: accepted, not trusted */
	return parse_dsn_param(s, klen, v, vlen, is_mail, utf8, p);
}

static smtp_parse_status parse_path_cmd(const char *args, const char *kw, bool is_mail,
                                        bool utf8_session, smtp_path *p)
{
	memset(p, 0, sizeof(*p));
	size_t kwlen = strlen(kw);
	if (!str_ascii_nieq(args, kw, kwlen))
		return SP_SYNTAX;
	const char *s = args + kwlen;
	if (*s == ' ')
		s++; /* tolerated: "MAIL FROM: <a@b>" */
	if (*s != '<')
		return SP_SYNTAX;
	const char *end = path_end(s);
	if (end == NULL)
		return SP_SYNTAX;
	const char *inner = s + 1;
	size_t ilen = (size_t)(end - inner);
	if (ilen > 0 && inner[0] == '@') {
		/* obsolete source route "@a,@b:mbox": checked, then ignored
		 * (RFC 5321 4.1.2 and appendix C) */
		const char *colon = memchr(inner, ':', ilen);
		if (colon == NULL || !valid_route(inner, (size_t)(colon - inner)))
			return SP_BAD_ADDRESS;
		ilen -= (size_t)(colon + 1 - inner);
		inner = colon + 1;
		if (ilen == 0)
			return SP_BAD_ADDRESS; /* a route needs a mailbox after it */
	}
	if (ilen > 254)
		return SP_BAD_ADDRESS;
	/* parameters first, so that SMTPUTF8 is known when checking the path */
	const char *q = end + 1;
	while (*q != '\0') {
		if (*q != ' ')
			return SP_SYNTAX;
		while (*q == ' ')
			q++;
		if (*q == '\0')
			break;
		const char *pe = strchr(q, ' ');
		size_t plen = pe ? (size_t)(pe - q) : strlen(q);
		smtp_parse_status st = parse_param(q, plen, is_mail, utf8_session, p);
		if (st != SP_OK)
			return st;
		q += plen;
	}
	p->address = xstrndup(inner, ilen);
	if (ilen == 0)
		return is_mail ? SP_OK : SP_BAD_ADDRESS;
	if (!is_mail && str_ascii_ieq(p->address, "postmaster"))
		return SP_OK; /* RFC 5321 4.5.1: "<Postmaster>" with no domain */
	bool utf8 = is_mail ? p->smtputf8 : utf8_session;
	if (!envelope_valid_mailbox(p->address, utf8, &p->non_ascii)) {
		if (p->non_ascii && !utf8) {
			/* would it be valid with SMTPUTF8? then say so */
			bool na;
			if (envelope_valid_mailbox(p->address, true, &na))
				return SP_NEEDS_UTF8;
		}
		return SP_BAD_ADDRESS;
	}
	return SP_OK;
}

smtp_parse_status smtp_parse_mail(const char *args, smtp_path *p)
{
	return parse_path_cmd(args, "FROM:", true, false, p);
}

smtp_parse_status smtp_parse_rcpt(const char *args, bool utf8_session, smtp_path *p)
{
	return parse_path_cmd(args, "TO:", false, utf8_session, p);
}

void smtp_path_free(smtp_path *p)
{
	free(p->address);
	free(p->envid);
	free(p->orcpt);
	p->address = NULL;
	p->envid = NULL;
	p->orcpt = NULL;
}

bool smtp_parse_bdat(const char *args, uint64_t *size_r, bool *last_r)
{
	const char *sp = strchr(args, ' ');
	size_t n = sp ? (size_t)(sp - args) : strlen(args);
	if (!parse_uint(args, n, size_r))
		return false;
	*last_r = false;
	if (sp == NULL)
		return true;
	if (str_ascii_ieq(sp + 1, "LAST")) {
		*last_r = true;
		return true;
	}
	return false;
}
