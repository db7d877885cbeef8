/* qfile.c — queue file records: formatting and validating parsing (see
 * qfile.h).  Values are written with control bytes replaced, so a record is
 * always one line. */
#include "queue/qfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "lib/sha256.h"
#include "lib/strutil.h"
#include "envelope/xtext.h"

/* Version 1 files have no checksum; version 2 files end their end record
 * with one.  Both are read; only version 2 is written. */
#define MAGIC_V1 "YUBIN-QUEUE 1\n"
#define MAGIC "YUBIN-QUEUE 2\n"
#define MAGIC_LEN 14

/* The checksum is OpenSSL's SHA-256 through EVP: OpenSSL is linked already
 * (zlib, whose crc32 would do, is not), it is maintained and uses the CPU's
 * SHA instructions, and unlike a 32-bit CRC it has no practical blind spot
 * for damage spread over many bytes. */
struct qfile_sum {
	EVP_MD_CTX *ctx;
};

qfile_sum *qfile_sum_new(void)
{
	qfile_sum *s = xmalloc(sizeof(*s));
	s->ctx = EVP_MD_CTX_new();
	if (s->ctx == NULL || EVP_DigestInit_ex(s->ctx, sha256_md(), NULL) != 1)
		abort(); /* out of memory, or a libcrypto without SHA-256: broken environment */
	return s;
}

void qfile_sum_update(qfile_sum *s, const void *data, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(s->ctx, data, n) != 1)
		abort();
}

void qfile_sum_free(qfile_sum **sp)
{
	if (*sp == NULL)
		return;
	EVP_MD_CTX_free((*sp)->ctx);
	free(*sp);
	*sp = NULL;
}

/* Finish s (it can take no more bytes) into hex. */
static void sum_hex(qfile_sum *s, char hex[QFILE_SUM_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(s->ctx, md, &n) != 1 || n * 2 != QFILE_SUM_HEX)
		abort();
	str_hex(md, n, hex);
}

qrcpt *qenvelope_add_rcpt(qenvelope *env, const char *address, char kind)
{
	env->rcpts = realloc(env->rcpts, sizeof(*env->rcpts) * (env->n_rcpts + 1));
	if (env->rcpts == NULL)
		abort();
	env->rcpts[env->n_rcpts] = (qrcpt){.address = xstrdup(address), .kind = kind};
	return &env->rcpts[env->n_rcpts++];
}

void qenvelope_truncate_rcpts(qenvelope *env, size_t n)
{
	for (size_t i = n; i < env->n_rcpts; i++) {
		free(env->rcpts[i].address);
		free(env->rcpts[i].status);
		free(env->rcpts[i].last_reply);
		free(env->rcpts[i].orcpt);
	}
	if (n < env->n_rcpts)
		env->n_rcpts = n;
}

void qenvelope_free_rcpts(qenvelope *env)
{
	qenvelope_truncate_rcpts(env, 0);
	free(env->rcpts);
	env->rcpts = NULL;
	env->n_rcpts = 0;
}

void qenvelope_free(qenvelope *env)
{
	free(env->id);
	free(env->sender);
	free(env->client);
	free(env->helo);
	free(env->auth_user);
	free(env->envid);
	qenvelope_free_rcpts(env);
	memset(env, 0, sizeof(*env));
}

static bool put_record(buf *out, const char *key, const char *value)
{
	if (!buf_puts(out, key) || !buf_putc(out, ' '))
		return false;
	for (const char *p = value ? value : ""; *p; p++)
		if (!buf_putc(out, (unsigned char)*p < 0x20 ? '?' : *p))
			return false;
	return buf_putc(out, '\n');
}

/* "key <xtext of value>\n" */
static bool put_xtext_record(buf *out, const char *key, const char *value)
{
	return buf_printf(out, "%s ", key) && xtext_encode(value, strlen(value), out) &&
	       buf_putc(out, '\n');
}

/* The optional DSN records: ret, envid, then notify / orcpt per recipient. */
static bool format_dsn_records(const qenvelope *env, buf *out)
{
	bool ok = env->ret == DSN_RET_UNSET || buf_printf(out, "ret %s\n", dsnparam_ret_name(env->ret));
	if (ok && env->envid != NULL)
		ok = put_xtext_record(out, "envid", env->envid);
	for (size_t i = 0; ok && i < env->n_rcpts; i++) {
		const qrcpt *r = &env->rcpts[i];
		if (r->notify != 0)
			ok = buf_printf(out, "notify %zu ", i) && dsnparam_notify_format(r->notify, out) &&
			     buf_putc(out, '\n');
		const char *semi = r->orcpt ? strchr(r->orcpt, ';') : NULL;
		if (ok && semi != NULL)
			ok = buf_printf(out, "orcpt %zu %.*s", i, (int)(semi + 1 - r->orcpt), r->orcpt) &&
			     xtext_encode(semi + 1, strlen(semi + 1), out) && buf_putc(out, '\n');
	}
	return ok;
}

