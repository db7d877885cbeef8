/* dkimverify.c — the DKIM verifier (see dkimverify.h): hashes first, for
 * every signature, while the message is at hand; then one key look-up per
 * signature; the verdict when its answer comes.  Must not do DNS itself or
 * decide what a result means for the message (DMARC, policy). */
#include "msgauth/dkimverify.h"

#include <stdlib.h>
#include <string.h>

#include "msgauth/dkimcrypto.h"
#include "msgauth/dkimhash.h"
#include "msgauth/dkimtags.h"

typedef struct sig_check {
	dkim_verifier *v;
	dkim_verdict *verdict;
	dkim_sig sig;
	bool bh_ok;
	unsigned char hash[DKIM_HASH_LEN];
} sig_check;

struct dkim_verifier {
	dkim_verdict verdicts[DKIM_MAX_SIGNATURES];
	sig_check checks[DKIM_MAX_SIGNATURES];
	size_t n;
	size_t outstanding;   /* look-ups in flight, plus one while starting */
	bool cancelled;
	dkim_verify_done *done;
	void *done_arg;
};

const char *dkim_result_name(dkim_result r)
{
	static const char *const names[] = {"pass", "fail", "neutral", "permerror", "temperror"};
	return names[r];
}

static void judge(dkim_verdict *v, dkim_result r, char *reason)
{
	v->result = r;
	free(v->reason);
	v->reason = reason;
}

static void finish(dkim_verifier *v)
{
	if (!v->cancelled)
		v->done(v->done_arg, v->verdicts, v->n);
	for (size_t i = 0; i < v->n; i++) {
		dkim_verdict *d = &v->verdicts[i];
		free(d->reason);
		free(d->domain);
		free(d->selector);
		free(d->algorithm);
		free(d->b_prefix);
		dkim_sig_free(&v->checks[i].sig);
	}
	free(v);
}

static void release(dkim_verifier *v)
{
	if (--v->outstanding == 0)
		finish(v);
}

/* The key record's restrictions, in RFC 6376 3.6.1 order; NULL when the
 * key may check this signature. */
static const char *key_refusal(const dkim_keyrec *k, const dkim_sig *s)
{
	bool ed = s->alg == DKIM_ALG_ED25519_SHA256;
	if (k->key == NULL)
		return "key revoked";
	if (!k->sha256_ok)
		return "bad key: h= does not allow sha256";
	if (!k->email_ok)
		return "bad key: s= is not for email";
	if (k->type != (ed ? DKIM_KEY_ED25519 : DKIM_KEY_RSA))
		return "bad key: k= does not match a=";
	if (k->strict && s->identity != NULL) {
		const char *at = strrchr(s->identity, '@');
		if (!str_ascii_ieq(at ? at + 1 : s->identity, s->domain))
			return "bad key: t=s forbids an i= in a subdomain of d=";
	}
	return NULL;
}

/* With a parsed key record: the verdict. */
static void check_with_key(sig_check *c, const dkim_keyrec *k)
{
	c->verdict->testing = k->testing;
	const char *why = key_refusal(k, &c->sig);
	EVP_PKEY *pkey = why ? NULL : dkim_crypto_public_key(k->type, k->key, k->key_len, &why);
	if (why == NULL && !c->bh_ok)
		why = "body hash mismatch";
	if (why == NULL && !dkim_crypto_verify(pkey, c->sig.alg, c->hash, c->sig.b, c->sig.b_len))
		why = "signature mismatch";
	if (why == NULL)
		judge(c->verdict, DKIM_PASS, NULL);
	else
		judge(c->verdict, DKIM_FAIL, xstrdup(why));
	EVP_PKEY_free(pkey);
}

static void on_key(void *arg, const dns_answer *ans)
{
	sig_check *c = arg;
	if (c->v->cancelled) {
		release(c->v);
		return;
	}
	dkim_keyrec k;
	char *err = NULL;
	if (ans->status == DNS_TEMPFAIL)
		judge(c->verdict, DKIM_TEMPERROR, xstrdup("key look-up failed for now"));
	else if (ans->status != DNS_OK || ans->values.n == 0)
		judge(c->verdict, DKIM_PERMERROR, xstrdup("no key record"));
	else if (!dkim_keyrec_parse(ans->values.items[0], &k, &err))
		judge(c->verdict, DKIM_PERMERROR, xasprintf("bad key record: %s", err));
	else {
		check_with_key(c, &k);
		dkim_keyrec_free(&k);
	}
	free(err);
	release(c->v);
}

