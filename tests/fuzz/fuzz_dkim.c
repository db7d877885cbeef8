/* fuzz_dkim.c — libFuzzer target for the DKIM parsers and the verifier's
 * synchronous part.  The input is, at once: a tag-list, a DKIM-Signature
 * value, a key record, one header field, a body (both canonicalizations)
 * and a whole message.  Invariants checked (abort() when one breaks):
 *  - tags: every name and value lies in the input, in order, names are
 *    ALPHA *(ALPHA/DIGIT/"_"), values carry no blanks at their ends, no
 *    name twice, dkim_tags_get finds each tag;
 *  - a DKIM-Signature that parses OK has a valid d= and s= when the
 *    verifier would look them up, a 32-byte bh= when it matches;
 *  - canonical bodies end in CRLF, keep no trailing empty line, are no
 *    longer than the input plus one byte per LF plus 2, and both
 *    canonicalizations are idempotent; relaxed leaves no tab, no double
 *    blank and no blank before a line end;
 *  - canonical header fields end in CRLF and are idempotent;
 *  - dkim_body_hash agrees with hashing the canonical body ourselves, and
 *    l= cuts the hash at the right byte; dkim_sig_without_b only removes;
 *  - dkim_verify_start calls done exactly once, with at most
 *    DKIM_MAX_SIGNATURES verdicts, whether the fake look-up answers at
 *    once, later, or the check is cancelled (leaks are ASan's to find).
 * The first byte picks the fake key record and how it answers. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "msgauth/dkimcanon.h"
#include "msgauth/dkimhash.h"
#include "msgauth/dkimtags.h"
#include "msgauth/dkimverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed key records the fake DNS answers with (NULL: NODATA). */
static const char *const key_records[] = {
	"v=DKIM1; k=ed25519; p=s/LQepqZLOWt+jjybv5IfEMxrEXq3ue4DO/8EVT+/bQ=",
	"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCaVwp3Vjf5P/lE1s9q0B4QmM1tNdhUBA6L2rFC"
	"wLeO+qs5GVBlA8vD/kOlL6hPn266nZu8GeRL0CwRg+8EECmSGB6a0Z9VHGcYhbbQLdG86Sv0mF5v1OdgN7msr7EnN9om"
	"G1JHew1vIqznE9TdkC5vXmTGu+rKEgAtOIH7vQ3GnQIDAQAB",
	"v=DKIM1; p=",
	"k=rsa; t=s; h=sha1; p=QUJD",
	NULL,
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_tags(const char *s, size_t n)
{
	dkim_taglist l;
	char *err = NULL;
	if (!dkim_tags_parse(s, n, &l, &err)) {
		if (err == NULL || l.n != 0 || l.tags != NULL)
			abort();
		free(err);
		return;
	}
	const char *prev = s;
	for (size_t i = 0; i < l.n; i++) {
		const dkim_tag *t = &l.tags[i];
		if (t->name < prev || t->name + t->name_len > t->value || t->value + t->value_len > s + n)
			abort();
		prev = t->value + t->value_len;
		if (t->name_len == 0 || !((t->name[0] | 32) >= 'a' && (t->name[0] | 32) <= 'z'))
			abort();
		if (t->value_len > 0 && (is_blank(t->value[0]) || is_blank(t->value[t->value_len - 1])))
			abort();
		char *name = xstrndup(t->name, t->name_len);
		if (dkim_tags_get(&l, name) != t)
			abort();
		free(name);
		char *c = dkim_tag_compact(t);
		if (strlen(c) > t->value_len)
			abort();
		free(c);
	}
	dkim_tags_free(&l);
}

static void check_sig(const char *s, size_t n)
{
	dkim_sig sig;
	char *err = NULL;
	dkim_sig_status st = dkim_sig_parse(s, n, &sig, &err);
	if ((st == DKIM_SIG_OK) != (err == NULL))
		abort();
	if (st == DKIM_SIG_OK && (sig.domain == NULL || sig.selector == NULL || sig.b == NULL || sig.bh == NULL))
		abort();
	free(err);
	dkim_sig_free(&sig);
}

static void check_keyrec(const char *s)
{
	dkim_keyrec k;
	char *err = NULL;
	if (dkim_keyrec_parse(s, &k, &err)) {
		if (err != NULL || (k.key == NULL) != (k.key_len == 0))
			abort();
		dkim_keyrec_free(&k);
	} else {
		if (err == NULL)
			abort();
		free(err);
	}
}

/* ---- canonicalization */

static void sink_buf(void *arg, const char *d, size_t n)
{
	if (!buf_append(arg, d, n))
		abort();
}

static void canon_body(const char *s, size_t n, dkim_canon c, buf *out)
{
	buf_init(out, SIZE_MAX / 2);
	dkim_canon_body(s, n, c, sink_buf, out);
}

static void check_body(const char *s, size_t n, dkim_canon c)
{
	size_t lfs = 0;
	for (size_t i = 0; i < n; i++)
		lfs += s[i] == '\n';
	buf out, again;
	canon_body(s, n, c, &out);
	const char *o = out.data;
	if (out.len > n + lfs + 2)
		abort();
	if (out.len > 0 && (out.len < 2 || memcmp(o + out.len - 2, "\r\n", 2) != 0))
		abort();
	/* no trailing empty line; simple's lone CRLF for an empty body aside */
	if (out.len >= 4 && memcmp(o + out.len - 4, "\r\n\r\n", 4) == 0)
		abort();
	if (c == DKIM_CANON_SIMPLE && out.len == 0)
		abort();
	if (c == DKIM_CANON_RELAXED) {
		for (size_t i = 0; i < out.len; i++)
			if (o[i] == '\t' || (o[i] == ' ' && i + 1 < out.len && (o[i + 1] == ' ' ||
			    (o[i + 1] == '\r' && i + 2 < out.len && o[i + 2] == '\n'))))
				abort();
	}
	canon_body(out.data ? out.data : "", out.len, c, &again);
	if (again.len != out.len || (out.len > 0 && memcmp(again.data, out.data, out.len) != 0))
		abort();
	buf_free(&again);
	buf_free(&out);
}

static void check_header(const char *s, size_t n, dkim_canon c)
{
	buf out, again;
	buf_init(&out, SIZE_MAX / 2);
	buf_init(&again, SIZE_MAX / 2);
	if (!dkim_canon_header(&out, s, n, c))
		abort();
	if (out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0 || out.len > 2 * n + 3)
		abort();
	if (!dkim_canon_header(&again, out.data, out.len - 2, c))
		abort();
	if (again.len != out.len || memcmp(again.data, out.data, out.len) != 0)
		abort();
	/* a full buffer is refused, never overrun */
	buf small;
	buf_init(&small, out.len - 1);
	if (dkim_canon_header(&small, s, n, c))
		abort();
	buf_free(&small);
	buf_free(&again);
	buf_free(&out);
}

/* ---- hashes */

static void check_hashes(const char *s, size_t n, unsigned opts)
{
	dkim_msg m;
	dkim_msg_parse(&m, s, n);
	if (m.body > n)
		abort();
	for (dkim_canon c = DKIM_CANON_SIMPLE; c <= DKIM_CANON_RELAXED; c++) {
		buf body;
		canon_body(s + m.body, n - m.body, c, &body);
		unsigned char want[DKIM_HASH_LEN], got[DKIM_HASH_LEN], cut[DKIM_HASH_LEN];
		uint64_t len;
		EVP_Digest(body.data ? body.data : "", body.len, want, NULL, EVP_sha256(), NULL);
		dkim_body_hash(&m, c, -1, got, &len);
		if (len != body.len || memcmp(want, got, DKIM_HASH_LEN) != 0)
			abort();
		size_t limit = body.len ? opts % (body.len + 1) : 0;
		EVP_Digest(body.data ? body.data : "", limit, want, NULL, EVP_sha256(), NULL);
		dkim_body_hash(&m, c, (int64_t)limit, cut, &len);
		if (len != body.len || memcmp(want, cut, DKIM_HASH_LEN) != 0)
			abort();
		buf_free(&body);
	}
	strlist h;
	strlist_init(&h);
	strlist_add(&h, "from");
	strlist_add(&h, "Subject");
	strlist_add(&h, "from");
	strlist_add(&h, "DKIM-Signature");
	for (size_t i = 0; i < m.n_fields; i++) {
		const mime_field *f = &m.fields[i];
		if (f->start > f->value_end || f->value_end > f->end || f->end > m.body)
			abort();
		if (!mime_field_is(s, f, "DKIM-Signature"))
			continue;
		size_t len, flen = dkim_msg_field_len(&m, f);
		char *t = dkim_sig_without_b(&m, f, &len);
		if (len > flen || strlen(t) > len || memcmp(t, s + f->start, len < 4 ? len : 4) != 0)
			abort();
		unsigned char out[DKIM_HASH_LEN];
		dkim_header_hash(&m, opts & 1 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE, &h, t, len, out);
		free(t);
	}
	strlist_free(&h);
	dkim_msg_free(&m);
}

/* ---- the verifier with a fake DNS */

typedef struct fake {
	const char *record;      /* NULL: NODATA */
	dns_status status;
	bool later;              /* hold the questions, answer after start */
	size_t cancel_after;     /* later: cancel after this many answers (0: never) */
	dns_callback *cb[DKIM_MAX_SIGNATURES];
	void *arg[DKIM_MAX_SIGNATURES];
	size_t held, asked;
	int done;
} fake;

static void answer(const fake *f, dns_callback *cb, void *arg)
{
	dns_answer a = {.status = f->record ? f->status : DNS_NODATA};
	strlist_init(&a.values);
	if (f->record != NULL && f->status == DNS_OK)
		strlist_add(&a.values, f->record);
	cb(arg, &a);
	strlist_free(&a.values);
}

static void fake_lookup(void *ctx, const char *name, int rrtype, dns_callback *cb, void *arg)
{
	fake *f = ctx;
	if (rrtype != DNS_TYPE_TXT || strstr(name, "._domainkey.") == NULL || f->asked++ >= DKIM_MAX_SIGNATURES)
		abort();
	if (!f->later) {
		answer(f, cb, arg);
		return;
	}
	f->cb[f->held] = cb;
	f->arg[f->held++] = arg;
}

static void on_done(void *arg, const dkim_verdict *v, size_t n)
{
	fake *f = arg;
	if (f->done++ != 0 || n > DKIM_MAX_SIGNATURES)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((v[i].result == DKIM_PASS) != (v[i].reason == NULL) || v[i].result > DKIM_TEMPERROR)
			abort();
}

static void check_verify(const char *s, size_t n, unsigned opts)
{
	static const dns_status statuses[] = {DNS_OK, DNS_OK, DNS_TEMPFAIL, DNS_NXDOMAIN};
	size_t nrec = sizeof key_records / sizeof key_records[0];
	fake f = {.record = key_records[opts % nrec], .status = statuses[(opts >> 3) & 3],
	          .later = (opts & 0x20) != 0, .cancel_after = (opts >> 6) & 3};
	/* a time inside most t= and x= values the fuzzer will write */
	dkim_verifier *v = dkim_verify_start(s, n, 1700000000, fake_lookup, &f, on_done, &f);
	if ((v == NULL) != (f.done == 1) || f.done > 1 || (!f.later && v != NULL))
		abort();
	bool cancelled = false;
	for (size_t i = 0; i < f.held; i++) {
		if (f.cancel_after != 0 && i + 1 == f.cancel_after) {
			dkim_verify_cancel(&v);
			if (v != NULL)
				abort();
			cancelled = true;
		}
		answer(&f, f.cb[i], f.arg[i]);
	}
	if (f.done != (cancelled ? 0 : 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opts = size > 0 ? data[0] : 0;
	const char *s = size > 0 ? (const char *)data + 1 : "";
	size_t n = size > 0 ? size - 1 : 0;
	char *copy = xstrndup(s, n);   /* NUL-terminated, for the C-string APIs */
	check_tags(s, n);
	check_sig(s, n);
	check_keyrec(copy);
	for (dkim_canon c = DKIM_CANON_SIMPLE; c <= DKIM_CANON_RELAXED; c++) {
		check_body(s, n, c);
		check_header(s, n, c);
	}
	check_hashes(s, n, opts);
	check_verify(s, n, opts);
	free(copy);
	return 0;
}
