/* sievecache.c — compiled active scripts by account (see sievecache.h).
 * Compiling happens outside the lock: two threads that miss together may
 * both compile, and the second result replaces the first. */
#include "delivery/sievecache.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"
#include "store/sievestore.h"

/* What must not have changed for a compiled script to stay valid. */
typedef struct stamp {
	struct timespec dir, global, file;
	ino_t ino;
	off_t size;
} stamp;

struct sieve_cache_ref {
	char *dir;                /* the account's script folder: the key */
	stamp st;
	sieve_script *script;
	unsigned refs;            /* the table's own, and one per holder */
	uint64_t used;
};

struct sieve_cache {
	pthread_mutex_t lock;
	char *global_dir;
	sieve_cache_ref *slots[SIEVE_CACHE_MAX];
	uint64_t clock;
};

sieve_cache *sieve_cache_new(const char *global_dir)
{
	sieve_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->global_dir = xstrdup(global_dir);
	return c;
}

static void ref_drop(sieve_cache_ref *r)
{
	if (--r->refs > 0)
		return;
	sieve_script_free(&r->script);
	free(r->dir);
	free(r);
}

void sieve_cache_free(sieve_cache **cp)
{
	sieve_cache *c = *cp;
	if (c == NULL)
		return;
	for (size_t i = 0; i < SIEVE_CACHE_MAX; i++)
		if (c->slots[i] != NULL)
			ref_drop(c->slots[i]);
	pthread_mutex_destroy(&c->lock);
	free(c->global_dir);
	free(c);
	*cp = NULL;
}

static struct timespec mtime_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mtim : (struct timespec){0};
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool same_stamp(const stamp *a, const stamp *b)
{
	return same_time(a->dir, b->dir) && same_time(a->global, b->global) && same_time(a->file, b->file) &&
	       a->ino == b->ino && a->size == b->size;
}

/* include: :personal from the account's folder, :global from the server's. */
typedef struct loader_ctx {
	const char *dir, *global_dir;
} loader_ctx;

static bool load_include(void *arg, const char *name, bool global, char **text_r, size_t *len_r)
{
	const loader_ctx *l = arg;
	const char *why;
	if (!sievestore_name_valid(name, strlen(name), &why))
		return false;
	return sievestore_get(global ? l->global_dir : l->dir, name, SIEVE_MAX_SCRIPT_SIZE, text_r, len_r) ==
	       SIEVESTORE_OK;
}

/* The slot of dir, or of the least recently used entry nobody holds (or
 * an empty one); NULL when every slot is held.  Under the lock. */
static sieve_cache_ref **slot_for(sieve_cache *c, const char *dir, bool *found_r)
{
	sieve_cache_ref **victim = NULL;
	*found_r = false;
	for (size_t i = 0; i < SIEVE_CACHE_MAX; i++) {
		sieve_cache_ref *r = c->slots[i];
		if (r != NULL && strcmp(r->dir, dir) == 0) {
			*found_r = true;
			return &c->slots[i];
		}
		if (r == NULL ? victim == NULL || *victim != NULL
		              : r->refs == 1 && (victim == NULL || (*victim != NULL && r->used < (*victim)->used)))
			victim = &c->slots[i];
	}
	return victim;
}

sieve_cache_status sieve_cache_get(sieve_cache *c, const char *maildir, sieve_cache_ref **ref_r, char **why_r)
{
	*ref_r = NULL;
	*why_r = NULL;
	char *dir = sievestore_dir(maildir);
	char *path = sievestore_active_path(dir);
	if (path == NULL) {
		free(dir);
		return SIEVE_CACHE_NONE;
	}
	stamp st = {.dir = mtime_of(dir), .global = mtime_of(c->global_dir)};
	struct stat fs;
	if (stat(path, &fs) != 0) {
		int err = errno;
		free(dir);
		free(path);
		errno = err;
		/* .active names a file that is gone: as if none were active */
		return err == ENOENT ? SIEVE_CACHE_NONE : SIEVE_CACHE_ERROR;
	}
	st.file = fs.st_mtim;
	st.ino = fs.st_ino;
	st.size = fs.st_size;

	pthread_mutex_lock(&c->lock);
	bool found;
	sieve_cache_ref **slot = slot_for(c, dir, &found);
	if (found && same_stamp(&(*slot)->st, &st)) {
		sieve_cache_ref *r = *slot;
		r->refs++;
		r->used = ++c->clock;
		pthread_mutex_unlock(&c->lock);
		free(dir);
		free(path);
		*ref_r = r;
		return SIEVE_CACHE_OK;
	}
	pthread_mutex_unlock(&c->lock);

	size_t len;
	char *text = fs_read_file(path, SIEVE_MAX_SCRIPT_SIZE, &len);
	free(path);
	if (text == NULL) {
		free(dir);
		return errno == EFBIG || errno == E2BIG ? (*why_r = xstrdup("the script is too large"), SIEVE_CACHE_BROKEN)
		                                        : SIEVE_CACHE_ERROR;
	}
	loader_ctx l = {dir, c->global_dir};
	sieve_loader loader = {load_include, &l};
	sieve_script *script = NULL;
	sieve_error err = {0};
	bool ok = sieve_compile(text, len, &loader, &script, &err);
	free(text);
	if (!ok) {
		*why_r = xasprintf("%s%s%sline %u, column %u: %s", err.script && err.script[0] ? "script " : "",
		                   err.script ? err.script : "", err.script && err.script[0] ? ", " : "", err.line,
		                   err.col, err.msg ? err.msg : "error");
		sieve_error_free(&err);
		free(dir);
		return SIEVE_CACHE_BROKEN;
	}
	sieve_cache_ref *r = xcalloc(1, sizeof(*r));
	*r = (sieve_cache_ref){.dir = dir, .st = st, .script = script, .refs = 1};
	pthread_mutex_lock(&c->lock);
	slot = slot_for(c, dir, &found);
	if (slot != NULL) {
		if (*slot != NULL) {
			ref_drop(*slot);
		}
		*slot = r;
		r->refs++;
	}
	r->used = ++c->clock;
	pthread_mutex_unlock(&c->lock);
	*ref_r = r;
	return SIEVE_CACHE_OK;
}

const sieve_script *sieve_cache_script(const sieve_cache_ref *ref)
{
	return ref->script;
}

void sieve_cache_put(sieve_cache *c, sieve_cache_ref *ref)
{
	if (ref == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	ref_drop(ref);
	pthread_mutex_unlock(&c->lock);
}
