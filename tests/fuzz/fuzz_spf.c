/* fuzz_spf.c — libFuzzer target for SPF: record parsing, macro syntax and
 * expansion, and check_host() against a tiny zone written in the input.
 * Invariants checked (abort() when one breaks):
 *  - a record parses exactly when there is no error sentence, is then an
 *    SPF record, every term has a qualifier of "+-~?", CIDR lengths in
 *    range, and valid domain-specs (redirect= and exp= too);
 *  - a domain-spec is a macro-string, a macro-string is an explain-string;
 *    an invalid string never expands; an expansion stays under the
 *    module's bound; an expanded domain is a usable name of <= 253 bytes;
 *  - spf_check_host calls done exactly once, with the strings its result
 *    promises, asks at most SPF_MAX_QUERIES questions and at most one at
 *    a time, whether the fake answers at once, later, or the check is
 *    cancelled in between (leaks are ASan's to find).
 * Input: one option byte, then text.  The text is the record and macro
 * string as a whole; its lines "<name> <type> <value>" are the zone, type
 * one of T (TXT), A, 6 (AAAA), M (MX), P (PTR), F (temporary failure),
 * X (a TXT of the rest of the input, NUL bytes included). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "msgauth/spf.h"
#include "msgauth/spfint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MACRO_BOUND 16384   /* spfmacro.c's MACRO_MAX_OUT */

static const char *const ips[] = {"192.0.2.1", "2001:db8::1", "::ffff:198.51.100.7", "203.0.113.9"};
static const char *const senders[] = {"user@fz.test", "fz.test", "@fz.test", "A.B+c@Sub.FZ.test"};
static const char *const domains[] = {"fz.test", "sub.fz.test.", "test", "fz.test"};

static void check_record(const char *s, size_t n)
{
	char *err = NULL;
	spf_record *r = spf_record_parse(s, n, &err);
	if ((r == NULL) == (err == NULL))
		abort();
	free(err);
	if (r == NULL)
		return;
	if (!spf_is_record(s, n))
		abort();
	for (size_t i = 0; i < r->n; i++) {
		const spf_term *t = &r->terms[i];
		if (strchr("+-~?", t->qualifier) == NULL || t->qualifier == '\0' || t->text == NULL)
			abort();
		if (t->cidr4 < 0 || t->cidr4 > 32 || t->cidr6 < 0 || t->cidr6 > 128)
			abort();
		if (t->domain != NULL && !spf_domain_spec_valid(t->domain))
			abort();
		if ((t->mech == SPF_M_IP4 && t->net.family != 4) || (t->mech == SPF_M_IP6 && t->net.family != 6))
			abort();
	}
	if ((r->redirect && !spf_domain_spec_valid(r->redirect)) || (r->exp && !spf_domain_spec_valid(r->exp)))
		abort();
	spf_record_free(&r);
	if (r != NULL)
		abort();
}

static void check_macros(const char *s, unsigned opts)
{
	spf_ip ip;
	if (!spf_ip_parse(ips[opts & 3], &ip))
		abort();
	spf_macro_env env = {.sender = "user@fz.test", .local = "user", .sender_domain = "fz.test",
	                     .domain = "Sub.fz.test", .ip = &ip, .validated = opts & 4 ? "mx.fz.test" : NULL,
	                     .helo = "helo.fz.test", .receiver = "mx.yubin.test", .now = 1700000000};
	bool spec = spf_domain_spec_valid(s), plain = spf_macro_valid(s, false), expl = spf_macro_valid(s, true);
	if ((spec && !plain) || (plain && !expl))
		abort();
	if (spf_macro_uses_p(s) && strstr(s, "%{p") == NULL && strstr(s, "%{P") == NULL)
		abort();
	for (int explain = 0; explain < 2; explain++) {
		char *e = spf_macro_expand(&env, s, explain);
		if (e != NULL && (!(explain ? expl : plain) || strlen(e) > MACRO_BOUND))
			abort();
		free(e);
	}
	if (spec) {
		char *name = spf_expand_domain(&env, s);
		if (name != NULL) {
			size_t n = strlen(name);
			if (!spf_name_usable(name, false) || n > 253 || (n > 0 && name[n - 1] == '.'))
				abort();
		}
		free(name);
	}
}

/* ---- check_host against the zone in the input */

typedef struct fake {
	const char *text;        /* the zone: lines of the input */
	size_t len;
	bool later;
	int cancel_after;        /* later: cancel after this many answers (0: never) */
	int queries;
	dns_callback *held_cb;
	void *held_arg;
	char *held_name;
	int held_type;
	int done;
} fake;

static int line_type(char c)
{
	switch (c) {
	case 'T': case 'X': case 'F': return DNS_TYPE_TXT;
	case 'A': return DNS_TYPE_A;
	case '6': return DNS_TYPE_AAAA;
	case 'M': return DNS_TYPE_MX;
	case 'P': return DNS_TYPE_PTR;
	default: return -1;
	}
}

