/* dane.c — TLSA sets and OpenSSL's DANE verifier for outbound SMTP (see
 * dane.h).  Owns which TLSA records count as usable and how a verdict is
 * read; it must not look up DNS or decide about messages. */
#include "tls/dane.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/strutil.h"

#define TLSA_DATA_MAX 65535 /* an RDATA cannot be longer */

void dane_set_init(dane_set *s)
{
	memset(s, 0, sizeof(*s));
}

void dane_set_free(dane_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->recs[i].data);
	free(s->recs);
	dane_set_init(s);
}

/* "u s m hex" -> t (data allocated); false when malformed. */
static bool parse_one(const char *text, dane_tlsa *t)
{
	unsigned u, sel, m;
	int off = 0;
	if (sscanf(text, "%u %u %u %n", &u, &sel, &m, &off) != 3 || off == 0 || u > 255 || sel > 255 ||
	    m > 255)
		return false;
	const char *hex = text + off;
	size_t hl = strlen(hex);
	if (hl == 0 || hl % 2 != 0 || hl / 2 > TLSA_DATA_MAX)
		return false;
	t->data = xmalloc(hl / 2);
	for (size_t i = 0; i < hl / 2; i++) {
		int hi = str_hexval(hex[2 * i]), lo = str_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(t->data);
			t->data = NULL;
			return false;
		}
		t->data[i] = (unsigned char)(hi << 4 | lo);
	}
	t->usage = (uint8_t)u;
	t->selector = (uint8_t)sel;
	t->mtype = (uint8_t)m;
	t->len = hl / 2;
	return true;
}

/* RFC 7672 3.1.3: only DANE-TA and DANE-EE; RFC 6698 2.1.2-2.1.3 the
 * defined selectors and matching types, a digest of its own length. */
static bool usable(const dane_tlsa *t)
{
	if (t->usage != DANE_TA && t->usage != DANE_EE)
		return false;
	if (t->selector > 1)
		return false;
	switch (t->mtype) {
	case 0:
		return t->len > 0;
	case 1:
		return t->len == 32;
	case 2:
		return t->len == 64;
	default:
		return false;
	}
}

void dane_set_parse(dane_set *s, const strlist *rrs)
{
	for (size_t i = 0; i < rrs->n; i++) {
		s->total++;
		dane_tlsa t = {0};
		if (!parse_one(rrs->items[i], &t))
			continue;
		if (!usable(&t)) {
			free(t.data);
			continue;
		}
		s->recs = xrealloc(s->recs, sizeof(*s->recs) * (s->n + 1));
		s->recs[s->n++] = t;
	}
}

char *dane_tlsa_text(const dane_tlsa *t)
{
	size_t shown = t->len > 32 ? 32 : t->len;
	char *out = xmalloc(16 + 2 * shown + 4);
	int o = sprintf(out, "%u %u %u ", t->usage, t->selector, t->mtype);
	for (size_t i = 0; i < shown; i++)
		o += sprintf(out + o, "%02x", t->data[i]);
	if (shown < t->len)
		strcpy(out + o, "...");
	return out;
}

dane_pick dane_pick_base(bool chain_secure, dane_tlsa_state at_target, dane_tlsa_state at_orig)
{
	if (chain_secure) {
		/* the expanded name first: its answer, found or failed, decides;
		 * only a sure "none there" lets the original name speak */
		if (at_target == DANE_TLSA_FOUND)
			return DANE_PICK_TARGET;
		if (at_target == DANE_TLSA_FAILED)
			return DANE_PICK_FAILED_TARGET;
	}
	switch (at_orig) {
	case DANE_TLSA_FOUND:
		return DANE_PICK_ORIG;
	case DANE_TLSA_FAILED:
		return DANE_PICK_FAILED_ORIG;
	default:
		return DANE_PICK_NONE;
	}
}

void dane_ref_names(const char *orig, const char *target, bool chain_secure, dane_pick pick,
                    const char **base_r, const char **other_r)
{
	*base_r = orig;
	*other_r = NULL;
	if (!chain_secure || target == NULL || *target == '\0' || strcasecmp(orig, target) == 0)
		return;
	if (pick == DANE_PICK_TARGET) {
		*base_r = target;
		*other_r = orig;
	} else {
		*other_r = target;
	}
}

bool dane_ctx_enable(SSL_CTX *ctx)
{
	return SSL_CTX_dane_enable(ctx) > 0; /* a second call is a no-op */
}

bool dane_prepare(SSL *ssl, const dane_set *s, const char *base, const char *const *names,
                  size_t n_names)
{
	/* also makes base the first reference identifier (SSL_set1_host) */
	if (SSL_dane_enable(ssl, base) <= 0)
		return false;
	/* DANE-EE: the key is the identity; no name or date checks (RFC 7672
	 * 3.1.1; OpenSSL checks names for it unless told) */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < n_names; i++)
		if (names[i] != NULL && *names[i] != '\0' && strcasecmp(names[i], base) != 0 &&
		    SSL_add1_host(ssl, names[i]) != 1)
			return false;
	/* a record OpenSSL cannot use either (0, e.g. a digest it lacks) is
	 * skipped, as RFC 7672 3.1.3 asks; with none left, authentication
	 * cannot succeed and dane_check says so */
	for (size_t i = 0; i < s->n; i++) {
		const dane_tlsa *t = &s->recs[i];
		(void)SSL_dane_tlsa_add(ssl, t->usage, t->selector, t->mtype, t->data, t->len);
	}
	return true;
}

dane_verdict dane_check(SSL *ssl)
{
	dane_verdict v = {.ok = false, .usage = -1, .depth = -1, .why = NULL};
	long vr = SSL_get_verify_result(ssl);
	int depth = SSL_get0_dane_authority(ssl, NULL, NULL);
	if (SSL_get0_peer_certificate(ssl) == NULL) {
		v.why = "no server certificate";
		return v;
	}
	if (vr != X509_V_OK) {
		v.why = vr == X509_V_ERR_DANE_NO_MATCH ? "no matching TLSA record"
		                                       : X509_verify_cert_error_string(vr);
		return v;
	}
	if (depth < 0) {
		v.why = "no usable TLSA record";
		return v;
	}
	uint8_t usage = 0, sel = 0, mt = 0;
	const unsigned char *data = NULL;
	size_t len = 0;
	if (SSL_get0_dane_tlsa(ssl, &usage, &sel, &mt, &data, &len) < 0) {
		v.why = "no matching TLSA record";
		return v;
	}
	v.ok = true;
	v.usage = usage;
	v.depth = depth;
	return v;
}
