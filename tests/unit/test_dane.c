/* test_dane.c — unit tests for tls/dane.c: which TLSA records a set keeps
 * (RFC 7672 3.1.3, RFC 6698 2.1), and the verdict of real TLS handshakes
 * over a socket pair, one OpenSSL server and one client set up by
 * dane_prepare: DANE-EE by key and by certificate (name and validity not
 * checked), DANE-TA with and without the anchor in the server's chain, and
 * the reference identifiers (the TLSA base domain and a second name), and
 * which TLSA RRset and names an alias (a CNAME chain) gets.  The
 * keys and certificates are made here, in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/dane.h"

#define MX "mx.dane.test"
#define NEXTHOP "dane.test"
#define DAY (24L * 3600)

/* ---- a small PKI ---- */

static long serial = 1;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for cn (leaf: with cn as its DNS name) or a CA, signed by
 * issuer (NULL: itself), valid from `from` to `to` seconds from now. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       long from, long to)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509 *signer = issuer ? issuer : x;
	if (ca) {
		add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		char san[300];
		snprintf(san, sizeof san, "DNS:%s", cn);
		add_ext(x, signer, NID_basic_constraints, "CA:FALSE");
		add_ext(x, signer, NID_subject_alt_name, san);
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

/* The TLSA text of cert for usage u, selector s, matching type m. */
static char *tlsa_of(X509 *x, int u, int s, int m)
{
	unsigned char *der = NULL;
	int len = s == 1 ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : i2d_X509(x, &der);
	assert_true(len > 0);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	const unsigned char *data = der;
	size_t dlen = (size_t)len;
	if (m > 0) {
		assert_int_equal(EVP_Digest(der, (size_t)len, md, &mlen, m == 1 ? EVP_sha256() : EVP_sha512(), NULL), 1);
		data = md;
		dlen = mlen;
	}
	char *out = xmalloc(16 + 2 * dlen);
	int o = sprintf(out, "%d %d %d ", u, s, m);
	for (size_t i = 0; i < dlen; i++)
		o += sprintf(out + o, "%02x", data[i]);
	OPENSSL_free(der);
	return out;
}

typedef struct pki {
	EVP_PKEY *ca_key, *key, *other_key;
	X509 *ca;
	X509 *leaf;         /* MX, signed by ca */
	X509 *leaf_nexthop; /* NEXTHOP, signed by ca */
	X509 *leaf_other;   /* other.example, signed by ca */
	X509 *self_expired; /* other.example, self-signed, expired a year ago */
} pki;

static int setup(void **state)
{
	pki *p = xcalloc(1, sizeof(*p));
	p->ca_key = EVP_EC_gen("P-256");
	p->key = EVP_EC_gen("P-256");
	p->other_key = EVP_EC_gen("P-256");
	p->ca = make_cert("yubin unit test CA", p->ca_key, NULL, NULL, true, -DAY, 30 * DAY);
	p->leaf = make_cert(MX, p->key, p->ca, p->ca_key, false, -DAY, 30 * DAY);
	p->leaf_nexthop = make_cert(NEXTHOP, p->key, p->ca, p->ca_key, false, -DAY, 30 * DAY);
	p->leaf_other = make_cert("other.example", p->key, p->ca, p->ca_key, false, -DAY, 30 * DAY);
	p->self_expired = make_cert("other.example", p->other_key, NULL, NULL, false, -400 * DAY, -365 * DAY);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	pki *p = *state;
	X509_free(p->ca);
	X509_free(p->leaf);
	X509_free(p->leaf_nexthop);
	X509_free(p->leaf_other);
	X509_free(p->self_expired);
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->key);
	EVP_PKEY_free(p->other_key);
	free(p);
	return 0;
}

/* ---- handshakes ---- */

typedef struct outcome {
	bool handshake;     /* both sides finished */
	dane_verdict v;
} outcome;

/* One handshake: the server presents leaf (+ chain), the client verifies
 * with the records in texts (NULL-terminated) for base and nexthop. */
static outcome handshake(X509 *leaf, EVP_PKEY *key, X509 *chain, const char *const *texts,
                         const char *base, const char *nexthop)
{
	strlist rrs;
	strlist_init(&rrs);
	for (size_t i = 0; texts[i] != NULL; i++)
		strlist_add(&rrs, texts[i]);
	dane_set set;
	dane_set_init(&set);
	dane_set_parse(&set, &rrs);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(sctx, leaf), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	if (chain != NULL)
		assert_int_equal(SSL_CTX_add1_chain_cert(sctx, chain), 1);
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL); /* as smtpc: the verdict is read after */
	assert_true(dane_ctx_enable(cctx));
	assert_true(dane_ctx_enable(cctx)); /* twice is harmless */
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	SSL_set_fd(s, sv[1]);
	SSL_set_fd(c, sv[0]);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	SSL_set_tlsext_host_name(c, base);
	const char *names[] = {nexthop};
	assert_true(dane_prepare(c, &set, base, names, nexthop ? 1 : 0));
	int rc = 0, rs = 0;
	for (int i = 0; i < 200 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
		if ((rc != 1 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) ||
		    (rs != 1 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ))
			break;
	}
	outcome o = {.handshake = rc == 1 && rs == 1};
	o.v = dane_check(c);
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	close(sv[0]);
	close(sv[1]);
	dane_set_free(&set);
	strlist_free(&rrs);
	return o;
}

