/* runner.c — `yubin doctor`'s runner: collects the results of the checks,
 * answers their DNS questions by running the CLI's event loop until the
 * answer is in (the resolver bounds each one with dns.timeout), decides
 * which addresses are the server's, and prints the report as text or
 * JSON.  The checks themselves live in the other files of doctor/. */
#include "doctor/doctor.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {"ok", "warn", "fail", "skip"};

const char *doctor_status_name(doctor_status s)
{
	return status_names[s];
}

void doctor_add(doctor *d, const char *check, const char *subject, doctor_status st, const char *fix,
                const char *fmt, ...)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	va_list ap;
	va_start(ap, fmt);
	char *detail = NULL;
	if (vasprintf(&detail, fmt, ap) < 0)
		abort();
	va_end(ap);
	d->v[d->n++] = (doctor_result){.check = xstrdup(check), .subject = xstrdup(subject), .status = st,
	                               .detail = detail, .fix = fix ? xstrdup(fix) : NULL};
}

typedef struct waiter {
	struct event_base *base;
	doctor_answer *a;
	bool done;
} waiter;

static void on_answer(void *arg, const dns_answer *ans)
{
	waiter *w = arg;
	w->a->status = ans->status;
	for (size_t i = 0; i < ans->values.n; i++)
		strlist_add(&w->a->values, ans->values.items[i]);
	if (ans->prefs != NULL && ans->values.n > 0) {
		w->a->prefs = xcalloc(ans->values.n, sizeof(int));
		memcpy(w->a->prefs, ans->prefs, ans->values.n * sizeof(int));
	}
	w->done = true;
	event_base_loopbreak(w->base);
}

void doctor_lookup(doctor *d, const char *name, int rrtype, doctor_answer *a_r)
{
	*a_r = (doctor_answer){.status = DNS_TEMPFAIL};
	strlist_init(&a_r->values);
	waiter w = {.base = d->base, .a = a_r};
	dns_lookup(d->dns, name, rrtype, on_answer, &w);
	/* the resolver answers every look-up, at the latest with a temporary
	 * failure after dns.timeout */
	while (!w.done)
		if (event_base_dispatch(d->base) != 0) /* an error, or nothing left to wait for */
			break;
	if (!w.done)
		dns_forget(d->dns, &w);
}

void doctor_answer_free(doctor_answer *a)
{
	strlist_free(&a->values);
	free(a->prefs);
	a->prefs = NULL;
}

bool doctor_addresses_of(doctor *d, const char *name, strlist *out)
{
	bool answered = false;
	static const int types[] = {DNS_TYPE_A, DNS_TYPE_AAAA};
	for (size_t t = 0; t < 2; t++) {
		doctor_answer a;
		doctor_lookup(d, name, types[t], &a);
		if (a.status != DNS_TEMPFAIL)
			answered = true;
		for (size_t i = 0; i < a.values.n; i++)
			strlist_add(out, a.values.items[i]);
		doctor_answer_free(&a);
	}
	return answered;
}

bool doctor_same_ip(const char *a, const char *b)
{
	unsigned char x[16], y[16];
	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
	return false;
}

bool doctor_is_ours(const doctor *d, const char *ip)
{
	for (size_t i = 0; i < d->addresses.n; i++)
		if (doctor_same_ip(d->addresses.items[i], ip))
			return true;
	return false;
}

/* Loopback (127.0.0.0/8, ::1) and the wildcards say nothing about the
 * address the world sees. */
static bool is_public_candidate(const char *ip)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, ip, b) == 1)
		return b[0] != 127 && memcmp(b, "\0\0\0\0", 4) != 0;
	if (inet_pton(AF_INET6, ip, b) == 1) {
		static const unsigned char any[16], one[16] = {[15] = 1};
		return memcmp(b, any, 16) != 0 && memcmp(b, one, 16) != 0;
	}
	return false;
}

