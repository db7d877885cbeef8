/* dkimhash.c — locating fields and computing the body and header hashes
 * (see dkimhash.h).  Must not parse tags beyond finding b=, nor judge. */
#include "msgauth/dkimhash.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/sha256.h"
#include "msgauth/dkimcanon.h"

void dkim_msg_parse(dkim_msg *m, const char *data, size_t len)
{
	*m = (dkim_msg){.data = data, .len = len, .body = len};
	size_t pos = 0, cap = 0;
	mime_field f;
	while (mime_header_next(data, len, &pos, &f)) {
		if (m->n_fields == cap) {
			cap = cap ? cap * 2 : 32;
			m->fields = xrealloc(m->fields, cap * sizeof(*m->fields));
		}
		m->fields[m->n_fields++] = f;
	}
	if (pos < len) {   /* at the blank line: the body starts after it */
		const char *nl = memchr(data + pos, '\n', len - pos);
		m->body = nl ? (size_t)(nl - data) + 1 : len;
	}
}

void dkim_msg_free(dkim_msg *m)
{
	free(m->fields);
	*m = (dkim_msg){0};
}

size_t dkim_msg_field_len(const dkim_msg *m, const mime_field *f)
{
	return f->value_end - f->start;
}

typedef struct body_sink {
	EVP_MD_CTX *md;
	uint64_t left;     /* bytes still to hash (l=) */
	uint64_t total;
} body_sink;

static void hash_sink(void *arg, const char *data, size_t n)
{
	body_sink *s = arg;
	size_t take = n < s->left ? n : (size_t)s->left;
	if (take > 0)
		EVP_DigestUpdate(s->md, data, take);
	s->left -= take;
	s->total += n;
}

void dkim_body_hash(const dkim_msg *m, dkim_canon c, int64_t limit,
		    unsigned char out[DKIM_HASH_LEN], uint64_t *canon_len_r)
{
	body_sink s = {.md = EVP_MD_CTX_new(), .left = limit < 0 ? UINT64_MAX : (uint64_t)limit};
	if (s.md == NULL || !EVP_DigestInit_ex(s.md, sha256_md(), NULL))
		abort();   /* SHA-256 is always there; out of memory is not a result */
	dkim_canon_body(m->data + m->body, m->len - m->body, c, hash_sink, &s);
	EVP_DigestFinal_ex(s.md, out, NULL);
	EVP_MD_CTX_free(s.md);
	*canon_len_r = s.total;
}

/* The lowest field called name that is not used yet, or NULL. */
static const mime_field *pick(const dkim_msg *m, const char *name, bool *used)
{
	for (size_t i = m->n_fields; i-- > 0;) {
		if (!used[i] && mime_field_is(m->data, &m->fields[i], name)) {
			used[i] = true;
			return &m->fields[i];
		}
	}
	return NULL;
}

void dkim_header_hash(const dkim_msg *m, dkim_canon c, const strlist *h,
		      const char *sig, size_t sig_len, unsigned char out[DKIM_HASH_LEN])
{
	buf b;
	buf_init(&b, SIZE_MAX / 2);
	bool *used = xcalloc(m->n_fields + 1, sizeof(*used));
	for (size_t i = 0; i < h->n; i++) {
		const mime_field *f = pick(m, h->items[i], used);
		if (f != NULL)
			dkim_canon_header(&b, m->data + f->start, dkim_msg_field_len(m, f), c);
	}
	free(used);
	dkim_canon_header(&b, sig, sig_len, c);
	b.len -= 2;   /* the signature field is hashed without its CRLF */
	sha256_raw(b.data, b.len, out);
	buf_free(&b);
}

/* Offsets [*vs, *ve) of the b= value in field text t[0, n): from after
 * "b=" to the ";" or the end.  False when there is no b= tag. */
static bool find_b(const char *t, size_t n, size_t *vs, size_t *ve)
{
	const char *colon = memchr(t, ':', n);
	size_t p = colon ? (size_t)(colon - t) + 1 : n;
	while (p < n) {
		const char *semi = memchr(t + p, ';', n - p);
		size_t e = semi ? (size_t)(semi - t) : n;
		size_t q = p;
		while (q < e && strchr(" \t\r\n", t[q]) != NULL)
			q++;
		size_t r = q + 1;
		while (r < e && strchr(" \t\r\n", t[r]) != NULL)
			r++;
		if (q < e && t[q] == 'b' && r < e && t[r] == '=') {
			*vs = r + 1;
			*ve = e;
			return true;
		}
		p = e + 1;
	}
	return false;
}

char *dkim_sig_without_b(const dkim_msg *m, const mime_field *f, size_t *len_r)
{
	const char *t = m->data + f->start;
	size_t n = dkim_msg_field_len(m, f), vs, ve;
	if (!find_b(t, n, &vs, &ve))
		vs = ve = n;
	char *out = xmalloc(n - (ve - vs) + 1);
	memcpy(out, t, vs);
	memcpy(out + vs, t + ve, n - ve);
	out[n - (ve - vs)] = '\0';
	*len_r = n - (ve - vs);
	return out;
}