static void test_parse(void **state)
{
	(void)state;
	const char *h32 = "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
	char ok311[100], ok200[100], ok312[200], pkix[100], badsel[100], badmt[100], shortd[100], oddhex[100],
	    nothex[100];
	char h64[129];
	snprintf(h64, sizeof h64, "%s%s", h32, h32);
	snprintf(ok311, sizeof ok311, "3 1 1 %s", h32);
	snprintf(ok200, sizeof ok200, "2 0 0 3082");
	snprintf(ok312, sizeof ok312, "3 1 2 %s", h64);
	snprintf(pkix, sizeof pkix, "1 1 1 %s", h32);
	snprintf(badsel, sizeof badsel, "3 2 1 %s", h32);
	snprintf(badmt, sizeof badmt, "3 1 3 %s", h32);
	snprintf(shortd, sizeof shortd, "3 1 1 %.62s", h32);   /* 31 bytes for SHA2-256 */
	snprintf(oddhex, sizeof oddhex, "3 1 1 %.63s", h32);
	snprintf(nothex, sizeof nothex, "3 1 1 zz%.62s", h32);
	const char *all[] = {ok311, pkix, "0 0 1 00", ok200, badsel, badmt, shortd, oddhex, nothex, ok312,
	                     "3 1", "255 1 1 00"};
	strlist rrs;
	strlist_init(&rrs);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		strlist_add(&rrs, all[i]);
	dane_set s;
	dane_set_init(&s);
	dane_set_parse(&s, &rrs);
	assert_int_equal(s.total, 12);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.recs[0].usage, 3);
	assert_int_equal(s.recs[0].selector, 1);
	assert_int_equal(s.recs[0].mtype, 1);
	assert_int_equal(s.recs[0].len, 32);
	assert_int_equal(s.recs[0].data[0], 0xab);
	assert_int_equal(s.recs[1].usage, 2);
	assert_int_equal(s.recs[1].len, 2);
	assert_int_equal(s.recs[2].mtype, 2);
	assert_int_equal(s.recs[2].len, 64);
	char *t = dane_tlsa_text(&s.recs[1]);
	assert_string_equal(t, "2 0 0 3082");
	free(t);
	t = dane_tlsa_text(&s.recs[2]);
	assert_int_equal(strncmp(t, "3 1 2 ab0123", 12), 0);
	assert_string_equal(t + strlen(t) - 3, "...");
	free(t);
	dane_set_free(&s);
	assert_int_equal(s.n, 0);
	/* only unusable records: nothing kept, but the RRset was there */
	strlist_free(&rrs);
	strlist_init(&rrs);
	strlist_add(&rrs, pkix);
	dane_set_parse(&s, &rrs);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.total, 1);
	dane_set_free(&s);
	strlist_free(&rrs);
}

static void test_ee_spki_sha256(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->leaf, 3, 1, 1);
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->leaf, p->key, NULL, rr, MX, NEXTHOP);
	assert_true(o.handshake);
	assert_true(o.v.ok);
	assert_int_equal(o.v.usage, DANE_EE);
	assert_int_equal(o.v.depth, 0);
	free(r);
}

static void test_ee_wrong_hash(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->leaf_other, 3, 0, 1); /* another certificate's digest */
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->leaf, p->key, NULL, rr, MX, NEXTHOP);
	assert_false(o.v.ok);
	assert_string_equal(o.v.why, "no matching TLSA record");
	free(r);
}

static void test_ee_cert_full_and_sha512(void **state)
{
	pki *p = *state;
	char *full = tlsa_of(p->leaf, 3, 0, 0), *s512 = tlsa_of(p->leaf, 3, 0, 2);
	const char *rr1[] = {full, NULL}, *rr2[] = {s512, NULL};
	assert_true(handshake(p->leaf, p->key, NULL, rr1, MX, NEXTHOP).v.ok);
	assert_true(handshake(p->leaf, p->key, NULL, rr2, MX, NEXTHOP).v.ok);
	free(full);
	free(s512);
}

/* DANE-EE: an expired, self-signed certificate for another name is fine
 * when its key is the one published (RFC 7672 3.1.1) */
static void test_ee_ignores_name_and_expiry(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->self_expired, 3, 1, 1);
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->self_expired, p->other_key, NULL, rr, MX, NEXTHOP);
	assert_true(o.handshake);
	assert_true(o.v.ok);
	assert_int_equal(o.v.usage, DANE_EE);
	free(r);
}

/* PKIX records are dropped: with nothing usable left, no match (and the
 * handshake itself still completes: TLS without authentication) */
static void test_pkix_only_never_authenticates(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->leaf, 1, 1, 1);
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->leaf, p->key, NULL, rr, MX, NEXTHOP);
	assert_true(o.handshake);
	assert_false(o.v.ok);
	free(r);
}

