/* dkimtags.c — RFC 6376 tag=value lists, the DKIM-Signature grammar and
 * the key record grammar (see dkimtags.h).  Must not hash, verify or look
 * anything up: it only says what the text means. */
#include "msgauth/dkimtags.h"

#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

static bool is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Trim folding whitespace at both ends of [*p, *e). */
static void trim(const char **p, const char **e)
{
	while (*p < *e && is_fws(**p))
		(*p)++;
	while (*e > *p && is_fws((*e)[-1]))
		(*e)--;
}

static bool valid_name(const char *p, size_t n)
{
	if (n == 0 || !is_alpha(p[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alpha(p[i]) && !is_digit(p[i]) && p[i] != '_')
			return false;
	return true;
}

/* VALCHAR (%x21-3A / %x3C-7E) or folding whitespace. */
static bool valid_value(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!is_fws((char)c) && (c < 0x21 || c > 0x7e || c == ';'))
			return false;
	}
	return true;
}

/* One tag-spec in [p, e); appended to l, or an error sentence. */
static char *parse_spec(const char *p, const char *e, dkim_taglist *l)
{
	const char *eq = memchr(p, '=', (size_t)(e - p));
	if (eq == NULL)
		return xasprintf("\"%.*s\" is not tag=value", (int)(e - p), p);
	const char *np = p, *ne = eq, *vp = eq + 1, *ve = e;
	trim(&np, &ne);
	trim(&vp, &ve);
	if (!valid_name(np, (size_t)(ne - np)))
		return xasprintf("bad tag name \"%.*s\"", (int)(ne - np), np);
	if (!valid_value(vp, (size_t)(ve - vp)))
		return xasprintf("bad characters in the value of %.*s=", (int)(ne - np), np);
	for (size_t i = 0; i < l->n; i++)
		if (l->tags[i].name_len == (size_t)(ne - np) && memcmp(l->tags[i].name, np, l->tags[i].name_len) == 0)
			return xasprintf("tag %.*s= appears twice", (int)(ne - np), np);
	l->tags = xrealloc(l->tags, (l->n + 1) * sizeof(*l->tags));
	l->tags[l->n++] = (dkim_tag){np, (size_t)(ne - np), vp, (size_t)(ve - vp)};
	return NULL;
}

bool dkim_tags_parse(const char *text, size_t len, dkim_taglist *l, char **err_r)
{
	*l = (dkim_taglist){0};
	const char *p = text, *end = text + len;
	char *err = NULL;
	while (err == NULL) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = semi ? semi : end;
		const char *tp = p, *te = e;
		trim(&tp, &te);
		if (tp == te && semi == NULL && l->n > 0)
			break;   /* the optional ";" after the last tag */
		err = parse_spec(p, e, l);
		if (semi == NULL)
			break;
		p = semi + 1;
	}
	if (err != NULL) {
		dkim_tags_free(l);
		*err_r = err;
		return false;
	}
	return true;
}

const dkim_tag *dkim_tags_get(const dkim_taglist *l, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < l->n; i++)
		if (l->tags[i].name_len == n && memcmp(l->tags[i].name, name, n) == 0)
			return &l->tags[i];
	return NULL;
}

void dkim_tags_free(dkim_taglist *l)
{
	free(l->tags);
	*l = (dkim_taglist){0};
}

char *dkim_tag_compact(const dkim_tag *t)
{
	char *out = xmalloc(t->value_len + 1), *o = out;
	for (size_t i = 0; i < t->value_len; i++)
		if (!is_fws(t->value[i]))
			*o++ = t->value[i];
	*o = '\0';
	return out;
}

static char *tag_string(const dkim_tag *t)
{
	return xstrndup(t->value, t->value_len);
}

/* Base64 with folding whitespace in it; false when not valid base64. */
static bool tag_base64(const dkim_tag *t, unsigned char **out_r, size_t *len_r)
{
	char *s = dkim_tag_compact(t);
	char *raw = NULL;
	bool ok = sasl_b64_decode(s, &raw, len_r);
	free(s);
	*out_r = (unsigned char *)raw;
	return ok;
}

/* 1*digits, at most max_digits of them (RFC 6376: 12 for t= and x=). */
static bool tag_number(const dkim_tag *t, size_t max_digits, int64_t *n_r)
{
	if (t->value_len == 0 || t->value_len > max_digits)
		return false;
	int64_t n = 0;
	for (size_t i = 0; i < t->value_len; i++) {
		if (!is_digit(t->value[i]))
			return false;
		n = n * 10 + (t->value[i] - '0');
	}
	*n_r = n;
	return true;
}

