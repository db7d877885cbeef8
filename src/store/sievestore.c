/* sievestore.c — Sieve scripts as files (see sievestore.h).
 *
 * File names: the script name's octets, with '/', '%' and a leading '.'
 * written as %XX, then ".sieve".  So a name can never leave the folder,
 * never clash with .active, .lock or a file being written (".tmp" at the
 * end), and the name is read back exactly from the file name. */
#include "store/sievestore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/strutil.h"
#include "lib/utf8.h"

#define SUFFIX ".sieve"
#define ACTIVE_FILE ".active"
#define LOCK_FILE ".lock"
/* A file name is at most 255 octets; ".tmp" is added while writing. */
#define FILE_NAME_MAX 240

char *sievestore_dir(const char *maildir)
{
	return xasprintf("%s/sieve", maildir);
}

static bool escaped(unsigned char b, size_t i)
{
	return b == '/' || b == '%' || (i == 0 && b == '.');
}

static char *file_name(const char *name)
{
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	for (size_t i = 0; name[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (escaped(ch, i))
			BUF_PRINTF(&b, "%%%02X", ch);
		else
			BUF_PUTC(&b, (char)ch);
	}
	BUF_PUTS(&b, SUFFIX);
	return buf_steal(&b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The script name of a file name, or NULL when it is not a script's. */
static char *name_of(const char *file)
{
	size_t len = strlen(file), sl = strlen(SUFFIX);
	if (file[0] == '.' || len <= sl || strcmp(file + len - sl, SUFFIX) != 0)
		return NULL;
	char *out = xmalloc(len);
	size_t o = 0;
	for (size_t i = 0; i < len - sl; i++) {
		if (file[i] == '%' && i + 2 < len - sl && hexval(file[i + 1]) >= 0 && hexval(file[i + 2]) >= 0) {
			out[o++] = (char)(hexval(file[i + 1]) * 16 + hexval(file[i + 2]));
			i += 2;
		} else {
			out[o++] = file[i];
		}
	}
	out[o] = '\0';
	return out;
}

bool sievestore_name_valid(const char *name, size_t len, const char **why_r)
{
	if (len == 0) {
		*why_r = "A script name cannot be empty";
		return false;
	}
	if (len > SIEVESTORE_NAME_MAX) {
		*why_r = "Script name too long (at most 128 octets)";
		return false;
	}
	size_t flen = strlen(SUFFIX);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = imap_utf8_decode((const unsigned char *)name + i, len - i, &cp);
		if (n == 0) {
			*why_r = "A script name must be UTF-8";
			return false;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
			*why_r = "A script name cannot hold control characters";
			return false;
		}
		flen += escaped((unsigned char)name[i], i) ? 3 : n;
		i += n;
	}
	if (flen > FILE_NAME_MAX) {
		*why_r = "Script name too long";
		return false;
	}
	return true;
}

/* ---- the lock, the active marker ---- */

/* An exclusive lock on the account's scripts; -1 with errno.  create: make
 * the folder when missing (else a missing folder is ENOENT). */
static int lock_dir(const char *dir, bool create)
{
	if (create && !fs_mkdir_p(dir, 0700))
		return -1;
	char *path = xasprintf("%s/%s", dir, LOCK_FILE);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) != 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void unlock_dir(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the lock */
}

/* The active script's file name, or NULL (none, or it is gone). */
static char *active_file(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, ACTIVE_FILE);
	char *f = fs_read_file(path, FILE_NAME_MAX + 1, NULL);
	free(path);
	if (f == NULL)
		return NULL;
	char *script = xasprintf("%s/%s", dir, f);
	bool there = strchr(f, '/') == NULL && access(script, F_OK) == 0;
	free(script);
	if (!there) {
		free(f);
		return NULL;
	}
	return f;
}

static bool exists(const char *dir, const char *file)
{
	char *path = xasprintf("%s/%s", dir, file);
	bool r = access(path, F_OK) == 0;
	free(path);
	return r;
}

/* ---- listing ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const sievestore_script *)a)->name, ((const sievestore_script *)b)->name);
}

static sievestore_status list_locked(const char *dir, sievestore_script **list_r, size_t *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? SIEVESTORE_OK : SIEVESTORE_ERROR;
	char *active = active_file(dir);
	size_t n = 0, cap = 0;
	sievestore_script *v = NULL;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *name = name_of(e->d_name);
		struct stat st;
		if (name == NULL || fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) {
			free(name);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (sievestore_script){name, (size_t)st.st_size,
		                         active != NULL && strcmp(active, e->d_name) == 0};
	}
	closedir(d);
	free(active);
	if (n > 1)
		qsort(v, n, sizeof(*v), by_name);
	*list_r = v;
	*n_r = n;
	return SIEVESTORE_OK;
}

void sievestore_scripts_free(sievestore_script **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].name);
	free(*list);
	*list = NULL;
}

sievestore_status sievestore_list(const char *dir, sievestore_script **list_r, size_t *n_r)
{
	int lk = lock_dir(dir, false);
	if (lk < 0 && errno != ENOENT)
		return SIEVESTORE_ERROR;
	sievestore_status st = list_locked(dir, list_r, n_r);
	unlock_dir(lk);
	return st;
}

static size_t count_scripts(const char *dir)
{
	sievestore_script *v;
	size_t n;
	if (list_locked(dir, &v, &n) != SIEVESTORE_OK)
		return SIZE_MAX;
	sievestore_scripts_free(&v, n);
	return n;
}

/* ---- reading ---- */

sievestore_status sievestore_get(const char *dir, const char *name, size_t max, char **text_r,
                                     size_t *len_r)
{
	char *f = file_name(name);
	char *path = xasprintf("%s/%s", dir, f);
	free(f);
	*text_r = fs_read_file(path, max, len_r);
	int err = errno;
	free(path);
	if (*text_r != NULL)
		return SIEVESTORE_OK;
	errno = err;
	return err == ENOENT ? SIEVESTORE_NONEXISTENT : SIEVESTORE_ERROR;
}

/* ---- changes ---- */

sievestore_status sievestore_havespace(const char *dir, const char *name, int max_scripts)
{
	int lk = lock_dir(dir, false);
	if (lk < 0 && errno != ENOENT)
		return SIEVESTORE_ERROR;
	char *f = file_name(name);
	sievestore_status st = SIEVESTORE_OK;
	if (!exists(dir, f)) {
		size_t n = count_scripts(dir);
		st = n == SIZE_MAX ? SIEVESTORE_ERROR
		     : n >= (size_t)max_scripts ? SIEVESTORE_MAXSCRIPTS : SIEVESTORE_OK;
	}
	free(f);
	unlock_dir(lk);
	return st;
}

sievestore_status sievestore_put(const char *dir, const char *name, const char *text, size_t len,
                                     int max_scripts)
{
	int lk = lock_dir(dir, true);
	if (lk < 0)
		return SIEVESTORE_ERROR;
	char *f = file_name(name);
	sievestore_status st = SIEVESTORE_OK;
	if (!exists(dir, f)) {
		size_t n = count_scripts(dir);
		if (n == SIZE_MAX)
			st = SIEVESTORE_ERROR;
		else if (n >= (size_t)max_scripts)
			st = SIEVESTORE_MAXSCRIPTS;
	}
	if (st == SIEVESTORE_OK && !fs_replace_file(dir, f, text, len))
		st = SIEVESTORE_ERROR;
	free(f);
	unlock_dir(lk);
	return st;
}

sievestore_status sievestore_delete(const char *dir, const char *name)
{
	int lk = lock_dir(dir, false);
	if (lk < 0)
		return errno == ENOENT ? SIEVESTORE_NONEXISTENT : SIEVESTORE_ERROR;
	char *f = file_name(name);
	char *active = active_file(dir);
	char *path = xasprintf("%s/%s", dir, f);
	sievestore_status st = SIEVESTORE_OK;
	if (!exists(dir, f))
		st = SIEVESTORE_NONEXISTENT;
	else if (active != NULL && strcmp(active, f) == 0)
		st = SIEVESTORE_ACTIVE;
	else if (unlink(path) != 0 || !fs_fsync_dir(dir))
		st = SIEVESTORE_ERROR;
	free(path);
	free(active);
	free(f);
	unlock_dir(lk);
	return st;
}

/* Crash-safe order: the new name is linked first, the marker follows it,
 * and only then does the old name go; a crash leaves the script under
 * both names at worst, never under none, and never an active marker
 * pointing nowhere for longer than one step. */
sievestore_status sievestore_rename(const char *dir, const char *from, const char *to)
{
	int lk = lock_dir(dir, false);
	if (lk < 0)
		return errno == ENOENT ? SIEVESTORE_NONEXISTENT : SIEVESTORE_ERROR;
	char *ff = file_name(from), *tf = file_name(to);
	char *fp = xasprintf("%s/%s", dir, ff), *tp = xasprintf("%s/%s", dir, tf);
	char *active = active_file(dir);
	sievestore_status st = SIEVESTORE_OK;
	if (!exists(dir, ff))
		st = SIEVESTORE_NONEXISTENT;
	else if (strcmp(ff, tf) == 0 || exists(dir, tf))
		st = SIEVESTORE_ALREADYEXISTS;
	else if (link(fp, tp) != 0 || !fs_fsync_dir(dir))
		st = SIEVESTORE_ERROR;
	else if (active != NULL && strcmp(active, ff) == 0 && !fs_replace_file(dir, ACTIVE_FILE, tf, strlen(tf)))
		st = SIEVESTORE_ERROR;
	else if (unlink(fp) != 0 || !fs_fsync_dir(dir))
		st = SIEVESTORE_ERROR;
	free(active);
	free(fp);
	free(tp);
	free(ff);
	free(tf);
	unlock_dir(lk);
	return st;
}

sievestore_status sievestore_activate(const char *dir, const char *name)
{
	int lk = lock_dir(dir, name != NULL);
	if (lk < 0) {
		if (errno == ENOENT)
			return name == NULL ? SIEVESTORE_OK : SIEVESTORE_NONEXISTENT;
		return SIEVESTORE_ERROR;
	}
	sievestore_status st = SIEVESTORE_OK;
	if (name == NULL) {
		char *path = xasprintf("%s/%s", dir, ACTIVE_FILE);
		if ((unlink(path) != 0 && errno != ENOENT) || !fs_fsync_dir(dir))
			st = SIEVESTORE_ERROR;
		free(path);
	} else {
		char *f = file_name(name);
		if (!exists(dir, f))
			st = SIEVESTORE_NONEXISTENT;
		else if (!fs_replace_file(dir, ACTIVE_FILE, f, strlen(f)))
			st = SIEVESTORE_ERROR;
		free(f);
	}
	unlock_dir(lk);
	return st;
}

char *sievestore_active_path(const char *dir)
{
	char *f = active_file(dir);
	if (f == NULL)
		return NULL;
	char *path = xasprintf("%s/%s", dir, f);
	free(f);
	return path;
}
