/* listeners.c — `yubin doctor`'s listener checks: every configured
 * listener accepts a connection and speaks its protocol — the SMTP
 * greeting and EHLO (RFC 5321), STARTTLS where it must be offered (RFC
 * 3207, RFC 2595, and no AUTH before it on submission, RFC 8314 3.3),
 * implicit TLS (RFC 8314), the POP3 and IMAP greetings, the HTTPS
 * listener's health page — and the open-relay self-test on each port-25
 * listener: an unauthenticated RCPT to an outside domain (.invalid, RFC
 * 2606, so nothing can ever be delivered) must be refused.  No DATA is
 * ever sent.  The probing itself is probe.c's. */
#include "doctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doctor/probe.h"

/* An EHLO reply line naming keyword (the first word). */
static bool has_ext(const strlist *lines, const char *keyword)
{
	size_t n = strlen(keyword);
	for (size_t i = 1; i < lines->n; i++)
		if (strncasecmp(lines->items[i], keyword, n) == 0 &&
		    (lines->items[i][n] == '\0' || lines->items[i][n] == ' ' || lines->items[i][n] == '='))
			return true;
	return false;
}

/* Expect an SMTP reply of class 2 (code/100 == 2); else p->error says why. */
static bool smtp_ok(probe *p, strlist *lines, const char *what)
{
	strlist_free(lines);
	strlist_init(lines);
	int code = probe_smtp_reply(p, lines);
	if (code < 0)
		return false;
	if (code / 100 != 2) {
		free(p->error);
		p->error = xasprintf("%s answered %d %s", what, code, lines->n ? lines->items[0] : "");
		return false;
	}
	return true;
}

static bool smtp_ehlo(probe *p, strlist *ext)
{
	return probe_send(p, "EHLO doctor.invalid") && smtp_ok(p, ext, "EHLO");
}

/* The open-relay self-test on a port-25 session that has said EHLO. */
static void relay_test(doctor *d, probe *p, const char *subject)
{
	strlist lines;
	strlist_init(&lines);
	const char *fix = "refuse RCPT to other domains without a login: check policy.rules and "
	                  "policy.trusted_networks for an accept that covers every client";
	if (!probe_send(p, "MAIL FROM:<>") || !smtp_ok(p, &lines, "MAIL FROM:<>")) {
		doctor_add(d, "relay", subject, DOCTOR_WARN, NULL, "inconclusive: %s", p->error);
	} else if (!probe_send(p, "RCPT TO:<relay-test@example.invalid>")) {
		doctor_add(d, "relay", subject, DOCTOR_WARN, NULL, "inconclusive: %s", p->error);
	} else {
		strlist_free(&lines);
		strlist_init(&lines);
		int code = probe_smtp_reply(p, &lines);
		const char *text = lines.n ? lines.items[0] : "";
		if (code < 0)
			doctor_add(d, "relay", subject, DOCTOR_WARN, NULL, "inconclusive: %s", p->error);
		else if (code / 100 == 5)
			doctor_add(d, "relay", subject, DOCTOR_OK, NULL,
			           "not an open relay: RCPT to an outside domain without a login got %d %s", code, text);
		else if (code / 100 == 4)
			doctor_add(d, "relay", subject, DOCTOR_WARN, NULL,
			           "inconclusive: RCPT to an outside domain got %d %s (a temporary refusal)", code, text);
		else
			doctor_add(d, "relay", subject, DOCTOR_FAIL, fix,
			           "OPEN RELAY: RCPT TO:<relay-test@example.invalid> without a login got %d %s", code, text);
		probe_send(p, "RSET");
	}
	strlist_free(&lines);
}

/* SMTP on port 25 / submission: greeting, EHLO, STARTTLS (then EHLO
 * again); false with p->error.  *note_r: a problem that is not a failure. */