/* Values are copied with their length: TXT values may hold NUL bytes,
 * and then only lens tells where they end. */
static void add_value(dns_answer *a, const char *v, size_t n, bool txt)
{
	char *copy = xmalloc(n + 1);
	memcpy(copy, v, n);
	copy[n] = '\0';
	if (txt) {
		a->lens = xrealloc(a->lens, (a->values.n + 1) * sizeof(size_t));
		a->lens[a->values.n] = n;
	}
	strlist_add_owned(&a->values, copy);
}

static void fake_answer(const fake *f, const char *name, int type, dns_callback *cb, void *arg)
{
	dns_answer a = {.status = DNS_NXDOMAIN};
	strlist_init(&a.values);
	size_t nlen = strlen(name);
	for (const char *p = f->text, *end = f->text + f->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *line = p;
		p = nl ? nl + 1 : end;
		const char *sp = memchr(line, ' ', (size_t)(e - line));
		if (sp == NULL || (size_t)(sp - line) != nlen || !str_ascii_nieq(line, name, nlen) || e - sp < 2)
			continue;
		if (a.status == DNS_NXDOMAIN)
			a.status = DNS_NODATA;
		char kind = sp[1];
		if (line_type(kind) != type || a.status == DNS_TEMPFAIL)
			continue;
		const char *v = sp + 2 + (sp + 2 < e && sp[2] == ' ');
		if (kind == 'F') {
			a.status = DNS_TEMPFAIL;
		} else if (kind == 'X') {
			a.status = DNS_OK;
			add_value(&a, v, (size_t)(f->text + f->len - v), true);
			break;
		} else if (a.values.n < 12) {
			a.status = DNS_OK;
			add_value(&a, v, (size_t)(e - v), type == DNS_TYPE_TXT);
		}
	}
	if (a.status == DNS_TEMPFAIL) {
		strlist_free(&a.values);
		strlist_init(&a.values);
		free(a.lens);
		a.lens = NULL;
	}
	cb(arg, &a);
	strlist_free(&a.values);
	free(a.lens);
}

static void fake_lookup(void *ctx, const char *name, int rrtype, dns_callback *cb, void *arg)
{
	fake *f = ctx;
	if (++f->queries > SPF_MAX_QUERIES || f->done || f->held_cb != NULL)
		abort();
	if (!f->later) {
		fake_answer(f, name, rrtype, cb, arg);
		return;
	}
	f->held_cb = cb;
	f->held_arg = arg;
	f->held_name = xstrdup(name);
	f->held_type = rrtype;
}

static void on_done(void *arg, const spf_outcome *o)
{
	fake *f = arg;
	if (f->done++ != 0 || o->result > SPF_PERMERROR)
		abort();
	bool matched = o->result == SPF_PASS || o->result == SPF_FAIL || o->result == SPF_SOFTFAIL;
	if (matched && (o->mechanism == NULL || o->domain == NULL))
		abort();
	if ((o->result == SPF_FAIL) != (o->explanation != NULL))
		abort();
	if ((o->result == SPF_TEMPERROR || o->result == SPF_PERMERROR || o->result == SPF_NONE) && o->problem == NULL)
		abort();
	if (strlen(spf_result_name(o->result)) == 0)
		abort();
}

static void check_host(const char *s, size_t n, unsigned opts)
{
	fake f = {.text = s, .len = n, .later = (opts & 0x20) != 0, .cancel_after = (int)((opts >> 6) & 3)};
	spf_request req = {.ip = ips[opts & 3], .domain = domains[(opts >> 2) & 3],
	                   .sender = senders[(opts >> 3) & 3], .helo = opts & 16 ? "helo.fz.test" : NULL,
	                   .receiver = "mx.yubin.test", .lookup = fake_lookup, .lookup_ctx = &f};
	spf_check *c = spf_check_host(&req, on_done, &f);
	if ((c == NULL) != (f.done == 1) || (!f.later && c != NULL))
		abort();
	int answers = 0;
	while (f.held_cb != NULL) {
		dns_callback *cb = f.held_cb;
		char *name = f.held_name;
		f.held_cb = NULL;
		f.held_name = NULL;
		if (f.cancel_after != 0 && ++answers == f.cancel_after) {
			spf_check_cancel(&c);
			if (c != NULL)
				abort();
		}
		fake_answer(&f, name, f.held_type, cb, f.held_arg);
		free(name);
		if (c != NULL && f.done == 1)
			c = NULL;   /* the answer finished it: the handle is gone */
	}
	if (f.done != (f.cancel_after != 0 && answers >= f.cancel_after ? 0 : 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opts = size > 0 ? data[0] : 0;
	const char *s = size > 0 ? (const char *)data + 1 : "";
	size_t n = size > 0 ? size - 1 : 0;
	char *copy = xstrndup(s, n);   /* up to a NUL byte: the C-string APIs */
	check_record(s, n);
	check_macros(copy, opts);
	check_host(s, n, opts);
	free(copy);
	return 0;
}
