/* pol_defaults.c — the checks port 25 makes out of the box, before any
 * rule is written (policy.* settings; clients in policy.trusted_networks
 * and sessions a rule accepted are exempt):
 *   - the greeting pause: a client seen for the first time waits
 *     policy.greet_pause ms for its 220; one that talks first is refused
 *     (554 5.5.1) and closed; those that waited are remembered for a day;
 *   - HELO/EHLO must name a host or be an address literal (RFC 5321
 *     4.1.1.1, 4.1.3): 501 5.5.2;
 *   - MAIL FROM an address in one of our domains needs a login: 550 5.7.1
 *     naming the submission port.
 * Refusals only: nothing here drops mail without a reply. */
#include "smtp/pol_steps.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/addrkey.h"
#include "lib/cidr.h"
#include "lib/log.h"
#include "lib/lru.h"

#define PASSED_MAX 65536
#define PASSED_SECONDS 86400

bool pol_trusted_client(const smtp_session *s)
{
	const strlist *nets = &s->srv->cfg->policy.trusted_networks;
	for (size_t i = 0; i < nets->n; i++) {
		cidr n;
		if (cidr_parse(nets->items[i], &n) && cidr_contains(&n, s->ip))
			return true;
	}
	return false;
}

static bool exempt(const smtp_session *s)
{
	return s->lst->role != ROLE_SMTP || s->auth_user != NULL || s->pol.accepted || s->pol.txn_accepted ||
	       pol_trusted_client(s);
}

/* A host name (letters, digits, hyphens and underscores in dot-separated
 * labels; a trailing dot allowed) or an address literal. */
static bool helo_name_ok(const char *h)
{
	size_t n = strlen(h);
	if (n >= 3 && h[0] == '[' && h[n - 1] == ']') {
		char *in = xstrndup(h + 1, n - 2);
		cidr c;
		const char *a = strncasecmp(in, "IPv6:", 5) == 0 ? in + 5 : in;
		bool ok = strchr(a, '/') == NULL && cidr_parse(a, &c) && (a == in) == (c.family == AF_INET);
		free(in);
		return ok;
	}
	if (n == 0 || n > 255)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];
		if (ch == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && ch != '_' && !(ch == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 ? h[n - 1] != '-' : n > 1; /* "host." is fine, "." is not */
}

static bool own_domain_sender(smtp_session *s)
{
	const char *at = s->txn.sender ? strrchr(s->txn.sender, '@') : NULL;
	return at != NULL && accounts_domain_is_local(s->srv->acc, at + 1);
}

void pol_defaults_step(policy_run *r)
{
	smtp_session *s = r->s;
	const config_policy *p = &s->srv->cfg->policy;
	if (!exempt(s)) {
		if (r->stage == POLICY_HELO && p->reject_invalid_helo && !helo_name_ok(s->helo))
			policy_verdict_decide(&r->v, POLICY_REJECT, 501, "5.5.2",
			                      "HELO/EHLO needs a host name or an address literal like [192.0.2.1]",
			                      "default invalid_helo");
		else if (r->stage == POLICY_MAIL && p->reject_unauth_own && own_domain_sender(s))
			policy_verdict_decide(&r->v, POLICY_REJECT, 550, "5.7.1",
			                      "Mail from our own domains needs a login: use the submission port (587 or 465)",
			                      "default unauthenticated_own_domain");
	}
	policy_step_next(r);
}

/* ---- the greeting pause ---- */

typedef struct passed_rec {
	time_t at;
} passed_rec;

static lru *passed_table(server *srv)
{
	if (srv->smtp_passed == NULL)
		srv->smtp_passed = lru_new(PASSED_MAX, sizeof(passed_rec));
	return srv->smtp_passed;
}

static void on_greet_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	smtp_session *s = arg;
	event_free(s->pol.greet_timer);
	s->pol.greet_timer = NULL;
	if (conn_input_waiting(s->c)) {
		log_event(LOG_LVL_INFO, "policy", "sid=%s qid=- stage=connect client=%s decision=reject by=\"default early_talker\"",
		          s->sid, s->ip);
		session_reply_text(s, 554, "5.5.1", "Protocol error: you talked before the greeting");
		conn_close_after(s->c);
	} else {
		char key[ADDRKEY_MAX];
		addrkey_of(s->ip, key);
		((passed_rec *)lru_touch(passed_table(s->srv), key))->at = time(NULL);
		session_greet(s);
	}
	session_resume(s);
}

bool pol_greet_later(smtp_session *s)
{
	int ms = s->srv->cfg->policy.greet_pause;
	if (ms <= 0 || exempt(s))
		return false;
	char key[ADDRKEY_MAX];
	addrkey_of(s->ip, key);
	passed_rec *rec = lru_find(passed_table(s->srv), key);
	if (rec != NULL && time(NULL) - rec->at < PASSED_SECONDS)
		return false;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	s->pol.greet_timer = evtimer_new(s->srv->base, on_greet_timer, s);
	evtimer_add(s->pol.greet_timer, &tv);
	session_pause(s);
	return true;
}

void pol_greet_cancel(smtp_session *s)
{
	if (s->pol.greet_timer != NULL) {
		event_free(s->pol.greet_timer);
		s->pol.greet_timer = NULL;
	}
}