bool qfile_format_header(const qenvelope *env, buf *out)
{
	bool ok = buf_puts(out, MAGIC) && put_record(out, "id", env->id) &&
	          buf_printf(out, "time %lld\n", (long long)env->time) &&
	          put_record(out, "from", env->sender) && put_record(out, "client", env->client) &&
	          put_record(out, "helo", env->helo) &&
	          put_record(out, "auth", env->auth_user ? env->auth_user : "-") &&
	          buf_printf(out, "utf8 %d\n", env->utf8 ? 1 : 0) &&
	          (env->nonce[0] == '\0' || buf_printf(out, "nonce %s\n", env->nonce));
	for (size_t i = 0; ok && i < env->n_rcpts; i++) {
		char key[8] = {'r', 'c', 'p', 't', ' ', env->rcpts[i].kind, '\0'};
		ok = put_record(out, key, env->rcpts[i].address);
	}
	return ok && format_dsn_records(env, out) &&
	       (!env->requiretls || buf_puts(out, "requiretls\n")) && buf_puts(out, "body\n");
}

bool qfile_format_state(buf *out, const char *kind, size_t idx, const char *a, const char *b)
{
	bool ok = buf_printf(out, "%s %zu", kind, idx);
	for (const char *v = a; ok && v != NULL; v = (v == a ? b : NULL)) {
		ok = buf_putc(out, ' ');
		for (const char *p = v; ok && *p; p++)
			ok = buf_putc(out, (unsigned char)*p < 0x20 ? ' ' : *p);
	}
	return ok && buf_putc(out, '\n');
}

void qfile_new_nonce(qenvelope *env)
{
	unsigned char raw[QFILE_NONCE_LEN / 2];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		abort(); /* the kernel's random source failing is a broken environment */
	str_hex(raw, sizeof raw, env->nonce);
}

bool qfile_format_trailer(const char *nonce, uint64_t body_len, qfile_sum *sum, buf *out)
{
	char hex[QFILE_SUM_HEX + 1];
	qfile_sum_update(sum, "\n", 1);
	sum_hex(sum, hex);
	return buf_printf(out, "\nend %llu%s%s %s\n", (unsigned long long)body_len,
	                  nonce[0] ? " " : "", nonce, hex);
}

/* Next line in [*p, end): sets line and n, and advances; false at the end or
 * when the rest has no newline. */
static bool next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (nl == NULL)
		return false;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl + 1;
	return true;
}

static bool starts(const char *line, size_t n, const char *key, const char **val)
{
	size_t k = strlen(key);
	if (n < k || memcmp(line, key, k) != 0)
		return false;
	*val = line + k;
	return true;
}

/* Store a record's value; a record that appears twice makes the file invalid. */
static bool set_once(char **field, const char *v, size_t n)
{
	if (*field != NULL)
		return false;
	*field = xstrndup(v, n);
	return true;
}

/* xtext v[0..n) decoded into a malloc'd string; NULL when it is not xtext
 * or decodes to a NUL. */
static char *decode_xtext(const char *v, size_t n)
{
	buf b;
	buf_init(&b, n + 1);
	char *s = NULL;
	if (n > 0 && xtext_decode(v, n, &b) && memchr(b.data, '\0', b.len) == NULL)
		s = buf_steal(&b);
	buf_free(&b);
	return s;
}

static qrcpt *record_rcpt(qenvelope *env, const char *v, size_t n, const char **rest, size_t *rest_n);

/* The DSN records (see qfile.h); false when malformed or repeated. */
static bool parse_dsn_line(qenvelope *env, const char *line, size_t n)
{
	const char *v, *rest;
	size_t rn;
	qrcpt *r;
	if (starts(line, n, "ret ", &v)) {
		return env->ret == DSN_RET_UNSET && dsnparam_parse_ret(v, n - 4, &env->ret);
	} else if (starts(line, n, "envid ", &v)) {
		return env->envid == NULL && (env->envid = decode_xtext(v, n - 6)) != NULL;
	} else if (starts(line, n, "notify ", &v)) {
		return (r = record_rcpt(env, v, n - 7, &rest, &rn)) != NULL && r->notify == 0 &&
		       dsnparam_parse_notify(rest, rn, &r->notify);
	} else if (starts(line, n, "orcpt ", &v)) {
		if ((r = record_rcpt(env, v, n - 6, &rest, &rn)) == NULL || r->orcpt != NULL)
			return false;
		const char *semi = memchr(rest, ';', rn);
		size_t tl = semi ? (size_t)(semi - rest) : 0;
		bool typed = (tl == 6 && memcmp(rest, "rfc822", 6) == 0) ||
		             (tl == 5 && memcmp(rest, "utf-8", 5) == 0);
		char *a = typed ? decode_xtext(semi + 1, rn - tl - 1) : NULL;
		if (a != NULL)
			r->orcpt = xasprintf("%.*s;%s", (int)tl, rest, a);
		free(a);
		return r->orcpt != NULL;
	}
	return false;
}

