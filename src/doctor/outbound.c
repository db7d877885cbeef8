/* outbound.c — `yubin doctor`'s outbound port-25 check: can this machine
 * reach other mail servers?  Many providers block outgoing port 25 (OP25B)
 * on home and cloud networks; then mail must leave through a relay on
 * 587/465.  Probe: the MX hosts of doctor.probe_domain (at most
 * PROBE_HOSTS addresses), on delivery.port, until one greets with 220; or,
 * when relay.host is set, the relay on its first port.  With relay.when =
 * "blocked" the relay is only the fall-back for a blocked port 25
 * (delivery/route.h): both are probed and reported, and a blocked port 25
 * is a warning while the relay answers.  Never sends mail: greeting, QUIT. */
#include "doctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/route.h"
#include "doctor/probe.h"

#define PROBE_HOSTS 4

/* Connect and read a 220 greeting; false with *why_r (malloc'd). */
static bool greets(doctor *d, const char *ip, int port, char **why_r)
{
	probe p;
	strlist lines;
	strlist_init(&lines);
	bool ok = probe_connect(&p, ip, port, d->cfg->doctor.timeout);
	int code = ok ? probe_smtp_reply(&p, &lines) : -1;
	if (code == 220) {
		probe_send(&p, "QUIT");
		*why_r = NULL;
	} else {
		*why_r = code > 0 ? xasprintf("%s:%d greeted with %d", ip, port, code)
		                  : xasprintf("%s:%d: %s", ip, port, p.error ? p.error : "no greeting");
	}
	probe_close(&p);
	strlist_free(&lines);
	return code == 220;
}

/* fallback: relay.when = "blocked".  True when the relay answered. */
static bool check_relay(doctor *d, bool fallback)
{
	const config_relay *r = &d->cfg->relay;
	int port = r->n_ports > 0 ? r->ports[0] : 587;
	strlist addrs;
	strlist_init(&addrs);
	doctor_addresses_of(d, r->host, &addrs);
	char *why = NULL;
	bool ok = false;
	for (size_t i = 0; i < addrs.n && i < PROBE_HOSTS && !ok; i++) {
		free(why);
		ok = greets(d, addrs.items[i], port, &why);
	}
	char *subject = xasprintf("relay %s:%d", r->host, port);
	if (ok && fallback)
		doctor_add(d, "outbound", subject, DOCTOR_OK, NULL,
		           "the relay answers: it takes the mail while port %d is blocked (relay.when = \"blocked\")",
		           d->cfg->delivery.port);
	else if (ok)
		doctor_add(d, "outbound", subject, DOCTOR_OK, NULL, "outbound mail goes through the relay, which answers");
	else
		doctor_add(d, "outbound", subject, DOCTOR_FAIL, "check relay.host and relay.ports, and that the relay lets this server in",
		           "the relay does not answer: %s", why ? why : "its name has no address");
	free(subject);
	free(why);
	strlist_free(&addrs);
	return ok;
}

void doctor_check_outbound(doctor *d)
{
	bool fallback = d->cfg->relay.host != NULL && route_relay_only_when_blocked(d->cfg);
	bool relay_ok = false;
	if (d->cfg->relay.host != NULL) {
		relay_ok = check_relay(d, fallback);
		if (!fallback)
			return;
	}
	const char *dom = d->cfg->doctor.probe_domain;
	int port = d->cfg->delivery.port;
	doctor_answer mx;
	doctor_lookup(d, dom, DNS_TYPE_MX, &mx);
	char *subject = xasprintf("port %d via %s", port, dom);
	strlist addrs;
	strlist_init(&addrs);
	for (size_t i = 0; i < mx.values.n && addrs.n < PROBE_HOSTS; i++)
		if (strcmp(mx.values.items[i], ".") != 0)
			doctor_addresses_of(d, mx.values.items[i], &addrs);
	char *why = NULL;
	bool ok = false;
	for (size_t i = 0; i < addrs.n && i < PROBE_HOSTS && !ok; i++) {
		free(why);
		ok = greets(d, addrs.items[i], port, &why);
	}
	if (addrs.n == 0)
		doctor_add(d, "outbound", subject, DOCTOR_WARN, "check dns.resolver, or set doctor.probe_domain",
		           "cannot test: the MX hosts of %s have no address here (DNS: %s)", dom,
		           mx.status == DNS_OK ? "no addresses" : "no MX answer");
	else if (ok)
		doctor_add(d, "outbound", subject, DOCTOR_OK, NULL, "outbound port %d is open: an MX host of %s greeted",
		           port, dom);
	else if (fallback)
		doctor_add(d, "outbound", subject, relay_ok ? DOCTOR_WARN : DOCTOR_FAIL,
		           relay_ok ? "none needed while the relay answers; ask your provider to unblock outgoing port 25 "
		                      "to send directly"
		                    : "make the relay answer (relay.host, relay.ports), or ask your provider to unblock "
		                      "outgoing port 25",
		           "outbound port %d seems blocked (OP25B): %s; mail goes through the relay %s (relay.when = "
		           "\"blocked\")%s", port, why, d->cfg->relay.host, relay_ok ? "" : ", which does not answer either");
	else
		doctor_add(d, "outbound", subject, DOCTOR_FAIL,
		           "ask your provider to unblock outgoing port 25, or send through a relay on port 587/465: set "
		           "relay.host, relay.ports, relay.user and relay.password_file (no relay is configured now)",
		           "outbound port %d seems blocked (OP25B, common on home and cloud networks): %s", port, why);
	free(why);
	free(subject);
	strlist_free(&addrs);
	doctor_answer_free(&mx);
}
