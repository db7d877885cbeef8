/* srvcheck.c — `yubin doctor`'s check of the SRV records mail programs use
 * to find a domain's servers (RFC 6186 3, RFC 8314 5.1): for each service
 * this server runs, a record whose target is this server and whose port is
 * one of its listeners of that kind; for a service it does not run, no
 * record pointing here (RFC 6186 3.4: "0 0 0 ." says "not offered").
 * Implicit TLS is advised at priority 0 and STARTTLS at 10 (RFC 8314 5.1),
 * so clients that know both prefer TLS from the first byte. */
#include "doctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doctor/advice.h"

static const struct {
	const char *label;
	listener_role role;
	int priority;
	const char *what;
} services[] = {
	{"_submissions._tcp", ROLE_SUBMISSIONS, 0, "submission with implicit TLS"},
	{"_submission._tcp", ROLE_SUBMISSION, 10, "submission with STARTTLS"},
	{"_imaps._tcp", ROLE_IMAPS, 0, "IMAP with implicit TLS"},
	{"_imap._tcp", ROLE_IMAP, 10, "IMAP with STARTTLS"},
	{"_pop3s._tcp", ROLE_POP3S, 0, "POP3 with implicit TLS"},
	{"_pop3._tcp", ROLE_POP3, 10, "POP3 with STARTTLS"},
};

/* The ports this server listens on for role; the standard port first when
 * it is one of them.  Returns how many (at most cap). */
static size_t role_ports(const config *c, listener_role role, int *ports, size_t cap)
{
	static const int standard[] = {[ROLE_SUBMISSIONS] = 465, [ROLE_SUBMISSION] = 587, [ROLE_IMAPS] = 993,
	                               [ROLE_IMAP] = 143, [ROLE_POP3S] = 995, [ROLE_POP3] = 110};
	size_t n = 0;
	for (int i = 0; i < c->n_listeners && n < cap; i++) {
		if (c->listeners[i].role != role)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen |= ports[k] == c->listeners[i].port;
		if (seen)
			continue;
		ports[n++] = c->listeners[i].port;
		if (c->listeners[i].port == standard[role] && n > 1) {
			ports[n - 1] = ports[0];
			ports[0] = standard[role];
		}
	}
	return n;
}

/* Does the target name this server: the host name, or an address of ours? */
static bool target_is_ours(doctor *d, const char *target)
{
	if (strcasecmp(target, d->cfg->hostname) == 0)
		return true;
	strlist found;
	strlist_init(&found);
	doctor_addresses_of(d, target, &found);
	bool ours = false;
	for (size_t i = 0; i < found.n; i++)
		ours |= doctor_is_ours(d, found.items[i]);
	strlist_free(&found);
	return ours;
}

static void judge_offered(doctor *d, const char *name, size_t s, const int *ports, size_t n_ports,
                          const doctor_answer *a)
{
	char *fix = xasprintf("publish \"%s. IN SRV %d 1 %d %s.\"", name, services[s].priority, ports[0],
	                      d->cfg->hostname);
	if (a->status == DNS_TEMPFAIL) {
		doctor_add(d, "srv", name, DOCTOR_FAIL, fix, "no answer from DNS");
	} else if (a->status != DNS_OK) {
		doctor_add(d, "srv", name, DOCTOR_WARN, fix,
		           "no SRV record: mail programs that look for %s (RFC 6186) will not find port %d", services[s].what,
		           ports[0]);
	} else {
		const char *bad = NULL;
		bool good = false, dot = false;
		for (size_t i = 0; i < a->values.n && i < DOCTOR_MAX_NAMES && !good; i++) {
			int port;
			const char *target;
			if (!doctor_srv_split(a->values.items[i], &port, &target))
				continue;
			if (strcmp(target, ".") == 0) {
				dot = true;
				continue;
			}
			bool port_ok = false;
			for (size_t k = 0; k < n_ports; k++)
				port_ok |= ports[k] == port;
			if (port_ok && target_is_ours(d, target))
				good = true;
			else
				bad = a->values.items[i];
		}
		if (good)
			doctor_add(d, "srv", name, DOCTOR_OK, NULL, "points at this server, port %d", ports[0]);
		else if (bad != NULL)
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix,
			           "\"%s\" does not lead to this server's %s (port %d on %s)", bad, services[s].what, ports[0],
			           d->cfg->hostname);
		else if (dot)
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix,
			           "the record says %s is not offered (target \".\"), but this server runs it on port %d",
			           services[s].what, ports[0]);
		else
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix, "the SRV records there cannot be read");
	}
	free(fix);
}

static void judge_not_offered(doctor *d, const char *name, size_t s, const doctor_answer *a)
{
	for (size_t i = 0; a->status == DNS_OK && i < a->values.n && i < DOCTOR_MAX_NAMES; i++) {
		int port;
		const char *target;
		if (doctor_srv_split(a->values.items[i], &port, &target) && strcmp(target, ".") != 0 &&
		    target_is_ours(d, target)) {
			char *fix = xasprintf("publish \"%s. IN SRV 0 0 0 .\" instead (RFC 6186 3.4: not offered), or add a "
			                      "%s listener", name, config_role_name(services[s].role));
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix,
			           "\"%s\" sends mail programs here for %s, which this server does not offer",
			           a->values.items[i], services[s].what);
			free(fix);
			return;
		}
	}
	doctor_add(d, "srv", name, DOCTOR_SKIP, NULL, "this server does not offer %s, and no record says it does",
	           services[s].what);
}

void doctor_check_srv(doctor *d, const char *domain)
{
	for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		int ports[16];
		size_t n_ports = role_ports(d->cfg, services[s].role, ports, 16);
		char *name = xasprintf("%s.%s", services[s].label, domain);
		doctor_answer a;
		doctor_lookup(d, name, DNS_TYPE_SRV, &a);
		if (n_ports > 0)
			judge_offered(d, name, s, ports, n_ports, &a);
		else
			judge_not_offered(d, name, s, &a);
		doctor_answer_free(&a);
		free(name);
	}
}