/* Split a colon-separated list (h=, q=, key h= and s=), blanks dropped. */
static void colon_list(const dkim_tag *t, strlist *out)
{
	char *s = dkim_tag_compact(t);
	for (char *save = NULL, *item = strtok_r(s, ":", &save); item != NULL;
	     item = strtok_r(NULL, ":", &save))
		strlist_add(out, item);
	free(s);
}

static bool list_has(const dkim_tag *t, const char *a, const char *b)
{
	strlist l;
	strlist_init(&l);
	colon_list(t, &l);
	bool found = false;
	for (size_t i = 0; i < l.n; i++)
		found = found || str_ascii_ieq(l.items[i], a) || (b != NULL && str_ascii_ieq(l.items[i], b));
	strlist_free(&l);
	return found;
}

bool dkim_name_valid(const char *name)
{
	size_t n = strlen(name), label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          (c == '-' && label > 0);
		if (!ok || ++label > 63)
			return false;
	}
	return label > 0 && name[n - 1] != '-';
}

const char *dkim_alg_name(dkim_alg alg)
{
	static const char *const names[] = {"rsa-sha256", "ed25519-sha256", "rsa-sha1"};
	return names[alg];
}

/* ---- DKIM-Signature ---- */

typedef struct sig_parse {
	const dkim_taglist *tags;
	dkim_sig *sig;
	char *err;
} sig_parse;

static dkim_sig_status fail(sig_parse *sp, dkim_sig_status st, char *err)
{
	sp->err = err;
	return st;
}

static dkim_sig_status sig_version(sig_parse *sp, const dkim_tag *t)
{
	if (t->value_len == 1 && t->value[0] == '1')
		return DKIM_SIG_OK;
	return fail(sp, DKIM_SIG_UNSUPPORTED, xasprintf("unknown version v=%.*s", (int)t->value_len, t->value));
}

static dkim_sig_status sig_alg(sig_parse *sp, const dkim_tag *t)
{
	for (dkim_alg a = DKIM_ALG_RSA_SHA256; a <= DKIM_ALG_RSA_SHA1; a++)
		if (t->value_len == strlen(dkim_alg_name(a)) &&
		    str_ascii_nieq(t->value, dkim_alg_name(a), t->value_len))
			sp->sig->alg = a;
	if (!str_ascii_ieq(sp->sig->alg_name, dkim_alg_name(sp->sig->alg)))
		return fail(sp, DKIM_SIG_UNSUPPORTED, xasprintf("unknown algorithm a=%s", sp->sig->alg_name));
	if (sp->sig->alg == DKIM_ALG_RSA_SHA1)
		return fail(sp, DKIM_SIG_WEAK, xstrdup("rsa-sha1 is not accepted (RFC 8301)"));
	return DKIM_SIG_OK;
}

static bool canon_word(const char *p, size_t n, dkim_canon *c_r)
{
	if (n == 6 && str_ascii_nieq(p, "simple", 6))
		*c_r = DKIM_CANON_SIMPLE;
	else if (n == 7 && str_ascii_nieq(p, "relaxed", 7))
		*c_r = DKIM_CANON_RELAXED;
	else
		return false;
	return true;
}

static dkim_sig_status sig_canon(sig_parse *sp, const dkim_tag *t)
{
	const char *slash = memchr(t->value, '/', t->value_len);
	size_t hn = slash ? (size_t)(slash - t->value) : t->value_len;
	bool ok = canon_word(t->value, hn, &sp->sig->hcanon);
	if (ok && slash != NULL)
		ok = canon_word(slash + 1, t->value_len - hn - 1, &sp->sig->bcanon);
	if (!ok)
		return fail(sp, DKIM_SIG_UNSUPPORTED, xasprintf("unknown canonicalization c=%.*s",
		                                                (int)t->value_len, t->value));
	return DKIM_SIG_OK;
}

static dkim_sig_status sig_bh(sig_parse *sp, const dkim_tag *t)
{
	if (!tag_base64(t, &sp->sig->bh, &sp->sig->bh_len) || sp->sig->bh_len == 0)
		return fail(sp, DKIM_SIG_SYNTAX, xstrdup("bh= is not base64"));
	return DKIM_SIG_OK;
}