static void test_ta_with_chain(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->ca, 2, 1, 1);
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->leaf, p->key, p->ca, rr, MX, NEXTHOP);
	assert_true(o.v.ok);
	assert_int_equal(o.v.usage, DANE_TA);
	assert_int_equal(o.v.depth, 1);
	free(r);
}

/* the anchor must come in the server's chain (RFC 7671 5.2.2) */
static void test_ta_without_chain(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->ca, 2, 1, 1);
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->leaf, p->key, NULL, rr, MX, NEXTHOP);
	assert_false(o.v.ok);
	assert_non_null(o.v.why);
	free(r);
}

/* DANE-TA checks names: the base domain or the second name given
 * (RFC 7672 3.2.2), nothing else */
static void test_ta_names(void **state)
{
	pki *p = *state;
	char *r = tlsa_of(p->ca, 2, 1, 1);
	const char *rr[] = {r, NULL};
	outcome o = handshake(p->leaf_other, p->key, p->ca, rr, MX, NEXTHOP);
	assert_false(o.v.ok);
	assert_string_equal(o.v.why, X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH));
	o = handshake(p->leaf_nexthop, p->key, p->ca, rr, MX, NEXTHOP);
	assert_true(o.v.ok);
	o = handshake(p->leaf_nexthop, p->key, p->ca, rr, MX, NULL);
	assert_false(o.v.ok);
	free(r);
}

/* RFC 7672 2.2.2-2.2.3: with a secure CNAME chain the target's TLSA
 * records come first, its failure is final, the original name speaks only
 * when the target surely has none; without one, the original name alone */
static void test_pick_base(void **state)
{
	(void)state;
	static const struct {
		bool secure;
		dane_tlsa_state target, orig;
		dane_pick want;
	} cases[] = {
		{true, DANE_TLSA_FOUND, DANE_TLSA_FOUND, DANE_PICK_TARGET},   /* both: the target's */
		{true, DANE_TLSA_FOUND, DANE_TLSA_NONE, DANE_PICK_TARGET},
		{true, DANE_TLSA_FOUND, DANE_TLSA_FAILED, DANE_PICK_TARGET},
		{true, DANE_TLSA_NONE, DANE_TLSA_FOUND, DANE_PICK_ORIG},     /* at the original only */
		{true, DANE_TLSA_NONE, DANE_TLSA_NONE, DANE_PICK_NONE},
		{true, DANE_TLSA_NONE, DANE_TLSA_FAILED, DANE_PICK_FAILED_ORIG},
		{true, DANE_TLSA_FAILED, DANE_TLSA_FOUND, DANE_PICK_FAILED_TARGET},
		{true, DANE_TLSA_FAILED, DANE_TLSA_NONE, DANE_PICK_FAILED_TARGET},
		{false, DANE_TLSA_FOUND, DANE_TLSA_NONE, DANE_PICK_NONE},    /* target untrusted */
		{false, DANE_TLSA_FAILED, DANE_TLSA_FOUND, DANE_PICK_ORIG},
		{false, DANE_TLSA_FOUND, DANE_TLSA_FAILED, DANE_PICK_FAILED_ORIG},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dane_pick got = dane_pick_base(cases[i].secure, cases[i].target, cases[i].orig);
		if (got != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, (int)got, (int)cases[i].want);
	}
}

/* the reference names: the published name and, with a secure chain, its
 * expansion (the base when its records were used); never anything else */
static void test_ref_names(void **state)
{
	(void)state;
	const char *base, *other;
	dane_ref_names("mx.dane.test", NULL, false, DANE_PICK_ORIG, &base, &other);
	assert_string_equal(base, "mx.dane.test");
	assert_null(other);
	dane_ref_names("mx.dane.test", "host.dane.test", true, DANE_PICK_TARGET, &base, &other);
	assert_string_equal(base, "host.dane.test");
	assert_string_equal(other, "mx.dane.test");
	dane_ref_names("mx.dane.test", "host.dane.test", true, DANE_PICK_ORIG, &base, &other);
	assert_string_equal(base, "mx.dane.test");
	assert_string_equal(other, "host.dane.test");
	/* an insecure link: the expansion is not trusted */
	dane_ref_names("mx.dane.test", "host.plain.test", false, DANE_PICK_ORIG, &base, &other);
	assert_string_equal(base, "mx.dane.test");
	assert_null(other);
	dane_ref_names("mx.dane.test", "MX.dane.test", true, DANE_PICK_TARGET, &base, &other);
	assert_string_equal(base, "mx.dane.test");
	assert_null(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_ee_spki_sha256),
		cmocka_unit_test(test_ee_wrong_hash),
		cmocka_unit_test(test_ee_cert_full_and_sha512),
		cmocka_unit_test(test_ee_ignores_name_and_expiry),
		cmocka_unit_test(test_pkix_only_never_authenticates),
		cmocka_unit_test(test_ta_with_chain),
		cmocka_unit_test(test_ta_without_chain),
		cmocka_unit_test(test_ta_names),
		cmocka_unit_test(test_pick_base),
		cmocka_unit_test(test_ref_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
