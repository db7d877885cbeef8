/* srs.c — SRS0/SRS1 addresses: make them (forward), check and read them
 * back (reverse), and the secret file (see srs.h).  Owns the scheme only:
 * which mail is forwarded, and what a refused address answers, are the
 * callers' (delivery/outbound.c, smtp/commands.c).  Never logs. */
#include "rewrite/srs.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"

#define SRS_HASH_LEN 4
#define SRS_DAY 86400
#define SRS_TIME_SLOTS 1024
#define SRS_SECRET_MAX 4096
#define SRS_LOCAL_MAX 64        /* RFC 5321 4.5.3.1.1 */

static const char time_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* "SRS0" / "SRS1" followed by one of the separators libsrs2 accepts. */
static bool has_tag(const char *local, char digit)
{
	return str_ascii_nieq(local, "SRS", 3) && local[3] == digit && local[4] != '\0' &&
	       strchr("=-+", local[4]) != NULL;
}

bool srs_is_srs(const char *address)
{
	return address != NULL && (has_tag(address, '0') || has_tag(address, '1'));
}

/* The hash of the fields (each lower-cased) with one secret. */
static void hash_with(const char *secret, const char *const *fields, size_t n, char out[SRS_HASH_LEN + 1])
{
	buf data;
	buf_init(&data, BUF_UNBOUNDED);
	for (size_t i = 0; i < n; i++)
		for (const char *p = fields[i]; *p; p++)
			BUF_PUTC(&data, (char)tolower((unsigned char)*p));
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)(data.data ? data.data : ""),
	     data.len, md, &md_len);
	buf_free(&data);
	out[0] = b64_chars[md[0] >> 2];
	out[1] = b64_chars[((md[0] & 0x03) << 4) | (md[1] >> 4)];
	out[2] = b64_chars[((md[1] & 0x0f) << 2) | (md[2] >> 6)];
	out[3] = b64_chars[md[2] & 0x3f];
	out[4] = '\0';
}

/* Does hash match the fields under any of the secrets? */
static bool hash_ok(const srs_config *c, const char *hash, const char *const *fields, size_t n)
{
	if (strlen(hash) != SRS_HASH_LEN)
		return false;
	char want[SRS_HASH_LEN + 1];
	bool ok = false;
	for (size_t i = 0; i < c->secrets->n; i++) {
		hash_with(c->secrets->items[i], fields, n, want);
		ok |= str_ascii_ieq(want, hash);
	}
	return ok;
}

static void stamp_make(time_t now, char out[3])
{
	unsigned long days = (unsigned long)(now / SRS_DAY);
	out[1] = time_chars[days & 31];
	out[0] = time_chars[(days >> 5) & 31];
	out[2] = '\0';
}

static srs_status stamp_check(const srs_config *c, const char *stamp, time_t now)
{
	if (strlen(stamp) != 2)
		return SRS_BAD_TIME;
	long then = 0;
	for (const char *p = stamp; *p; p++) {
		const char *at = strchr(time_chars, toupper((unsigned char)*p));
		if (at == NULL || *p == '\0')
			return SRS_BAD_TIME;
		then = (then << 5) | (long)(at - time_chars);
	}
	long today = (long)((now / SRS_DAY) % SRS_TIME_SLOTS);
	while (today < then)
		today += SRS_TIME_SLOTS;
	return today - then <= c->max_age ? SRS_OK : SRS_EXPIRED;
}

/* Split s at its next '=': the part after it, or NULL; s is cut there. */
static char *cut(char *s)
{
	char *eq = s != NULL ? strchr(s, '=') : NULL;
	if (eq == NULL)
		return NULL;
	*eq = '\0';
	return eq + 1;
}

srs_status srs_forward(const srs_config *c, const char *sender, time_t now, char **out_r)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;
	if (at == NULL || at == sender || at[1] == '\0' || strchr(at + 1, '=') != NULL)
		return SRS_NO_REWRITE; /* no domain, or one no SRS address could carry back */
	if (c->secrets == NULL || c->secrets->n == 0)
		return SRS_NO_SECRET;
	char *user = xstrndup(sender, (size_t)(at - sender));
	const char *host = at + 1;
	const char *secret = c->secrets->items[0];
	char hash[SRS_HASH_LEN + 1];
	srs_status st = SRS_OK;
	if (has_tag(user, '1')) {
		/* SRS1=HHHH=firsthost==rest: keep the first forwarder, new hash */
		char *fhost = cut(user + 5), *fuser = cut(fhost);
		/* the rest is the first forwarder's SRS0 local part after "SRS0":
		 * it starts with a separator */
		if (fhost == NULL || fuser == NULL || *fhost == '\0' || strchr("=-+", *fuser) == NULL || *fuser == '\0') {
			st = SRS_BAD_FORMAT;
		} else {
			const char *f[] = {fhost, fuser};
			hash_with(secret, f, 2, hash);
			*out_r = xasprintf("SRS1=%s=%s=%s@%s", hash, fhost, fuser, c->domain);
		}
	} else if (has_tag(user, '0')) {
		/* SRS0<sep>rest@host becomes SRS1=HHHH=host=<sep>rest */
		const char *f[] = {host, user + 4};
		hash_with(secret, f, 2, hash);
		*out_r = xasprintf("SRS1=%s=%s=%s@%s", hash, host, user + 4, c->domain);
	} else {
		char stamp[3];
		stamp_make(now, stamp);
		const char *f[] = {stamp, host, user};
		hash_with(secret, f, 3, hash);
		*out_r = xasprintf("SRS0=%s=%s=%s=%s@%s", hash, stamp, host, user, c->domain);
	}
	free(user);
	const char *at_out = st == SRS_OK ? strrchr(*out_r, '@') : NULL;
	if (at_out != NULL && (at_out - *out_r > SRS_LOCAL_MAX || sender[0] == '"')) {
		free(*out_r);
		*out_r = NULL;
		st = SRS_TOO_LONG;
	}
	return st;
}

