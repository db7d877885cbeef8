/* dkimkeys.c — DKIM key files and their DNS records (see dkimkeys.h).
 * Must not sign or verify: it only makes, finds and describes keys. */
#include "msgauth/dkimkeys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "msgauth/dkimcrypto.h"

/* File name suffix and OpenSSL key type of each algorithm we sign with. */
static const struct {
	dkim_alg alg;
	const char *suffix;
	const char *ktype;   /* k= */
	const char *ossl;
} algs[] = {
	{DKIM_ALG_RSA_SHA256, ".rsa.key", "rsa", "RSA"},
	{DKIM_ALG_ED25519_SHA256, ".ed25519.key", "ed25519", "ED25519"},
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static size_t alg_index(dkim_alg alg)
{
	return alg == DKIM_ALG_ED25519_SHA256 ? 1 : 0;
}

char *dkim_default_selector(dkim_alg alg, time_t now)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	return xasprintf("yb%04d%02d-%s", tm.tm_year + 1900, tm.tm_mon + 1, algs[alg_index(alg)].ktype);
}

static char *domain_dir(const char *data_dir, const char *domain)
{
	return xasprintf("%s/dkim/%s", data_dir, domain);
}

/* 0 when no key of any algorithm exists for selector, else an error. */
static char *selector_taken(const char *dir, const char *selector)
{
	for (size_t i = 0; i < N_ALGS; i++) {
		char *p = xasprintf("%s/%s%s", dir, selector, algs[i].suffix);
		bool exists = access(p, F_OK) == 0;
		char *err = exists ? xasprintf("%s already exists; a selector holds one key "
		                               "(choose another with --selector)", p) : NULL;
		free(p);
		if (err != NULL)
			return err;
	}
	return NULL;
}

/* Write key as PEM into a new file (O_EXCL, 0600), synced. */
static char *write_key(const char *path, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return xasprintf("cannot create %s: %s", path, strerror(errno));
	FILE *f = fdopen(fd, "w");
	bool ok = f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) &&
	          fflush(f) == 0 && fsync(fd) == 0;
	int saved = errno;
	ok = (f != NULL ? fclose(f) == 0 : close(fd) == 0) && ok;
	if (ok)
		return NULL;
	unlink(path);
	return xasprintf("cannot write %s: %s", path, strerror(saved ? saved : errno));
}

static void key_fill(dkim_key *k, const char *domain, const char *selector, dkim_alg alg,
		     EVP_PKEY *pkey, const char *path)
{
	*k = (dkim_key){.domain = xstrdup(domain), .selector = xstrdup(selector), .alg = alg,
	                .pkey = pkey, .path = xstrdup(path), .mtime = time(NULL)};
	str_ascii_lower(k->domain);
}

bool dkim_key_generate(const char *data_dir, const char *domain, const char *selector,
		       dkim_alg alg, dkim_key *key_r, char **err_r)
{
	if (!dkim_name_valid(domain) || !dkim_name_valid(selector)) {
		*err_r = xasprintf("\"%s\" or \"%s\" is not a valid DNS name", domain, selector);
		return false;
	}
	char *lower = xstrdup(domain);
	str_ascii_lower(lower);
	char *dir = domain_dir(data_dir, lower);
	char *top = xasprintf("%s/dkim", data_dir);
	char *err = NULL;
	if (!fs_mkdir_p(dir, 0700) || chmod(top, 0700) != 0 || chmod(dir, 0700) != 0)
		err = xasprintf("cannot create %s: %s", dir, strerror(errno));
	if (err == NULL)
		err = selector_taken(dir, selector);
	char *path = xasprintf("%s/%s%s", dir, selector, algs[alg_index(alg)].suffix);
	EVP_PKEY *key = NULL;
	if (err == NULL) {
		key = alg == DKIM_ALG_RSA_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)DKIM_RSA_BITS)
		                                 : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		err = key == NULL ? xstrdup("OpenSSL could not generate the key") : write_key(path, key);
	}
	if (err == NULL && !fs_fsync_dir(dir))
		err = xasprintf("cannot sync %s: %s", dir, strerror(errno));
	if (err == NULL)
		key_fill(key_r, lower, selector, alg, key, path);
	else
		EVP_PKEY_free(key);
	free(lower);
	free(path);
	free(top);
	free(dir);
	*err_r = err;
	return err == NULL;
}

/* The algorithm a file name says, and its selector (malloc'd). */
static bool parse_file_name(const char *name, dkim_alg *alg_r, char **selector_r)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < N_ALGS; i++) {
		size_t sl = strlen(algs[i].suffix);
		if (n > sl && strcmp(name + n - sl, algs[i].suffix) == 0) {
			*selector_r = xstrndup(name, n - sl);
			*alg_r = algs[i].alg;
			if (dkim_name_valid(*selector_r))
				return true;
			free(*selector_r);
		}
	}
	return false;
}