void doctor_pick_addresses(doctor *d)
{
	const config *c = d->cfg;
	for (size_t i = 0; i < c->doctor.addresses.n; i++)
		strlist_add(&d->addresses, c->doctor.addresses.items[i]);
	if (d->addresses.n > 0)
		return;
	for (int i = 0; i < c->n_listeners; i++) {
		const char *ip = c->listeners[i].address;
		if (is_public_candidate(ip) && !doctor_is_ours(d, ip))
			strlist_add(&d->addresses, ip);
	}
	if (d->addresses.n > 0)
		return;
	strlist found;
	strlist_init(&found);
	doctor_addresses_of(d, c->hostname, &found);
	for (size_t i = 0; i < found.n; i++)
		if (!doctor_is_ours(d, found.items[i]))
			strlist_add(&d->addresses, found.items[i]);
	strlist_free(&found);
	if (d->addresses.n > 0)
		doctor_add(d, "addresses", c->hostname, DOCTOR_WARN,
		           "name them in doctor.addresses (the addresses other servers see this server connect from)",
		           "the listeners are bound to wildcard or loopback addresses; assuming the addresses of %s",
		           c->hostname);
	else
		doctor_add(d, "addresses", c->hostname, DOCTOR_FAIL,
		           "publish the A/AAAA records of the host name, or name the addresses in doctor.addresses",
		           "no public address: the listeners are bound to wildcard or loopback addresses and %s has no "
		           "A or AAAA record", c->hostname);
}

void doctor_run(doctor *d)
{
	doctor_pick_addresses(d);
	for (size_t i = 0; i < d->domains.n; i++) {
		const char *domain = d->domains.items[i];
		doctor_check_mx(d, domain);
		doctor_check_spf(d, domain);
		doctor_check_dkim(d, domain);
		doctor_check_dmarc(d, domain);
		doctor_check_autoconfig(d, domain);
		doctor_check_srv(d, domain);
	}
	doctor_check_fcrdns(d);
	doctor_check_cert(d);
	doctor_check_listeners(d);
	doctor_check_outbound(d);
	doctor_check_dnsbl(d);
}

static const char *const marks[] = {"[ OK ]", "[WARN]", "[FAIL]", "[SKIP]"};

static void report_text(const doctor *d)
{
	size_t count[4] = {0};
	for (size_t i = 0; i < d->n; i++) {
		const doctor_result *r = &d->v[i];
		count[r->status]++;
		printf("%s %s %s: %s\n", marks[r->status], r->check, r->subject, r->detail);
		if (r->fix != NULL)
			printf("       fix: %s\n", r->fix);
	}
	printf("%zu ok, %zu warnings, %zu failed, %zu skipped\n", count[DOCTOR_OK], count[DOCTOR_WARN],
	       count[DOCTOR_FAIL], count[DOCTOR_SKIP]);
}

static void report_json(const doctor *d)
{
	json_t *results = json_array();
	size_t count[4] = {0};
	for (size_t i = 0; i < d->n; i++) {
		const doctor_result *r = &d->v[i];
		count[r->status]++;
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "check", r->check, "subject", r->subject, "status",
		                      status_names[r->status], "detail", r->detail);
		if (r->fix != NULL) /* absent, not null, when there is nothing to fix */
			json_object_set_new(o, "fix", json_string(r->fix));
		json_array_append_new(results, o);
	}
	json_t *doms = json_array(), *addrs = json_array();
	for (size_t i = 0; i < d->domains.n; i++)
		json_array_append_new(doms, json_string(d->domains.items[i]));
	for (size_t i = 0; i < d->addresses.n; i++)
		json_array_append_new(addrs, json_string(d->addresses.items[i]));
	json_t *root = json_pack("{s:s, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:b}", "hostname", d->cfg->hostname,
	                         "domains", doms, "addresses", addrs, "results", results, "summary", "ok",
	                         (json_int_t)count[0], "warn", (json_int_t)count[1], "fail", (json_int_t)count[2],
	                         "skip", (json_int_t)count[3], "healthy", count[DOCTOR_FAIL] == 0);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

bool doctor_report(const doctor *d, bool json)
{
	if (json)
		report_json(d);
	else
		report_text(d);
	return fflush(stdout) == 0 && !ferror(stdout);
}

int doctor_exit_status(const doctor *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].status == DOCTOR_FAIL)
			return 1;
	return 0;
}

void doctor_free(doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].check);
		free(d->v[i].subject);
		free(d->v[i].detail);
		free(d->v[i].fix);
	}
	free(d->v);
	EVP_PKEY_free(d->tls_key);
	strlist_free(&d->domains);
	strlist_free(&d->addresses);
	*d = (doctor){0};
}
