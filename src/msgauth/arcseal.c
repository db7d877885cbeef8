/* arcseal.c — one ARC set for a message (see arcseal.h): the AAR from our
 * Authentication-Results, the AMS through dkimsign.c, the seal over the
 * three.  Must not choose keys, read files or validate chains. */
#include "msgauth/arcseal.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "mime/header.h"
#include "msgauth/authres.h"
#include "msgauth/dkimcanon.h"
#include "msgauth/dkimcrypto.h"
#include "msgauth/dkimhash.h"
#include "msgauth/dkimsign.h"

char *arc_results_of(const char *msg, size_t len, const char *authserv_id)
{
	size_t n = 0;
	authres_range *r = authres_find_ours(msg, len, authserv_id, &n);
	char *out = NULL;
	if (n > 0) {
		mime_field f;
		size_t pos = r[0].start;
		if (mime_header_next(msg, len, &pos, &f))
			out = mime_field_value(msg, &f);
	}
	free(r);
	return out ? out : xasprintf("%s; none", authserv_id);
}

/* The field text without its line end (for dkim_canon_header). */
static size_t without_eol(const char *f, size_t len)
{
	if (len > 0 && f[len - 1] == '\n')
		len--;
	if (len > 0 && f[len - 1] == '\r')
		len--;
	return len;
}

/* head, then the words of text (split at spaces), on lines folded before
 * a word that would pass 76 columns (relaxed canonicalization unfolds). */
static void put_folded_words(buf *b, const char *head, const char *text, const char *eol)
{
	BUF_PUTS(b, head);
	size_t col = strlen(head);
	for (const char *p = text; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		if (col + 1 + n > 76 && col > 1) {
			BUF_PRINTF(b, "%s\t", eol);
			col = 8;
		} else {
			BUF_PUTC(b, ' ');
			col++;
		}
		BUF_APPEND(b, p, n);
		col += n;
		p += n;
	}
	BUF_PUTS(b, eol);
}

/* The seal's signature over aar, ams and the seal up to "b=". */
static bool sign_seal(const dkim_key *k, const buf *aar, const buf *ams, const buf *seal, char **b64_r)
{
	buf c;
	buf_init(&c, BUF_UNBOUNDED);
	bool ok = dkim_canon_header(&c, aar->data, without_eol(aar->data, aar->len), DKIM_CANON_RELAXED) &&
	          dkim_canon_header(&c, ams->data, without_eol(ams->data, ams->len), DKIM_CANON_RELAXED) &&
	          dkim_canon_header(&c, seal->data, seal->len, DKIM_CANON_RELAXED);
	unsigned char hash[DKIM_HASH_LEN], *sig = NULL;
	size_t sig_len = 0;
	ok = ok && c.len >= 2 && EVP_Digest(c.data, c.len - 2, hash, NULL, EVP_sha256(), NULL) == 1 &&
	     dkim_crypto_sign(k->pkey, k->alg, hash, &sig, &sig_len);
	if (ok)
		*b64_r = sasl_b64_encode(sig, sig_len);
	free(sig);
	buf_free(&c);
	return ok;
}

bool arc_seal(const char *msg, size_t len, const dkim_key *k, const char *results, time_t now, bool crlf,
              buf *out, char **err_r)
{
	const char *eol = crlf ? "\r\n" : "\n";
	dkim_msg m;
	dkim_msg_parse(&m, msg, len);
	mime_field f;
	bool chained = mime_header_find(msg, 0, m.body, "ARC-Seal", &f);
	dkim_msg_free(&m);
	if (chained) {
		*err_r = xstrdup("the message already has an ARC set: continuing a chain needs it validated first");
		return false;
	}
	buf aar, ams, seal;
	buf_init(&aar, BUF_UNBOUNDED);
	buf_init(&ams, BUF_UNBOUNDED);
	buf_init(&seal, BUF_UNBOUNDED);
	put_folded_words(&aar, "ARC-Authentication-Results: i=1;", results, eol);
	dkim_sign_opts o = {.now = now, .crlf = crlf};
	const dkim_key *keys[] = {k};
	bool ok = dkim_sign_as(msg, len, "ARC-Message-Signature: i=1;", keys, 1, &o, &ams, err_r);
	char *b64 = NULL;
	if (ok) {
		BUF_PRINTF(&seal, "ARC-Seal: i=1; a=%s; t=%lld; cv=none;%s\td=%s; s=%s; b=", dkim_alg_name(k->alg),
		           (long long)now, eol, k->domain, k->selector);
		ok = sign_seal(k, &aar, &ams, &seal, &b64);
		if (!ok)
			*err_r = xasprintf("the key %s cannot sign the ARC seal", k->path ? k->path : k->selector);
	}
	if (ok) {
		for (size_t off = 0, n = strlen(b64); off < n; off += 64)
			BUF_PRINTF(&seal, "%s\t %.*s", eol, (int)(n - off < 64 ? n - off : 64), b64 + off);
		BUF_PUTS(&seal, eol);
		ok = buf_append(out, seal.data, seal.len) && buf_append(out, ams.data, ams.len) &&
		     buf_append(out, aar.data, aar.len);
		if (!ok)
			*err_r = xstrdup("the ARC set does not fit");
	}
	free(b64);
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&seal);
	return ok;
}
