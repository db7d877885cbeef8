/* fuzz_dmarc.c — libFuzzer target for DMARC: the policy record parser,
 * the From domain of a message, the organizational domain and alignment,
 * and the evaluation with a fake DNS that answers with the input as the
 * record.  Invariants checked (abort() when one breaks):
 *  - a record is OK, NOT_DMARC or INVALID; OK has pct in 0..100, known
 *    policies, fo= and rf= set, and an assumed p= only as p=none with a
 *    rua=; INVALID says why; NOT_DMARC touches nothing;
 *  - an OK From domain is a lower-case name dkim_name_valid accepts, and
 *    any other status has a sentence;
 *  - an organizational domain is lower case, the domain itself or a
 *    label-aligned suffix of it, and its own organizational domain;
 *    alignment is reflexive, symmetric, and strict implies relaxed;
 *  - dmarc_check_start calls done exactly once; pass means an aligned
 *    identifier, and only fail or an unusable From has a disposition.
 * Input: one option byte, then the record / message / names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"
#include "msgauth/dkimtags.h"
#include "msgauth/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAMES 4

static const dmarc_psl *psl(void)
{
	static dmarc_psl *p;
	if (p == NULL) {
		char *err = NULL;
		p = dmarc_psl_open(&err);
		if (p == NULL)
			abort();   /* the fuzzer needs the list: install publicsuffix */
	}
	return p;
}

static bool has_upper(const char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return true;
	return false;
}

static void check_record(const char *s, size_t n)
{
	dmarc_record r;
	char *why = NULL;
	dmarc_record_status st = dmarc_record_parse(s, n, &r, &why);
	if (st == DMARC_RECORD_OK) {
		if (why != NULL || r.pct < 0 || r.pct > 100 || r.p > DMARC_POLICY_REJECT || r.sp > DMARC_POLICY_REJECT)
			abort();
		if (r.fo == NULL || r.rf == NULL || (r.p_assumed && (r.p != DMARC_POLICY_NONE || r.rua == NULL)))
			abort();
		dmarc_record_free(&r);
	} else if (st == DMARC_RECORD_INVALID) {
		if (why == NULL)
			abort();
		free(why);
	} else if (st != DMARC_RECORD_NOT_DMARC || why != NULL) {
		abort();
	}
}

/* The domain lower-cased without trailing dots ("." alone stays). */
static char *norm(const char *d)
{
	char *s = xstrdup(d);
	str_ascii_lower(s);
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '.')
		s[--n] = '\0';
	return s;
}

static void check_org(const char *d)
{
	const dmarc_psl *p = psl();
	char *org = dmarc_org_domain(p, d), *nd = norm(d);
	size_t no = strlen(org), nn = strlen(nd);
	if (has_upper(org) || no > nn || strcmp(nd + nn - no, org) != 0 || (no < nn && nd[nn - no - 1] != '.'))
		abort();
	char *again = dmarc_org_domain(p, org);
	if (strcmp(again, org) != 0)
		abort();
	if (!dmarc_aligned(p, d, d, true) || !dmarc_aligned(p, d, d, false) || !dmarc_aligned(p, d, org, false))
		abort();
	if (dmarc_aligned(p, d, NULL, false) || dmarc_aligned(p, NULL, d, true))
		abort();
	free(again);
	free(nd);
	free(org);
}

static void check_pair(const char *a, const char *b)
{
	const dmarc_psl *p = psl();
	bool strict = dmarc_aligned(p, a, b, true), relaxed = dmarc_aligned(p, a, b, false);
	if (strict != dmarc_aligned(p, b, a, true) || relaxed != dmarc_aligned(p, b, a, false) || (strict && !relaxed))
		abort();
}

/* ---- the evaluation, with the input as every TXT record */

typedef struct fake {
	const char *record;
	size_t len;
	unsigned opts;
	int queries, done;
} fake;