static EVP_PKEY *read_key(const char *path, time_t *mtime_r, char **err_r)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	*mtime_r = fstat(fileno(f), &st) == 0 ? st.st_mtime : 0;
	EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL)
		*err_r = xasprintf("%s: not a PEM private key", path);
	return key;
}

static void set_add(dkim_keyset *set, const dkim_key *k)
{
	set->keys = xrealloc(set->keys, (set->n + 1) * sizeof(*set->keys));
	set->keys[set->n++] = *k;
}

/* Every key file in data_dir/dkim/<domain>. */
static void load_domain(const char *data_dir, const char *domain, dkim_keyset *set, strlist *problems)
{
	char *dir = domain_dir(data_dir, domain);
	DIR *d = opendir(dir);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		dkim_alg alg;
		char *selector, *err = NULL;
		if (!parse_file_name(e->d_name, &alg, &selector))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		time_t mtime = 0;
		EVP_PKEY *key = read_key(path, &mtime, &err);
		dkim_alg real;
		if (key != NULL && (!dkim_crypto_key_alg(key, &real) || real != alg))
			err = xasprintf("%s: the key is not %s", path, algs[alg_index(alg)].ossl);
		if (err != NULL) {
			strlist_add_owned(problems, err);
			EVP_PKEY_free(key);
		} else {
			dkim_key k;
			key_fill(&k, domain, selector, alg, key, path);
			k.mtime = mtime;
			set_add(set, &k);
		}
		free(path);
		free(selector);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

static int key_order(const void *a, const void *b)
{
	const dkim_key *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);
	if (c != 0)
		return c;
	if (x->mtime != y->mtime)
		return x->mtime > y->mtime ? -1 : 1;
	return strcmp(y->selector, x->selector);
}

void dkim_keys_load(const char *data_dir, const char *domain, dkim_keyset *set, strlist *problems)
{
	*set = (dkim_keyset){0};
	if (domain != NULL) {
		char *lower = xstrdup(domain);
		str_ascii_lower(lower);
		if (dkim_name_valid(lower))
			load_domain(data_dir, lower, set, problems);
		free(lower);
	} else {
		char *top = xasprintf("%s/dkim", data_dir);
		DIR *d = opendir(top);
		for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
			if (dkim_name_valid(e->d_name))
				load_domain(data_dir, e->d_name, set, problems);
		if (d != NULL)
			closedir(d);
		free(top);
	}
	if (set->n > 1)
		qsort(set->keys, set->n, sizeof(*set->keys), key_order);
}

void dkim_key_free(dkim_key *k)
{
	free(k->domain);
	free(k->selector);
	free(k->path);
	EVP_PKEY_free(k->pkey);
	*k = (dkim_key){0};
}

void dkim_keyset_free(dkim_keyset *set)
{
	for (size_t i = 0; i < set->n; i++)
		dkim_key_free(&set->keys[i]);
	free(set->keys);
	*set = (dkim_keyset){0};
}

size_t dkim_keys_pick(const dkim_keyset *set, const char *domain, const char *selector,
		      const dkim_key *picked[2])
{
	const dkim_key *best[N_ALGS] = {0};
	for (size_t i = 0; i < set->n; i++) {   /* newest first: keep the first seen */
		const dkim_key *k = &set->keys[i];
		size_t a = alg_index(k->alg);
		if (best[a] == NULL && str_ascii_ieq(k->domain, domain) &&
		    (selector == NULL || strcmp(k->selector, selector) == 0))
			best[a] = k;
	}
	size_t n = 0;
	for (size_t a = 0; a < N_ALGS; a++)
		if (best[a] != NULL)
			picked[n++] = best[a];
	return n;
}

char *dkim_key_dns_name(const dkim_key *k)
{
	return xasprintf("%s._domainkey.%s", k->selector, k->domain);
}

char *dkim_key_txt_value(const dkim_key *k)
{
	char *p = dkim_crypto_public_text(k->pkey);
	char *v = xasprintf("v=DKIM1; k=%s; p=%s", algs[alg_index(k->alg)].ktype, p);
	free(p);
	return v;
}

char *dkim_key_txt_record(const dkim_key *k)
{
	char *name = dkim_key_dns_name(k), *value = dkim_key_txt_value(k);
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PRINTF(&b, "%s. IN TXT", name);
	for (size_t off = 0, n = strlen(value); off < n; off += 255)
		BUF_PRINTF(&b, " \"%.*s\"", (int)(n - off < 255 ? n - off : 255), value + off);
	free(name);
	free(value);
	return buf_steal(&b);
}

int dkim_key_bits(const dkim_key *k)
{
	return EVP_PKEY_get_bits(k->pkey);
}