static dkim_sig_status sig_b(sig_parse *sp, const dkim_tag *t)
{
	if (!tag_base64(t, &sp->sig->b, &sp->sig->b_len) || sp->sig->b_len == 0)
		return fail(sp, DKIM_SIG_SYNTAX, xstrdup("b= is not base64"));
	return DKIM_SIG_OK;
}

static dkim_sig_status sig_headers(sig_parse *sp, const dkim_tag *t)
{
	colon_list(t, &sp->sig->headers);
	if (!list_has(t, "from", NULL))
		return fail(sp, DKIM_SIG_SYNTAX, xstrdup("h= does not include From"));
	return DKIM_SIG_OK;
}

static dkim_sig_status sig_domain(sig_parse *sp, const dkim_tag *t)
{
	return sp->sig->domain[0] ? DKIM_SIG_OK : fail(sp, DKIM_SIG_SYNTAX, xstrdup("empty d="));
}

static dkim_sig_status sig_selector(sig_parse *sp, const dkim_tag *t)
{
	return sp->sig->selector[0] ? DKIM_SIG_OK : fail(sp, DKIM_SIG_SYNTAX, xstrdup("empty s="));
}

/* i= must be d= or a subdomain of it (RFC 6376 3.5). */
static dkim_sig_status sig_identity(sig_parse *sp, const dkim_tag *t)
{
	dkim_sig *s = sp->sig;
	s->identity = tag_string(t);
	const char *at = strrchr(s->identity, '@');
	const char *dom = at ? at + 1 : "";
	size_t dl = strlen(dom), sl = strlen(s->domain);
	bool ok = str_ascii_ieq(dom, s->domain) ||
	          (dl > sl && dom[dl - sl - 1] == '.' && str_ascii_ieq(dom + dl - sl, s->domain));
	return ok ? DKIM_SIG_OK : fail(sp, DKIM_SIG_SYNTAX, xasprintf("i=%s is not within d=%s", s->identity, s->domain));
}

static dkim_sig_status sig_length(sig_parse *sp, const dkim_tag *t)
{
	return tag_number(t, 18, &sp->sig->length) ? DKIM_SIG_OK
	       : fail(sp, DKIM_SIG_SYNTAX, xstrdup("l= is not a number"));
}

static dkim_sig_status sig_time(sig_parse *sp, const dkim_tag *t)
{
	return tag_number(t, 12, &sp->sig->timestamp) ? DKIM_SIG_OK
	       : fail(sp, DKIM_SIG_SYNTAX, xstrdup("t= is not a time"));
}

static dkim_sig_status sig_expire(sig_parse *sp, const dkim_tag *t)
{
	if (!tag_number(t, 12, &sp->sig->expire))
		return fail(sp, DKIM_SIG_SYNTAX, xstrdup("x= is not a time"));
	if (sp->sig->timestamp >= 0 && sp->sig->expire < sp->sig->timestamp)
		return fail(sp, DKIM_SIG_SYNTAX, xstrdup("x= is before t="));
	return DKIM_SIG_OK;
}

static dkim_sig_status sig_query(sig_parse *sp, const dkim_tag *t)
{
	return list_has(t, "dns/txt", NULL) ? DKIM_SIG_OK
	       : fail(sp, DKIM_SIG_UNSUPPORTED, xstrdup("q= names no method we know (dns/txt)"));
}

/* In this order: v= and a= first (an unknown version or algorithm says
 * more than the tags that follow), t= before x= (x= is compared to it). */
static const struct {
	const char *name;
	bool required;
	dkim_sig_status (*check)(sig_parse *, const dkim_tag *);
} sig_tags[] = {
	{"v", true, sig_version},  {"a", true, sig_alg},       {"d", true, sig_domain},
	{"s", true, sig_selector}, {"h", true, sig_headers},   {"bh", true, sig_bh},
	{"b", true, sig_b},        {"c", false, sig_canon},    {"i", false, sig_identity},
	{"l", false, sig_length},  {"t", false, sig_time},     {"x", false, sig_expire},
	{"q", false, sig_query},
};

/* The tags a report names the signature by, taken before any check. */
static void sig_names(const dkim_taglist *l, dkim_sig *sig)
{
	const dkim_tag *t;
	if ((t = dkim_tags_get(l, "d")) != NULL) {
		sig->domain = dkim_tag_compact(t);
		str_ascii_lower(sig->domain);
	}
	if ((t = dkim_tags_get(l, "s")) != NULL)
		sig->selector = dkim_tag_compact(t);
	if ((t = dkim_tags_get(l, "a")) != NULL)
		sig->alg_name = dkim_tag_compact(t);
	if ((t = dkim_tags_get(l, "b")) != NULL)
		sig->b64 = dkim_tag_compact(t);
}

