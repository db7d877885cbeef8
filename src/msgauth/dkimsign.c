/* dkimsign.c — building and signing DKIM-Signature fields (see
 * dkimsign.h).  Must not choose keys or read files: the caller brings the
 * keys (dkimkeys.h). */
#include "msgauth/dkimsign.h"

#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "msgauth/dkimcrypto.h"
#include "msgauth/dkimhash.h"

/* RFC 6376 5.4.1's list.  over: listed once more than it occurs (also
 * once when absent), so that nobody can add one; the others (trace-like
 * fields that lists and resenders legitimately add) only as they occur.
 * A name ending in "-" stands for every field with that prefix. */
static const struct {
	const char *name;
	bool over;
} signed_fields[] = {
	{"From", true},         {"Reply-To", true},        {"Subject", true},
	{"Date", true},         {"To", true},              {"Cc", true},
	{"Message-ID", true},   {"In-Reply-To", true},     {"References", true},
	{"MIME-Version", true}, {"Content-Type", true},    {"Content-Transfer-Encoding", true},
	{"Content-ID", false},  {"Content-Description", false},
	{"Resent-", false},     {"List-", false},          {"Sender", false},
};

#define LINE_MAX_LEN 76

/* Add name to h once per field in m called so, plus once if over. */
static void add_exact(const dkim_msg *m, const char *name, bool over, strlist *h)
{
	for (size_t i = 0; i < m->n_fields; i++)
		if (mime_field_is(m->data, &m->fields[i], name))
			strlist_add(h, name);
	if (over)
		strlist_add(h, name);
}

/* Every field whose name starts with prefix, as the message spells it. */
static void add_prefixed(const dkim_msg *m, const char *prefix, strlist *h)
{
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < m->n_fields; i++) {
		const mime_field *f = &m->fields[i];
		size_t nl = f->name_end - f->name_start;
		if (nl > pl && str_ascii_nieq(m->data + f->name_start, prefix, pl))
			strlist_add_owned(h, xstrndup(m->data + f->name_start, nl));
	}
}

static void choose_fields(const dkim_msg *m, strlist *h)
{
	for (size_t i = 0; i < sizeof(signed_fields) / sizeof(signed_fields[0]); i++) {
		const char *n = signed_fields[i].name;
		if (n[strlen(n) - 1] == '-')
			add_prefixed(m, n, h);
		else
			add_exact(m, n, signed_fields[i].over, h);
	}
}

/* Append word to the field in b, starting a folded line ("eol\t") first
 * when the current line would pass LINE_MAX_LEN. */
static void put_folded(buf *b, size_t *col, const char *word, const char *eol)
{
	size_t n = strlen(word);
	if (*col + n > LINE_MAX_LEN && *col > 1) {
		BUF_PRINTF(b, "%s\t", eol);
		*col = 8;
	}
	BUF_PUTS(b, word);
	*col += n;
}

/* The field up to and including "b=", folded; head is its name and first
 * tag ("DKIM-Signature: v=1;", "ARC-Message-Signature: i=1;"). */
static void build_field(buf *b, const char *head, const dkim_key *k, const dkim_msg *m, const strlist *h,
			const char *bh, const dkim_sign_opts *o, const char *eol)
{
	size_t col = 0;
	char *w = xasprintf("%s a=%s; c=relaxed/relaxed;", head, dkim_alg_name(k->alg));
	put_folded(b, &col, w, eol);
	free(w);
	char *tags[] = {
		xasprintf(" d=%s;", k->domain), xasprintf(" s=%s;", k->selector),
		xasprintf(" t=%lld;", (long long)o->now),
		o->expire_secs > 0 ? xasprintf(" x=%lld;", (long long)o->now + o->expire_secs) : NULL,
	};
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		if (tags[i] != NULL)
			put_folded(b, &col, tags[i], eol);
		free(tags[i]);
	}
	for (size_t i = 0; i < h->n; i++) {
		w = xasprintf("%s%s%s", i == 0 ? " h=" : "", h->items[i], i + 1 < h->n ? ":" : ";");
		put_folded(b, &col, w, eol);
		free(w);
	}
	w = xasprintf(" bh=%s;", bh);
	put_folded(b, &col, w, eol);
	free(w);
	put_folded(b, &col, " b=", eol);
}

/* The signature in base64, on folded lines of at most LINE_MAX_LEN. */
static void put_b(buf *b, const char *b64, const char *eol)
{
	for (size_t off = 0, n = strlen(b64); off < n; off += 64)
		BUF_PRINTF(b, "%s\t %.*s", eol, (int)(n - off < 64 ? n - off : 64), b64 + off);
	BUF_PUTS(b, eol);
}

/* One signature for key k; false when the key cannot sign. */
static bool sign_one(buf *out, const char *head, const dkim_key *k, const dkim_msg *m, const strlist *h,
		     const char *bh, const dkim_sign_opts *o)
{
	const char *eol = o->crlf ? "\r\n" : "\n";
	buf field;
	buf_init(&field, BUF_UNBOUNDED);
	build_field(&field, head, k, m, h, bh, o, eol);
	unsigned char hash[DKIM_HASH_LEN], *sig;
	size_t sig_len;
	dkim_header_hash(m, DKIM_CANON_RELAXED, h, field.data, field.len, hash);
	bool ok = dkim_crypto_sign(k->pkey, k->alg, hash, &sig, &sig_len);
	if (ok) {
		char *b64 = sasl_b64_encode(sig, sig_len);
		put_b(&field, b64, eol);
		ok = buf_append(out, field.data, field.len);
		free(b64);
		free(sig);
	}
	buf_free(&field);
	return ok;
}

bool dkim_sign(const char *msg, size_t len, const dkim_key *const *keys, size_t n_keys,
	       const dkim_sign_opts *o, buf *out, char **err_r)
{
	return dkim_sign_as(msg, len, "DKIM-Signature: v=1;", keys, n_keys, o, out, err_r);
}

bool dkim_sign_as(const char *msg, size_t len, const char *head, const dkim_key *const *keys, size_t n_keys,
		  const dkim_sign_opts *o, buf *out, char **err_r)
{
	dkim_msg m;
	dkim_msg_parse(&m, msg, len);
	strlist h;
	strlist_init(&h);
	choose_fields(&m, &h);
	unsigned char bh[DKIM_HASH_LEN];
	uint64_t canon_len;
	dkim_body_hash(&m, DKIM_CANON_RELAXED, -1, bh, &canon_len);
	char *bh64 = sasl_b64_encode(bh, sizeof(bh));
	size_t start = out->len;
	*err_r = NULL;
	mime_field from;
	if (!mime_header_find(msg, 0, m.body, "From", &from))
		*err_r = xstrdup("the message has no From field");
	for (size_t i = 0; *err_r == NULL && i < n_keys; i++)
		if (!sign_one(out, head, keys[i], &m, &h, bh64, o))
			*err_r = xasprintf("the key %s cannot sign", keys[i]->path ? keys[i]->path : keys[i]->selector);
	if (*err_r != NULL)
		buf_truncate(out, start);
	free(bh64);
	strlist_free(&h);
	dkim_msg_free(&m);
	return *err_r == NULL;
}
