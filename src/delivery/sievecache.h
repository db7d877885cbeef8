/* sievecache.h — the compiled active Sieve script of each account, for
 * local delivery: read from the account's script store (store/sievestore.h)
 * with its :personal includes, and :global includes from one server-wide
 * folder (data_dir/sieve/global, NAME.sieve), compiled once and kept while
 * neither the active file, the account's script folder nor the global
 * folder changes (ManageSieve and the dashboard replace files by rename,
 * which changes the folder).  Bounded: at most SIEVE_CACHE_MAX accounts;
 * the least recently used script not in use is dropped.  Thread-safe:
 * delivery threads share it and run the scripts they hold at the same
 * time (a compiled script is read-only). */
#ifndef YUBIN_DELIVERY_SIEVECACHE_H
#define YUBIN_DELIVERY_SIEVECACHE_H

#include <stdbool.h>

#include "sieve/sieve.h"

#define SIEVE_CACHE_MAX 256

typedef struct sieve_cache sieve_cache;
/* One script in use, from sieve_cache_get to sieve_cache_put. */
typedef struct sieve_cache_ref sieve_cache_ref;

sieve_cache *sieve_cache_new(const char *global_dir);
void sieve_cache_free(sieve_cache **c);

typedef enum sieve_cache_status {
	SIEVE_CACHE_NONE,     /* no script is active: deliver as without Sieve */
	SIEVE_CACHE_OK,       /* *ref_r holds the script */
	SIEVE_CACHE_BROKEN,   /* the active script does not compile (now): *why_r */
	SIEVE_CACHE_ERROR,    /* it cannot be read now (errno): try again later */
} sieve_cache_status;

/* The active script of the account whose Maildir is maildir.  On
 * SIEVE_CACHE_OK, sieve_cache_script(*ref_r) until sieve_cache_put; on
 * SIEVE_CACHE_BROKEN *why_r (malloc'd) is the compiler's error with its
 * place. */
sieve_cache_status sieve_cache_get(sieve_cache *c, const char *maildir, sieve_cache_ref **ref_r, char **why_r);
const sieve_script *sieve_cache_script(const sieve_cache_ref *ref);
void sieve_cache_put(sieve_cache *c, sieve_cache_ref *ref);

#endif
