/* throttle.c — failure counting with a bounded hash table (see throttle.h).
 * The table never holds more than MAX_KEYS entries: expired entries are
 * pruned first, and if an attacker still fills it, the oldest entry goes. */
#include "auth/throttle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

#define N_BUCKETS 4096
#define MAX_KEYS 65536

typedef struct entry {
	struct entry *next;
	char *key;
	time_t first_fail;    /* start of the current window */
	time_t locked_until;
	int fails;
} entry;

struct throttle {
	config_auth cfg;
	entry *buckets[N_BUCKETS];
	size_t n;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % N_BUCKETS;
}

throttle *throttle_new(const config_auth *cfg)
{
	throttle *t = xcalloc(1, sizeof(*t));
	t->cfg = *cfg;
	return t;
}

static void free_entry(entry *e)
{
	free(e->key);
	free(e);
}

void throttle_free(throttle **tp)
{
	throttle *t = *tp;
	if (t == NULL)
		return;
	for (size_t i = 0; i < N_BUCKETS; i++)
		for (entry *e = t->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			free_entry(e);
		}
	free(t);
	*tp = NULL;
}

static bool expired(const throttle *t, const entry *e, time_t now)
{
	return e->locked_until <= now && e->first_fail + t->cfg.lockout_window <= now;
}

/* Drop expired entries; when none expired and the table is full, drop the
 * one with the oldest window. */
static void prune(throttle *t, time_t now)
{
	entry **oldest = NULL;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		for (entry **pp = &t->buckets[i]; *pp != NULL;) {
			entry *e = *pp;
			if (expired(t, e, now)) {
				*pp = e->next;
				free_entry(e);
				t->n--;
				continue;
			}
			if (oldest == NULL || e->first_fail < (*oldest)->first_fail)
				oldest = pp;
			pp = &e->next;
		}
	}
	if (t->n >= MAX_KEYS && oldest != NULL) {
		entry *e = *oldest;
		*oldest = e->next;
		free_entry(e);
		t->n--;
	}
}

static entry **find(throttle *t, const char *key)
{
	entry **pp = &t->buckets[hash(key)];
	while (*pp != NULL && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	return pp;
}

bool throttle_locked(throttle *t, const char *key, time_t now)
{
	entry *e = *find(t, key);
	return e != NULL && e->locked_until > now;
}

int throttle_fail(throttle *t, const char *key, time_t now)
{
	entry **pp = find(t, key);
	entry *e = *pp;
	if (e == NULL) {
		if (t->n >= MAX_KEYS) {
			prune(t, now);
			pp = find(t, key);
		}
		e = xcalloc(1, sizeof(*e));
		e->key = xstrdup(key);
		e->first_fail = now;
		e->next = t->buckets[hash(key)];
		t->buckets[hash(key)] = e;
		t->n++;
	} else if (e->first_fail + t->cfg.lockout_window <= now && e->locked_until <= now) {
		e->first_fail = now; /* a new window */
		e->fails = 0;
	}
	e->fails++;
	if (e->fails >= t->cfg.lockout_failures)
		e->locked_until = now + t->cfg.lockout_seconds;
	long delay = t->cfg.fail_delay_ms;
	for (int i = 1; i < e->fails && delay < t->cfg.fail_delay_max_ms; i++)
		delay *= 2;
	if (delay > t->cfg.fail_delay_max_ms)
		delay = t->cfg.fail_delay_max_ms;
	return (int)delay;
}

void throttle_success(throttle *t, const char *key, time_t now)
{
	entry **pp = find(t, key);
	entry *e = *pp;
	if (e == NULL || e->locked_until > now)
		return; /* a lock-out runs its course even after a success */
	*pp = e->next;
	free_entry(e);
	t->n--;
}

size_t throttle_size(const throttle *t)
{
	return t->n;
}