static bool check_smtp(doctor *d, probe *p, const config_listener *l, const char *subject, char **note_r)
{
	strlist ext;
	strlist_init(&ext);
	bool implicit = l->role == ROLE_SUBMISSIONS, ok = false;
	if ((implicit && !probe_tls(p, d->cfg->hostname)) || !smtp_ok(p, &ext, "the greeting") || !smtp_ehlo(p, &ext))
		goto out;
	if (l->role == ROLE_SMTP) {
		if (!has_ext(&ext, "STARTTLS"))
			*note_r = xstrdup("STARTTLS is not offered: mail from other servers arrives unencrypted");
		relay_test(d, p, subject);
		ok = true;
		goto out;
	}
	if (!implicit) {
		if (!has_ext(&ext, "STARTTLS")) {
			free(p->error);
			p->error = xstrdup("STARTTLS is not offered on a submission port");
			goto out;
		}
		if (has_ext(&ext, "AUTH")) {
			free(p->error);
			p->error = xstrdup("AUTH is offered before STARTTLS: passwords could cross the network in clear");
			goto out;
		}
		if (!probe_send(p, "STARTTLS") || !smtp_ok(p, &ext, "STARTTLS") || !probe_tls(p, d->cfg->hostname) ||
		    !smtp_ehlo(p, &ext))
			goto out;
	}
	if (!has_ext(&ext, "AUTH"))
		*note_r = xstrdup("AUTH is not offered after TLS: users cannot log in to send");
	ok = true;
out:
	probe_send(p, "QUIT");
	strlist_free(&ext);
	return ok;
}

/* A line starting with want; else p->error. */
static bool expect_line(probe *p, const char *want, const char *what)
{
	char *line;
	if (!probe_line(p, &line))
		return false;
	bool ok = strncmp(line, want, strlen(want)) == 0;
	if (!ok) {
		free(p->error);
		p->error = xasprintf("%s: expected \"%s\", got \"%.60s\"", what, want, line);
	}
	free(line);
	return ok;
}

static bool check_pop3(doctor *d, probe *p, const config_listener *l)
{
	if (l->role == ROLE_POP3S)
		return probe_tls(p, d->cfg->hostname) && expect_line(p, "+OK", "the greeting");
	static const char *const end[] = {".", "-ERR", NULL};
	strlist caps;
	strlist_init(&caps);
	char *last = NULL;
	bool ok = expect_line(p, "+OK", "the greeting") && probe_send(p, "CAPA") && expect_line(p, "+OK", "CAPA") &&
	          probe_until(p, end, &caps, &last);
	bool stls = false;
	for (size_t i = 0; ok && i < caps.n; i++)
		stls |= strcasecmp(caps.items[i], "STLS") == 0;
	if (ok && !stls) {
		free(p->error);
		p->error = xstrdup("STLS is not offered (RFC 2595): passwords would cross the network in clear");
		ok = false;
	}
	ok = ok && probe_send(p, "STLS") && expect_line(p, "+OK", "STLS") && probe_tls(p, d->cfg->hostname);
	probe_send(p, "QUIT");
	free(last);
	strlist_free(&caps);
	return ok;
}

static bool check_imap(doctor *d, probe *p, const config_listener *l)
{
	if (l->role == ROLE_IMAPS)
		return probe_tls(p, d->cfg->hostname) && expect_line(p, "* OK", "the greeting");
	static const char *const tag1[] = {"d1 ", NULL};
	char *last = NULL;
	strlist lines;
	strlist_init(&lines);
	bool ok = expect_line(p, "* OK", "the greeting") && probe_send(p, "d1 CAPABILITY") &&
	          probe_until(p, tag1, &lines, &last);
	bool starttls = false;
	for (size_t i = 0; ok && i < lines.n; i++)
		starttls |= strcasestr(lines.items[i], " STARTTLS") != NULL;
	if (ok && !starttls) {
		free(p->error);
		p->error = xstrdup("STARTTLS is not offered (RFC 9051 6.2.1): passwords would cross the network in clear");
		ok = false;
	}
	ok = ok && probe_send(p, "d2 STARTTLS") && expect_line(p, "d2 OK", "STARTTLS") && probe_tls(p, d->cfg->hostname);
	probe_send(p, "d3 LOGOUT");
	free(last);
	strlist_free(&lines);
	return ok;
}

