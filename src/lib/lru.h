/* lru.h — a bounded map from strings to small fixed-size records, for
 * state that clients can make grow (failed-login counters, remembered
 * addresses).  It never holds more than its maximum: adding a key to a full
 * map evicts the entry touched least recently, in O(1).  Records are
 * zero-filled when created.  Not thread-safe; no expiry of its own (the
 * caller decides what an old record means). */
#ifndef YUBIN_LRU_H
#define YUBIN_LRU_H

#include <stddef.h>

typedef struct lru lru;

/* A map of at most max_entries records of value_size bytes each (both > 0). */
lru *lru_new(size_t max_entries, size_t value_size);
void lru_free(lru **l);
/* The record of key, or NULL; does not change the eviction order. */
void *lru_find(lru *l, const char *key);
/* The record of key, created zero-filled if absent (evicting the least
 * recently touched entry when the map is full); key becomes the most
 * recently touched.  Never NULL. */
void *lru_touch(lru *l, const char *key);
/* Forget key (nothing happens if it is absent). */
void lru_remove(lru *l, const char *key);
size_t lru_size(const lru *l);
/* Call fn for every entry, least recently touched first (so that touching
 * the keys in this order elsewhere rebuilds the same eviction order).  fn
 * may change the record but must not add or remove entries. */
void lru_walk(lru *l, void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