static const dkim_result parse_results[] = {
	[DKIM_SIG_SYNTAX] = DKIM_PERMERROR,
	[DKIM_SIG_UNSUPPORTED] = DKIM_NEUTRAL,
	[DKIM_SIG_WEAK] = DKIM_FAIL,
};

static bool hash(sig_check *c, const dkim_msg *m, const mime_field *f);

/* More than one From field (RFC 5322 3.6 allows one): a signature that
 * does not over-sign From would still pass with a From added above the
 * signed one, and readers show the top one (RFC 6376 8.15). */
static bool several_froms(const dkim_msg *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_fields; i++)
		n += mime_field_is(m->data, &m->fields[i], "From");
	return n > 1;
}

/* Parse the field and check what needs no key; true when a look-up
 * should follow. */
static bool prepare(sig_check *c, const dkim_msg *m, const mime_field *f, time_t now)
{
	dkim_sig *s = &c->sig;
	dkim_verdict *d = c->verdict;
	char *err = NULL;
	dkim_sig_status st = dkim_sig_parse(m->data + f->value_start, f->value_end - f->value_start, s, &err);
	d->domain = s->domain ? xstrdup(s->domain) : NULL;
	d->selector = s->selector ? xstrdup(s->selector) : NULL;
	d->algorithm = s->alg_name ? xstrdup(s->alg_name) : NULL;
	d->b_prefix = s->b64 ? xstrndup(s->b64, 8) : NULL;
	if (st != DKIM_SIG_OK) {
		judge(d, parse_results[st], err);
		return false;
	}
	if (!dkim_name_valid(s->domain) || !dkim_name_valid(s->selector))
		judge(d, DKIM_PERMERROR, xstrdup("d= or s= is not a domain name"));
	else if (s->timestamp > (int64_t)now + DKIM_CLOCK_SKEW)
		judge(d, DKIM_FAIL, xstrdup("signature timestamp in the future"));
	else if (s->expire >= 0 && s->expire < (int64_t)now)
		judge(d, DKIM_FAIL, xstrdup("signature expired"));
	else if (several_froms(m))
		judge(d, DKIM_FAIL, xstrdup("more than one From field"));
	else
		return hash(c, m, f);
	return false;
}

/* The body hash (compared with bh=) and the header hash; false when l=
 * asks for more than there is. */
static bool hash(sig_check *c, const dkim_msg *m, const mime_field *f)
{
	dkim_sig *s = &c->sig;
	unsigned char bh[DKIM_HASH_LEN];
	uint64_t canon_len;
	dkim_body_hash(m, s->bcanon, s->length, bh, &canon_len);
	if (s->length >= 0 && (uint64_t)s->length > canon_len) {
		judge(c->verdict, DKIM_FAIL, xstrdup("l= is longer than the body"));
		return false;
	}
	c->bh_ok = s->bh_len == DKIM_HASH_LEN && memcmp(bh, s->bh, DKIM_HASH_LEN) == 0;
	size_t sig_len;
	char *sig_text = dkim_sig_without_b(m, f, &sig_len);
	dkim_header_hash(m, s->hcanon, &s->headers, sig_text, sig_len, c->hash);
	free(sig_text);
	return true;
}

dkim_verifier *dkim_verify_start(const char *msg, size_t len, time_t now, dkim_lookup_fn *lookup,
				 void *lookup_ctx, dkim_verify_done *done, void *done_arg)
{
	dkim_verifier *v = xcalloc(1, sizeof(*v));
	v->done = done;
	v->done_arg = done_arg;
	v->outstanding = 1;
	dkim_msg m;
	dkim_msg_parse(&m, msg, len);
	for (size_t i = 0; i < m.n_fields && v->n < DKIM_MAX_SIGNATURES; i++) {
		if (!mime_field_is(msg, &m.fields[i], "DKIM-Signature"))
			continue;
		sig_check *c = &v->checks[v->n];
		*c = (sig_check){.v = v, .verdict = &v->verdicts[v->n++]};
		if (!prepare(c, &m, &m.fields[i], now))
			continue;
		judge(c->verdict, DKIM_TEMPERROR, xstrdup("no answer"));
		char *name = xasprintf("%s._domainkey.%s", c->sig.selector, c->sig.domain);
		v->outstanding++;
		lookup(lookup_ctx, name, DNS_TYPE_TXT, on_key, c);
		free(name);
	}
	dkim_msg_free(&m);
	bool last = v->outstanding == 1;
	release(v);
	return last ? NULL : v;
}

void dkim_verify_cancel(dkim_verifier **v)
{
	if (*v != NULL)
		(*v)->cancelled = true;
	*v = NULL;
}