/* ManageSieve (RFC 5804 1.7, 2.2): capabilities then OK; STARTTLS must be
 * offered, and after the handshake the capabilities come again. */
static bool managesieve_caps(probe *p, const char *what, bool *starttls_r)
{
	static const char *const end[] = {"OK", "NO", "BYE", NULL};
	strlist lines;
	strlist_init(&lines);
	char *last = NULL;
	bool ok = probe_until(p, end, &lines, &last);
	if (ok && strncmp(last, "OK", 2) != 0) {
		free(p->error);
		p->error = xasprintf("%s: expected the capabilities and OK, got \"%.60s\"", what, last);
		ok = false;
	}
	*starttls_r = false;
	for (size_t i = 0; ok && i < lines.n; i++)
		*starttls_r |= strcasecmp(lines.items[i], "\"STARTTLS\"") == 0;
	free(last);
	strlist_free(&lines);
	return ok;
}

static bool check_managesieve(doctor *d, probe *p)
{
	bool starttls, again;
	bool ok = managesieve_caps(p, "the greeting", &starttls);
	if (ok && !starttls) {
		free(p->error);
		p->error = xstrdup("STARTTLS is not offered (RFC 5804 2.2): passwords would cross the network in clear");
		ok = false;
	}
	ok = ok && probe_send(p, "STARTTLS") && expect_line(p, "OK", "STARTTLS") && probe_tls(p, d->cfg->hostname) &&
	     managesieve_caps(p, "the capabilities after STARTTLS", &again);
	probe_send(p, "LOGOUT");
	return ok;
}

static bool check_https(doctor *d, probe *p)
{
	char *req = xasprintf("GET /v1/health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", d->cfg->hostname);
	bool ok = probe_tls(p, d->cfg->hostname) && probe_send(p, req) && expect_line(p, "HTTP/1.1 200", "GET /v1/health");
	free(req);
	return ok;
}

static void check_one(doctor *d, const config_listener *l)
{
	const char *ip = l->address;
	if (strcmp(ip, "0.0.0.0") == 0)
		ip = "127.0.0.1";
	else if (strcmp(ip, "::") == 0)
		ip = "::1";
	char *subject = xasprintf("%s %s%s%s:%d", config_role_name(l->role), strchr(ip, ':') ? "[" : "", ip,
	                          strchr(ip, ':') ? "]" : "", l->port);
	probe p;
	char *note = NULL;
	bool ok = probe_connect(&p, ip, l->port, d->cfg->doctor.timeout);
	if (ok) {
		if (l->role == ROLE_SMTP || l->role == ROLE_SUBMISSION || l->role == ROLE_SUBMISSIONS)
			ok = check_smtp(d, &p, l, subject, &note);
		else if (l->role == ROLE_POP3 || l->role == ROLE_POP3S)
			ok = check_pop3(d, &p, l);
		else if (l->role == ROLE_IMAP || l->role == ROLE_IMAPS)
			ok = check_imap(d, &p, l);
		else if (l->role == ROLE_MANAGESIEVE)
			ok = check_managesieve(d, &p);
		else
			ok = check_https(d, &p);
	}
	if (!ok)
		doctor_add(d, "listener", subject, DOCTOR_FAIL,
		           "start the server (`yubin serve`) and look at its log; check that no other program holds the port",
		           "%s", p.error ? p.error : "no answer");
	else if (note != NULL)
		doctor_add(d, "listener", subject, DOCTOR_WARN, "check the tls: settings (tls.cert, tls.key)", "%s", note);
	else
		doctor_add(d, "listener", subject, DOCTOR_OK, NULL, "answers and speaks %s%s", config_role_name(l->role),
		           l->role == ROLE_HTTPS || l->role == ROLE_SMTP ? "" : " with TLS");
	free(note);
	probe_close(&p);
	free(subject);
}

void doctor_check_listeners(doctor *d)
{
	for (int i = 0; i < d->cfg->n_listeners; i++)
		check_one(d, &d->cfg->listeners[i]);
}