static void fake_lookup(void *ctx, const char *name, int rrtype, dns_callback *cb, void *arg)
{
	fake *f = ctx;
	if (rrtype != DNS_TYPE_TXT || strncmp(name, "_dmarc.", 7) != 0 || ++f->queries > 2)
		abort();
	/* the option byte says which of the two names has the record */
	unsigned bits = (f->opts >> (f->queries == 1 ? 4 : 6)) & 3;
	static const dns_status statuses[] = {DNS_OK, DNS_NXDOMAIN, DNS_NODATA, DNS_TEMPFAIL};
	dns_answer a = {.status = statuses[bits]};
	strlist_init(&a.values);
	size_t len = f->len;
	if (a.status == DNS_OK) {
		char *v = xmalloc(len + 1);
		memcpy(v, f->record, len);
		v[len] = '\0';
		strlist_add_owned(&a.values, v);
		if (f->opts & 8)
			strlist_add(&a.values, "v=DMARC1; p=none");   /* two records: permerror */
		a.lens = xcalloc(a.values.n, sizeof(size_t));
		a.lens[0] = len;
		if (a.values.n > 1)
			a.lens[1] = strlen(a.values.items[1]);
	}
	cb(arg, &a);
	strlist_free(&a.values);
	free(a.lens);
}

static int draw(void *ctx)
{
	return (int)(((fake *)ctx)->opts % 100);
}

static void on_done(void *arg, const dmarc_outcome *o)
{
	fake *f = arg;
	if (f->done++ != 0 || o->result > DMARC_PERMERROR || o->policy > DMARC_POLICY_REJECT)
		abort();
	if ((o->result == DMARC_PASS) != (o->spf_aligned || o->dkim_aligned))
		abort();
	if (o->disposition != DMARC_POLICY_NONE && o->result != DMARC_FAIL && o->result != DMARC_PERMERROR)
		abort();
	if (o->dkim_aligned && o->dkim_domain == NULL)
		abort();
	if (strlen(dmarc_result_name(o->result)) == 0)
		abort();
}

static void check_eval(dmarc_from_status fs, const char *from, const char *s, size_t n, char **names,
		       size_t n_names, unsigned opts)
{
	dkim_verdict v[MAX_NAMES] = {{0}};
	for (size_t i = 0; i < n_names; i++)
		v[i] = (dkim_verdict){.result = (dkim_result)((opts + i) % 5), .domain = names[i]};
	fake f = {.record = s, .len = n, .opts = opts};
	dmarc_request req = {.from_status = fs, .from_domain = from, .spf = (spf_result)(opts % 7),
	                     .spf_domain = n_names > 0 ? names[n_names - 1] : NULL, .dkim = v,
	                     .n_dkim = n_names, .psl = psl(), .lookup = fake_lookup, .lookup_ctx = &f,
	                     .draw = draw, .draw_ctx = &f};
	if (dmarc_check_start(&req, on_done, &f) != NULL || f.done != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opts = size > 0 ? data[0] : 0;
	const char *s = size > 0 ? (const char *)data + 1 : "";
	size_t n = size > 0 ? size - 1 : 0;
	check_record(s, n);

	char *from = NULL;
	dmarc_from_status fs = dmarc_from_domain(s, n, &from);
	if (fs == DMARC_FROM_OK ? from == NULL || has_upper(from) || !dkim_name_valid(from)
	                        : from != NULL || dmarc_from_problem(fs) == NULL)
		abort();

	/* names: the From domain, then the input's first lines */
	char *names[MAX_NAMES];
	size_t n_names = 0;
	if (from != NULL)
		names[n_names++] = xstrdup(from);
	for (const char *p = s, *end = s + n; p < end && n_names < MAX_NAMES;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (e - p < 300)
			names[n_names++] = xstrndup(p, (size_t)(e - p));   /* stops at a NUL */
		p = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < n_names; i++) {
		check_org(names[i]);
		for (size_t j = i + 1; j < n_names; j++)
			check_pair(names[i], names[j]);
	}
	check_eval(fs, from, s, n, names, n_names, opts);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(from);
	return 0;
}
