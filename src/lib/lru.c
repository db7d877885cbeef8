/* lru.c — the bounded string-keyed map (see lru.h): a chained hash table
 * for look-up and a doubly-linked recency list for eviction.  Each entry is
 * one allocation: the header, the record, then the key. */
#include "lib/lru.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

typedef struct entry {
	struct entry *hnext;       /* hash chain */
	struct entry *newer, *older; /* recency list */
	uint32_t hash;
	/* followed by the record (value_size bytes, aligned as this struct)
	 * and the key */
} entry;

struct lru {
	entry **buckets;
	size_t n_buckets; /* a power of two */
	size_t n, max;
	size_t value_size; /* rounded up to the alignment of entry */
	entry *newest, *oldest;
};

static uint32_t hash_of(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void *value_of(entry *e)
{
	return e + 1;
}

static char *key_of(const lru *l, entry *e)
{
	return (char *)(e + 1) + l->value_size;
}

lru *lru_new(size_t max_entries, size_t value_size)
{
	assert(max_entries > 0 && value_size > 0);
	lru *l = xcalloc(1, sizeof(*l));
	l->max = max_entries;
	l->value_size = (value_size + _Alignof(entry) - 1) / _Alignof(entry) * _Alignof(entry);
	l->n_buckets = 16;
	while (l->n_buckets < max_entries)
		l->n_buckets *= 2;
	l->buckets = xcalloc(l->n_buckets, sizeof(entry *));
	return l;
}

void lru_free(lru **lp)
{
	lru *l = *lp;
	if (l == NULL)
		return;
	for (entry *e = l->newest, *next; e != NULL; e = next) {
		next = e->older;
		free(e);
	}
	free(l->buckets);
	free(l);
	*lp = NULL;
}

static entry **slot(lru *l, const char *key, uint32_t h)
{
	entry **pp = &l->buckets[h & (l->n_buckets - 1)];
	while (*pp != NULL && ((*pp)->hash != h || strcmp(key_of(l, *pp), key) != 0))
		pp = &(*pp)->hnext;
	return pp;
}

static void unlink_recency(lru *l, entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		l->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		l->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void push_newest(lru *l, entry *e)
{
	e->older = l->newest;
	e->newer = NULL;
	if (l->newest != NULL)
		l->newest->newer = e;
	l->newest = e;
	if (l->oldest == NULL)
		l->oldest = e;
}

/* Take e (found at *pp in its chain) out of the map and free it. */
static void drop(lru *l, entry **pp)
{
	entry *e = *pp;
	*pp = e->hnext;
	unlink_recency(l, e);
	free(e);
	l->n--;
}

void *lru_find(lru *l, const char *key)
{
	entry *e = *slot(l, key, hash_of(key));
	return e != NULL ? value_of(e) : NULL;
}

void *lru_touch(lru *l, const char *key)
{
	uint32_t h = hash_of(key);
	entry **pp = slot(l, key, h);
	entry *e = *pp;
	if (e != NULL) {
		unlink_recency(l, e);
		push_newest(l, e);
		return value_of(e);
	}
	if (l->n >= l->max) {
		entry *old = l->oldest;
		drop(l, slot(l, key_of(l, old), old->hash));
		pp = slot(l, key, h); /* the chain may have changed */
	}
	size_t klen = strlen(key);
	e = xcalloc(1, sizeof(entry) + l->value_size + klen + 1);
	e->hash = h;
	memcpy(key_of(l, e), key, klen + 1);
	e->hnext = *pp;
	*pp = e;
	push_newest(l, e);
	l->n++;
	return value_of(e);
}

void lru_remove(lru *l, const char *key)
{
	entry **pp = slot(l, key, hash_of(key));
	if (*pp != NULL)
		drop(l, pp);
}

size_t lru_size(const lru *l)
{
	return l->n;
}

void lru_walk(lru *l, void (*fn)(const char *key, void *value, void *arg), void *arg)
{
	for (entry *e = l->oldest; e != NULL; e = e->newer)
		fn(key_of(l, e), value_of(e), arg);
}