static srs_status reverse_srs1(const srs_config *c, char *local, char **out_r)
{
	char *hash = local + 5, *host = cut(hash), *user = cut(host);
	if (host == NULL || user == NULL || *host == '\0' || *user == '\0')
		return SRS_BAD_FORMAT;
	const char *f[] = {host, user};
	if (!hash_ok(c, hash, f, 2))
		return SRS_BAD_HASH;
	*out_r = xasprintf("SRS0%s@%s", user, host);
	return SRS_OK;
}

static srs_status reverse_srs0(const srs_config *c, char *local, time_t now, char **out_r)
{
	char *hash = local + 5, *stamp = cut(hash), *host = cut(stamp), *user = cut(host);
	if (stamp == NULL || host == NULL || user == NULL || *host == '\0' || *user == '\0')
		return SRS_BAD_FORMAT;
	const char *f[] = {stamp, host, user};
	if (!hash_ok(c, hash, f, 3))
		return SRS_BAD_HASH;
	srs_status st = stamp_check(c, stamp, now);
	if (st == SRS_OK)
		*out_r = xasprintf("%s@%s", user, host);
	return st;
}

srs_status srs_reverse(const srs_config *c, const char *address, time_t now, char **out_r)
{
	if (!srs_is_srs(address))
		return SRS_NOT_SRS;
	if (c->secrets == NULL || c->secrets->n == 0)
		return SRS_NO_SECRET;
	const char *at = strrchr(address, '@');
	char *local = at ? xstrndup(address, (size_t)(at - address)) : xstrdup(address);
	srs_status st = has_tag(local, '1') ? reverse_srs1(c, local, out_r) : reverse_srs0(c, local, now, out_r);
	free(local);
	return st;
}

const char *srs_status_text(srs_status st)
{
	static const char *const text[] = {
		[SRS_OK] = "ok",
		[SRS_NOT_SRS] = "not an SRS address",
		[SRS_NO_REWRITE] = "no address to rewrite",
		[SRS_BAD_FORMAT] = "an SRS address with a field missing",
		[SRS_BAD_HASH] = "an SRS address whose hash does not match (forged)",
		[SRS_BAD_TIME] = "an SRS address with a malformed time stamp",
		[SRS_EXPIRED] = "an SRS address older than rewrite.srs.max_age days",
		[SRS_NO_SECRET] = "no SRS secret",
		[SRS_TOO_LONG] = "the SRS address would have a local part longer than 64 octets, or the sender's is quoted",
	};
	return (size_t)st < sizeof text / sizeof text[0] ? text[st] : "unknown SRS status";
}

/* ---- the secret file ---- */

bool srs_secrets_load(const char *path, strlist *out, char **err_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*err_r = xasprintf("%s: cannot open the SRS secret file: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
		fclose(f);
		*err_r = xasprintf("%s: the SRS secret file must not be readable by group or others (chmod 600)", path);
		return false;
	}
	char line[SRS_SECRET_MAX];
	while (fgets(line, sizeof line, f) != NULL) {
		size_t n = strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (n > 0 && line[0] != '#')
			strlist_add(out, line);
	}
	fclose(f);
	explicit_bzero(line, sizeof line);
	if (out->n == 0) {
		*err_r = xasprintf("%s: the SRS secret file has no secret in it", path);
		return false;
	}
	return true;
}

bool srs_secrets_create(const char *path, bool *created_r, char **err_r)
{
	*created_r = false;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return true;
	if (fd < 0) {
		*err_r = xasprintf("%s: cannot create the SRS secret file: %s", path, strerror(errno));
		return false;
	}
	unsigned char raw[24];
	char text[sizeof raw * 4 / 3 + 4];
	bool ok = RAND_bytes(raw, sizeof raw) == 1;
	int n = ok ? EVP_EncodeBlock((unsigned char *)text, raw, sizeof raw) : 0;
	if (ok) {
		text[n++] = '\n';
		ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	}
	ok = close(fd) == 0 && ok;
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(text, sizeof text);
	if (!ok) {
		unlink(path);
		*err_r = xasprintf("%s: cannot write the SRS secret file", path);
		return false;
	}
	*created_r = true;
	return true;
}