dkim_sig_status dkim_sig_parse(const char *value, size_t len, dkim_sig *sig, char **err_r)
{
	*sig = (dkim_sig){.length = -1, .timestamp = -1, .expire = -1};
	strlist_init(&sig->headers);
	dkim_taglist l;
	if (!dkim_tags_parse(value, len, &l, err_r))
		return DKIM_SIG_SYNTAX;
	sig_names(&l, sig);
	sig_parse sp = {.tags = &l, .sig = sig};
	dkim_sig_status st = DKIM_SIG_OK;
	for (size_t i = 0; st == DKIM_SIG_OK && i < sizeof(sig_tags) / sizeof(sig_tags[0]); i++) {
		const dkim_tag *t = dkim_tags_get(&l, sig_tags[i].name);
		if (t != NULL)
			st = sig_tags[i].check(&sp, t);
		else if (sig_tags[i].required)
			st = fail(&sp, DKIM_SIG_SYNTAX, xasprintf("missing tag %s=", sig_tags[i].name));
	}
	dkim_tags_free(&l);
	*err_r = sp.err;
	return st;
}

void dkim_sig_free(dkim_sig *sig)
{
	free(sig->domain);
	free(sig->selector);
	free(sig->alg_name);
	free(sig->b64);
	free(sig->identity);
	strlist_free(&sig->headers);
	free(sig->bh);
	free(sig->b);
	*sig = (dkim_sig){0};
}

/* ---- key records ---- */

static char *key_type(const dkim_tag *t, dkim_keyrec *k)
{
	if (t->value_len == 3 && str_ascii_nieq(t->value, "rsa", 3))
		k->type = DKIM_KEY_RSA;
	else if (t->value_len == 7 && str_ascii_nieq(t->value, "ed25519", 7))
		k->type = DKIM_KEY_ED25519;
	else
		k->type = DKIM_KEY_UNKNOWN;
	return NULL;
}

static char *key_flags(const dkim_tag *t, dkim_keyrec *k)
{
	k->testing = list_has(t, "y", NULL);
	k->strict = list_has(t, "s", NULL);
	return NULL;
}

static char *key_data(const dkim_tag *t, dkim_keyrec *k)
{
	if (t->value_len == 0)
		return NULL;   /* revoked */
	if (!tag_base64(t, &k->key, &k->key_len) || k->key_len == 0)
		return xstrdup("p= is not base64");
	return NULL;
}

static char *key_version(const dkim_tag *t, dkim_keyrec *k)
{
	return t->value_len == 5 && memcmp(t->value, "DKIM1", 5) == 0 ? NULL
	       : xasprintf("unknown key record version v=%.*s", (int)t->value_len, t->value);
}

bool dkim_keyrec_parse(const char *text, dkim_keyrec *k, char **err_r)
{
	*k = (dkim_keyrec){.type = DKIM_KEY_RSA, .sha256_ok = true, .email_ok = true};
	dkim_taglist l;
	if (!dkim_tags_parse(text, strlen(text), &l, err_r))
		return false;
	const dkim_tag *t;
	char *err = NULL;
	if ((t = dkim_tags_get(&l, "v")) != NULL && t != &l.tags[0])
		err = xstrdup("v= is not the first tag of the key record");
	else if (t != NULL)
		err = key_version(t, k);
	if (err == NULL && (t = dkim_tags_get(&l, "k")) != NULL)
		err = key_type(t, k);
	if (err == NULL && (t = dkim_tags_get(&l, "h")) != NULL)
		k->sha256_ok = list_has(t, "sha256", NULL);
	if (err == NULL && (t = dkim_tags_get(&l, "s")) != NULL)
		k->email_ok = list_has(t, "*", "email");
	if (err == NULL && (t = dkim_tags_get(&l, "t")) != NULL)
		err = key_flags(t, k);
	if (err == NULL && (t = dkim_tags_get(&l, "p")) == NULL)
		err = xstrdup("the key record has no p=");
	else if (err == NULL)
		err = key_data(t, k);
	dkim_tags_free(&l);
	if (err != NULL) {
		dkim_keyrec_free(k);
		*err_r = err;
		return false;
	}
	return true;
}

void dkim_keyrec_free(dkim_keyrec *k)
{
	free(k->key);
	k->key = NULL;
	k->key_len = 0;
}
