/* password.c — hashing and checking passwords with libxcrypt (see
 * password.h).  Owns the list of hash kinds we accept and their shape checks.
 * It must not keep any state between calls: every call gets its own crypt
 * work area (crypt_ra) so that worker threads can hash at the same time, and
 * that area is wiped before it is freed because it held the password. */
#include "auth/password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

/* Characters of the crypt(3) base-64 alphabet. */
static bool pw_is_b64(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '/';
}

/* Length of the run of base-64 characters at s. */
static size_t pw_b64_span(const char *s)
{
	size_t n = 0;
	while (pw_is_b64(s[n]))
		n++;
	return n;
}

/* $y$<params>$<salt>$<43 chars>: three non-empty base-64 fields. */
static bool pw_shape_yescrypt(const char *s)
{
	size_t params = pw_b64_span(s);
	if (params == 0 || s[params] != '$')
		return false;
	s += params + 1;
	size_t salt = pw_b64_span(s);
	if (salt == 0 || s[salt] != '$')
		return false;
	s += salt + 1;
	return pw_b64_span(s) == 43 && s[43] == '\0';
}

/* $6$[rounds=N$]<salt, 1..16>$<86 chars>. */
static bool pw_shape_sha512(const char *s)
{
	if (strncmp(s, "rounds=", 7) == 0) {
		size_t digits = strspn(s + 7, "0123456789");
		if (digits == 0 || digits > 9 || s[7 + digits] != '$')
			return false;
		s += 7 + digits + 1;
	}
	size_t salt = pw_b64_span(s);
	if (salt == 0 || salt > 16 || s[salt] != '$')
		return false;
	s += salt + 1;
	return pw_b64_span(s) == 86 && s[86] == '\0';
}

/* $2b$<two-digit cost 04..31>$<22 chars salt + 31 chars hash>. */
static bool pw_shape_bcrypt(const char *s)
{
	if (strspn(s, "0123456789") != 2 || s[2] != '$')
		return false;
	int cost = (s[0] - '0') * 10 + (s[1] - '0');
	if (cost < 4 || cost > 31)
		return false;
	s += 3;
	return pw_b64_span(s) == 53 && s[53] == '\0';
}

static const struct pw_kind {
	const char *prefix;
	bool (*shape)(const char *rest);
} pw_kinds[] = {
	{ "$y$", pw_shape_yescrypt },
	{ "$6$", pw_shape_sha512 },
	{ "$2b$", pw_shape_bcrypt },
};

bool password_hash_supported(const char *hash)
{
	if (hash == NULL)
		return false;
	for (size_t i = 0; i < sizeof(pw_kinds) / sizeof(pw_kinds[0]); i++) {
		size_t n = strlen(pw_kinds[i].prefix);
		if (strncmp(hash, pw_kinds[i].prefix, n) == 0)
			return pw_kinds[i].shape(hash + n) &&
			       crypt_checksalt(hash) == CRYPT_SALT_OK;
	}
	return false;
}

/* crypt(3) of plain with setting, as a malloc'd copy; NULL when libcrypt
 * fails or returns one of its failure tokens ("*0", "*1", ...). */
static char *pw_crypt(const char *plain, const char *setting)
{
	void *data = NULL;
	int size = 0;
	char *out = crypt_ra(plain, setting, &data, &size);
	char *copy = NULL;
	if (out != NULL && out[0] != '*' && out[0] != '!')
		copy = xstrdup(out);
	if (data != NULL) {
		explicit_bzero(data, (size_t)size);
		free(data);
	}
	return copy;
}

char *password_hash(const char *plain)
{
	if (plain == NULL)
		return NULL;
	char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL)
		return NULL;
	char *hash = pw_crypt(plain, setting);
	free(setting);
	return hash;
}

bool password_verify(const char *plain, const char *hash)
{
	if (plain == NULL || !password_hash_supported(hash))
		return false;
	char *computed = pw_crypt(plain, hash);
	if (computed == NULL)
		return false;
	bool ok = str_secure_eq(computed, hash);
	free(computed);
	return ok;
}
