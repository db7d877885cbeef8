/* dkimcheck.c — `yubin doctor`'s DKIM check: each key the domain signs
 * with (msgauth/dkimkeys.h's pick: the newest per algorithm) is published
 * at <selector>._domainkey.<domain> as a valid key record (RFC 6376 3.6.1,
 * RFC 8463 for Ed25519), not revoked, usable for email with sha256, and
 * holding the public half of the private key on disk.  Record parsing and
 * the public key's decoding are msgauth's (dkimtags.c, dkimcrypto.c). */
#include "doctor/doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/dkimcrypto.h"
#include "msgauth/dkimkeys.h"

/* What is wrong with the record text for key k; NULL when it matches.
 * *warn_r: a usable record with a caveat (testing mode). */
static char *record_problem(const dkim_key *k, const char *text, bool *warn_r)
{
	dkim_keyrec rec;
	char *err = NULL;
	*warn_r = false;
	if (!dkim_keyrec_parse(text, &rec, &err)) {
		char *why = xasprintf("the record cannot be used: %s", err ? err : "malformed");
		free(err);
		return why;
	}
	char *why = NULL;
	const char *perr = NULL;
	if (rec.key == NULL)
		why = xstrdup("the key is revoked (empty p=)");
	else if (!rec.sha256_ok)
		why = xstrdup("h= does not allow sha256");
	else if (!rec.email_ok)
		why = xstrdup("s= does not allow email");
	else {
		EVP_PKEY *pub = dkim_crypto_public_key(rec.type, rec.key, rec.key_len, &perr);
		if (pub == NULL)
			why = xasprintf("p= is not a usable key: %s", perr ? perr : "unknown");
		else if (EVP_PKEY_eq(pub, k->pkey) != 1)
			why = xstrdup("p= is another key than the private key this server signs with");
		EVP_PKEY_free(pub);
	}
	if (why == NULL && rec.testing) {
		*warn_r = true;
		why = xstrdup("the record has t=y (testing): receivers may treat signatures as unsigned mail");
	}
	dkim_keyrec_free(&rec);
	return why;
}

static void check_key(doctor *d, const dkim_key *k)
{
	char *name = dkim_key_dns_name(k);
	char *line = dkim_key_txt_record(k);
	char *fix = xasprintf("publish %s (`yubin dns records %s` prints it)", line, k->domain);
	doctor_answer a;
	doctor_lookup(d, name, DNS_TYPE_TXT, &a);
	const char *text = NULL;
	for (size_t i = 0; i < a.values.n && text == NULL; i++)
		if (strstr(a.values.items[i], "p=") != NULL)
			text = a.values.items[i];
	if (a.status == DNS_TEMPFAIL) {
		doctor_add(d, "dkim", name, DOCTOR_FAIL, NULL, "no answer from DNS");
	} else if (text == NULL) {
		doctor_add(d, "dkim", name, DOCTOR_FAIL, fix,
		           "the %s key (selector %s) is not published: receivers cannot verify the signatures", 
		           dkim_alg_name(k->alg), k->selector);
	} else {
		bool warn;
		char *why = record_problem(k, text, &warn);
		int bits = dkim_key_bits(k);
		if (why != NULL)
			doctor_add(d, "dkim", name, warn ? DOCTOR_WARN : DOCTOR_FAIL, warn ? "remove t=y from the record" : fix,
			           "%s", why);
		else if (k->alg == DKIM_ALG_RSA_SHA256 && bits < 2048)
			doctor_add(d, "dkim", name, DOCTOR_WARN, "make a 2048-bit key with `yubin dkim keygen`",
			           "published and matching, but only %d bits", bits);
		else
			doctor_add(d, "dkim", name, DOCTOR_OK, NULL, "published and matches the private key (%s, %d bits)",
			           dkim_alg_name(k->alg), bits);
		free(why);
	}
	doctor_answer_free(&a);
	free(fix);
	free(line);
	free(name);
}

void doctor_check_dkim(doctor *d, const char *domain)
{
	dkim_keyset set;
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(d->cfg->data_dir, domain, &set, &problems);
	for (size_t i = 0; i < problems.n; i++)
		doctor_add(d, "dkim", domain, DOCTOR_FAIL, "replace or remove the file (`yubin dkim keygen` makes a new key)",
		           "%s", problems.items[i]);
	const dkim_key *picked[2];
	size_t n = dkim_keys_pick(&set, domain, NULL, picked);
	if (n == 0) {
		char *fix = xasprintf("make one with `yubin dkim keygen %s`, then publish the record it prints", domain);
		doctor_add(d, "dkim", domain, d->cfg->msgauth.sign ? DOCTOR_FAIL : DOCTOR_WARN, fix,
		           "no DKIM key: mail from %s leaves unsigned, and DMARC then rests on SPF alone", domain);
		free(fix);
	}
	for (size_t i = 0; i < n; i++)
		check_key(d, picked[i]);
	dkim_keyset_free(&set);
	strlist_free(&problems);
}
