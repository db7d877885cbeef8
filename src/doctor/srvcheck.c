/* srvcheck.c — `yubin doctor`'s check of the SRV records mail programs use
 * to find a domain's servers (RFC 6186 3, RFC 8314 5.1, RFC 5804 1.8 for
 * ManageSieve): for each service
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

#include "autoconf/autoconf.h"
#include "doctor/advice.h"

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

static void judge_offered(doctor *d, const char *name, const autoconf_srv_service *sv, const int *ports,
                          size_t n_ports, const doctor_answer *a)
{
	char *fix = xasprintf("publish \"%s. IN SRV %d 1 %d %s.\"", name, sv->priority, ports[0],
	                      d->cfg->hostname);
	if (a->status == DNS_TEMPFAIL) {
		doctor_add(d, "srv", name, DOCTOR_FAIL, fix, "no answer from DNS");
	} else if (a->status != DNS_OK) {
		doctor_add(d, "srv", name, DOCTOR_WARN, fix,
		           "no SRV record: mail programs that look for %s (%s) will not find port %d", sv->what,
		           sv->spec, ports[0]);
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
			           "\"%s\" does not lead to this server's %s (port %d on %s)", bad, sv->what, ports[0],
			           d->cfg->hostname);
		else if (dot)
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix,
			           "the record says %s is not offered (target \".\"), but this server runs it on port %d",
			           sv->what, ports[0]);
		else
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix, "the SRV records there cannot be read");
	}
	free(fix);
}

static void judge_not_offered(doctor *d, const char *name, const autoconf_srv_service *sv, const doctor_answer *a)
{
	for (size_t i = 0; a->status == DNS_OK && i < a->values.n && i < DOCTOR_MAX_NAMES; i++) {
		int port;
		const char *target;
		if (doctor_srv_split(a->values.items[i], &port, &target) && strcmp(target, ".") != 0 &&
		    target_is_ours(d, target)) {
			char *fix = xasprintf("publish \"%s. IN SRV 0 0 0 .\" instead (target \".\": not offered), or add a "
			                      "%s listener", name, config_role_name(sv->role));
			doctor_add(d, "srv", name, DOCTOR_FAIL, fix,
			           "\"%s\" sends mail programs here for %s, which this server does not offer",
			           a->values.items[i], sv->what);
			free(fix);
			return;
		}
	}
	doctor_add(d, "srv", name, DOCTOR_SKIP, NULL, "this server does not offer %s, and no record says it does",
	           sv->what);
}

void doctor_check_srv(doctor *d, const char *domain)
{
	for (size_t s = 0; s < autoconf_n_srv_services; s++) {
		const autoconf_srv_service *sv = &autoconf_srv_services[s];
		int ports[AUTOCONF_MAX_ENDPOINTS];
		size_t n_ports = autoconf_srv_ports(d->cfg, sv, ports, AUTOCONF_MAX_ENDPOINTS);
		char *name = xasprintf("%s._tcp.%s", sv->label, domain);
		doctor_answer a;
		doctor_lookup(d, name, DNS_TYPE_SRV, &a);
		if (n_ports > 0)
			judge_offered(d, name, sv, ports, n_ports, &a);
		else
			judge_not_offered(d, name, sv, &a);
		doctor_answer_free(&a);
		free(name);
	}
}