static bool parse_header_line(qenvelope *env, const char *line, size_t n)
{
	const char *v;
	if (starts(line, n, "id ", &v))
		return set_once(&env->id, v, n - 3);
	if (starts(line, n, "from ", &v))
		return set_once(&env->sender, v, n - 5);
	if (starts(line, n, "client ", &v))
		return set_once(&env->client, v, n - 7);
	if (starts(line, n, "helo ", &v))
		return set_once(&env->helo, v, n - 5);
	if (starts(line, n, "auth ", &v))
		return (n - 5 == 1 && v[0] == '-') || set_once(&env->auth_user, v, n - 5);
	if (starts(line, n, "time ", &v)) {
		char *tmp = xstrndup(v, n - 5);
		env->time = (time_t)strtoll(tmp, NULL, 10);
		free(tmp);
		return true;
	}
	if (starts(line, n, "utf8 ", &v)) {
		env->utf8 = n > 5 && v[0] == '1';
		return true;
	}
	if (n == 10 && memcmp(line, "requiretls", 10) == 0) {
		if (env->requiretls)
			return false; /* repeated */
		env->requiretls = true;
		return true;
	}
	if (starts(line, n, "nonce ", &v)) {
		if (env->nonce[0] != '\0' || n - 6 != QFILE_NONCE_LEN)
			return false;
		memcpy(env->nonce, v, QFILE_NONCE_LEN);
		env->nonce[QFILE_NONCE_LEN] = '\0';
		return true;
	}
	if (starts(line, n, "rcpt ", &v) && n > 7 && (v[0] == 'L' || v[0] == 'R') && v[1] == ' ') {
		char *a = xstrndup(v + 2, n - 7);
		qenvelope_add_rcpt(env, a, v[0]);
		free(a);
		return true;
	}
	return parse_dsn_line(env, line, n);
}

