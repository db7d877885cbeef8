/* throttle.c — the failed-login policy (see throttle.h) over four bounded
 * tables (lib/lru.h).  It decides; it neither waits nor logs. */
#include "auth/throttle.h"

#include <limits.h>
#include <stdlib.h>

#include "lib/lru.h"
#include "lib/strutil.h"

/* Failures of an address or an account in the current window. */
typedef struct counter {
	time_t window_start;
	time_t locked_until;
	int fails;
} counter;

/* What one account and address pair added to the two counters. */
typedef struct pair_fails {
	time_t last;      /* its last failure (counted on the address) */
	time_t last_acct; /* its last failure counted on the account too */
	int fails;
	int acct_fails;
} pair_fails;

typedef struct known_pair {
	time_t last_ok;
} known_pair;

struct throttle {
	config_auth cfg;
	lru *addrs;    /* address key -> counter */
	lru *accounts; /* account -> counter (failures from unknown addresses) */
	lru *pairs;    /* "addr\naccount" -> pair_fails */
	lru *known;    /* "addr\naccount" -> known_pair */
};

throttle *throttle_new(const config_auth *cfg)
{
	throttle *t = xcalloc(1, sizeof(*t));
	t->cfg = *cfg;
	t->addrs = lru_new(THROTTLE_MAX_ENTRIES, sizeof(counter));
	t->accounts = lru_new(THROTTLE_MAX_ENTRIES, sizeof(counter));
	t->pairs = lru_new(THROTTLE_MAX_ENTRIES, sizeof(pair_fails));
	t->known = lru_new(THROTTLE_MAX_ENTRIES, sizeof(known_pair));
	return t;
}

void throttle_free(throttle **tp)
{
	throttle *t = *tp;
	if (t == NULL)
		return;
	lru_free(&t->addrs);
	lru_free(&t->accounts);
	lru_free(&t->pairs);
	lru_free(&t->known);
	free(t);
	*tp = NULL;
}

/* An address key holds no newline, so the pair key splits one way only. */
static char *pair_key(const char *addr, const char *account)
{
	return xasprintf("%s\n%s", addr, account);
}

static bool is_locked(const counter *c, time_t now)
{
	return c != NULL && c->locked_until > now;
}

/* fail_delay_ms doubled per earlier failure, capped (without overflow). */
static int delay_for(const throttle *t, int fails)
{
	long delay = t->cfg.fail_delay_ms;
	for (int i = 1; i < fails && delay < t->cfg.fail_delay_max_ms; i++)
		delay *= 2;
	return (int)(delay > t->cfg.fail_delay_max_ms ? t->cfg.fail_delay_max_ms : delay);
}

/* Count one failure on c; returns its delay. */
static int counter_fail(const throttle *t, counter *c, time_t now)
{
	bool window_over = c->window_start + t->cfg.lockout_window <= now && c->locked_until <= now;
	if (c->fails == 0 || window_over) {
		c->window_start = now;
		c->fails = 0;
	}
	if (c->fails < INT_MAX)
		c->fails++;
	if (c->fails >= t->cfg.lockout_failures)
		c->locked_until = now + t->cfg.lockout_seconds;
	return delay_for(t, c->fails);
}

/* Take back n failures that ended at last from the counter of key, unless
 * they belong to a window that is over.  A lock-out stays. */
static void forgive(lru *tab, const char *key, int n, time_t last, time_t now)
{
	counter *c = lru_find(tab, key);
	if (c == NULL || n <= 0 || last < c->window_start)
		return;
	c->fails -= n < c->fails ? n : c->fails;
	if (c->fails == 0 && c->locked_until <= now)
		lru_remove(tab, key);
}

bool throttle_known(throttle *t, const char *addr, const char *account, time_t now)
{
	char *pk = pair_key(addr, account);
	known_pair *k = lru_find(t->known, pk);
	free(pk);
	return k != NULL && k->last_ok + (time_t)t->cfg.known_days * 86400 > now;
}

throttle_scope throttle_refused(throttle *t, const char *addr, const char *account, time_t now)
{
	if (is_locked(lru_find(t->addrs, addr), now))
		return THROTTLE_ADDRESS;
	if (account != NULL && !throttle_known(t, addr, account, now) &&
	    is_locked(lru_find(t->accounts, account), now))
		return THROTTLE_ACCOUNT;
	return THROTTLE_NONE;
}

int throttle_failed(throttle *t, const char *addr, const char *account, time_t now)
{
	int delay = counter_fail(t, lru_touch(t->addrs, addr), now);
	if (account == NULL)
		return delay;
	bool known = throttle_known(t, addr, account, now);
	char *pk = pair_key(addr, account);
	pair_fails *p = lru_touch(t->pairs, pk);
	free(pk);
	if (p->last + t->cfg.lockout_window <= now)
		*p = (pair_fails){0}; /* its old failures are out of every window */
	p->fails++;
	p->last = now;
	if (!known) {
		int d = counter_fail(t, lru_touch(t->accounts, account), now);
		delay = d > delay ? d : delay;
		p->acct_fails++;
		p->last_acct = now;
	}
	return delay;
}

void throttle_succeeded(throttle *t, const char *addr, const char *account, time_t now)
{
	char *pk = pair_key(addr, account);
	pair_fails *p = lru_find(t->pairs, pk);
	if (p != NULL) {
		forgive(t->addrs, addr, p->fails, p->last, now);
		forgive(t->accounts, account, p->acct_fails, p->last_acct, now);
		lru_remove(t->pairs, pk);
	}
	known_pair *k = lru_touch(t->known, pk);
	k->last_ok = now;
	free(pk);
}

size_t throttle_size(const throttle *t)
{
	return lru_size(t->addrs) + lru_size(t->accounts) + lru_size(t->pairs) + lru_size(t->known);
}

const char *throttle_scope_name(throttle_scope s)
{
	switch (s) {
	case THROTTLE_ADDRESS: return "address";
	case THROTTLE_ACCOUNT: return "account";
	case THROTTLE_NONE: break;
	}
	return "none";
}