/* A decimal number of 1 to 19 digits and nothing else. */
static bool parse_decimal(const char *v, size_t n, unsigned long long *out)
{
	if (n == 0 || n > 19)
		return false;
	unsigned long long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* "end <len>" or "end <len> <nonce>", matching the header's nonce; in a
 * version 2 file followed by " <checksum>", which *sum_r then points to. */
static bool parse_end(const qenvelope *env, bool v2, const char *v, size_t n,
                      unsigned long long *len, const char **sum_r)
{
	*sum_r = NULL;
	if (v2) {
		if (n < QFILE_SUM_HEX + 2 || v[n - QFILE_SUM_HEX - 1] != ' ')
			return false;
		*sum_r = v + n - QFILE_SUM_HEX;
		n -= QFILE_SUM_HEX + 1;
	}
	size_t nl = strlen(env->nonce);
	if (nl > 0) {
		if (n < nl + 2 || v[n - nl - 1] != ' ' || memcmp(v + n - nl, env->nonce, nl) != 0)
			return false;
		n -= nl + 1;
	}
	return parse_decimal(v, n, len);
}

/* "<index> <rest>": the recipient the record is about, or NULL. */
static qrcpt *record_rcpt(qenvelope *env, const char *v, size_t n, const char **rest, size_t *rest_n)
{
	const char *sp = memchr(v, ' ', n);
	size_t idx_len = sp ? (size_t)(sp - v) : n;
	unsigned long long idx;
	if (!parse_decimal(v, idx_len, &idx) || idx >= env->n_rcpts)
		return NULL;
	*rest = sp ? sp + 1 : v + n;
	*rest_n = sp ? n - idx_len - 1 : 0;
	return &env->rcpts[idx];
}

/* One delivery-state record after the end record, read from the back: the
 * first one seen for a field is the latest and wins.  A malformed record (a
 * torn append) changes nothing. */
static bool parse_state_record(qenvelope *env, const char *ls, size_t n, bool *seen_next,
                               bool *seen_hold)
{
	const char *v, *rest;
	size_t rn;
	qrcpt *r;
	if (starts(ls, n, "done ", &v)) {
		if (memchr(v, ' ', n - 5) == NULL && (r = record_rcpt(env, v, n - 5, &rest, &rn)) != NULL)
			r->done = true;
	} else if (starts(ls, n, "fail ", &v)) {
		if ((r = record_rcpt(env, v, n - 5, &rest, &rn)) != NULL && !r->failed) {
			const char *sp = memchr(rest, ' ', rn);
			size_t sl = sp ? (size_t)(sp - rest) : rn;
			r->failed = true;
			r->status = xstrndup(rest, sl);
			free(r->last_reply);
			r->last_reply = sp ? xstrndup(sp + 1, rn - sl - 1) : xstrdup("");
		}
	} else if (starts(ls, n, "defer ", &v)) {
		if ((r = record_rcpt(env, v, n - 6, &rest, &rn)) != NULL && r->last_reply == NULL)
			r->last_reply = xstrndup(rest, rn);
	} else if (starts(ls, n, "next ", &v)) {
		const char *sp = memchr(v, ' ', n - 5);
		unsigned long long t, a;
		if (!*seen_next && sp != NULL && parse_decimal(v, (size_t)(sp - v), &t) &&
		    parse_decimal(sp + 1, n - 5 - (size_t)(sp - v) - 1, &a)) {
			env->next_attempt = (time_t)t;
			env->attempts = (int)a;
			*seen_next = true;
		}
	} else if (n == 6 && memcmp(ls, "warned", 6) == 0) {
		env->warned = true;
	} else if (n == 4 && memcmp(ls, "junk", 4) == 0) {
		env->junk = true;
	} else if ((n == 4 && memcmp(ls, "held", 4) == 0) || (n == 8 && memcmp(ls, "released", 8) == 0)) {
		if (!*seen_hold)
			env->held = n == 4;
		*seen_hold = true;
	} else {
		return false;
	}
	return true;
}

/* Find the "end" record: strip delivery-state records from the back until
 * the last line is the end record with a length matching the body.  Returns
 * the error sentence, or NULL when the file is whole (and, in a version 2
 * file, its checksum over data up to the end record matches). */
static const char *parse_tail(qenvelope *env, bool v2, const char *data, const char *body,
                              const char *end, size_t *body_len_r)
{
	const char *stop = end;
	bool seen_next = false, seen_hold = false;
	while (stop > body && stop[-1] != '\n')
		stop--; /* ignore a torn last line */
	while (stop > body) {
		const char *ls = stop - 1;
		while (ls > body && ls[-1] != '\n')
			ls--;
		size_t n = (size_t)(stop - 1 - ls);
		const char *v, *want;
		unsigned long long num;
		/* body, then the "\n" that opens the trailer, then the end record */
		if (starts(ls, n, "end ", &v) && parse_end(env, v2, v, n - 4, &num, &want) && ls > body &&
		    (size_t)(ls - 1 - body) == num && ls[-1] == '\n') {
			*body_len_r = (size_t)num;
			if (want == NULL)
				return NULL;
			char got[QFILE_SUM_HEX + 1];
			qfile_sum *sum = qfile_sum_new();
			qfile_sum_update(sum, data, (size_t)(ls - data));
			sum_hex(sum, got);
			qfile_sum_free(&sum);
			return memcmp(got, want, QFILE_SUM_HEX) == 0
			               ? NULL
			               : "checksum mismatch: the file changed after it was written";
		}
		if (!parse_state_record(env, ls, n, &seen_next, &seen_hold))
			break;
		stop = ls;
	}
	return "end record missing or wrong: the file is torn";
}

bool qfile_parse(const char *data, size_t len, qenvelope *env, const char **body_r,
                 size_t *body_len_r, const char **err_r)
{
	memset(env, 0, sizeof(*env));
	const char *p = data, *end = data + len, *line;
	size_t n;
	*err_r = "not a yubin queue file";
	if (len < MAGIC_LEN)
		return false;
	bool v2 = memcmp(data, MAGIC, MAGIC_LEN) == 0;
	if (!v2 && memcmp(data, MAGIC_V1, MAGIC_LEN) != 0)
		return false;
	p += MAGIC_LEN;
	for (;;) {
		if (!next_line(&p, end, &line, &n)) {
			*err_r = "header records are cut off";
			goto fail;
		}
		if (n == 4 && memcmp(line, "body", 4) == 0)
			break;
		if (!parse_header_line(env, line, n)) {
			*err_r = "unknown header record";
			goto fail;
		}
	}
	if (env->id == NULL || env->sender == NULL || env->n_rcpts == 0) {
		*err_r = "id, from or rcpt record missing";
		goto fail;
	}
	if ((*err_r = parse_tail(env, v2, data, p, end, body_len_r)) != NULL)
		goto fail;
	*body_r = p;
	return true;
fail:
	qenvelope_free(env);
	return false;
}
