/* ratelimit.c — sliding-window counters per limit and key, and the checks
 * and charges made at MAIL, RCPT and the end of data (see ratelimit.h).
 * It decides and counts; it neither replies, logs nor touches a database. */
#include "policy/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addrkey.h"
#include "lib/lru.h"

/* One key's record in a rule's map. */
typedef struct rate_rec {
	rate_window w;
	bool dirty;        /* changed since the last snapshot */
} rate_rec;

typedef struct rate_limit {
	rate_rule rule;
	lru *keys;         /* key -> rate_rec */
} rate_limit;

struct rate_table {
	rate_limit *limits;
	size_t n;
};

static const char *const keykind_names[] = {
	[RATE_KEY_CLIENT] = "client",
	[RATE_KEY_USER] = "user",
	[RATE_KEY_SENDER_DOMAIN] = "sender_domain",
	[RATE_KEY_RECIPIENT] = "recipient",
};

static const char *const countkind_names[] = {
	[RATE_COUNT_MESSAGES] = "messages",
	[RATE_COUNT_RECIPIENTS] = "recipients",
};

const char *rate_keykind_name(rate_keykind k)
{
	return keykind_names[k];
}

/* The index of s in names[0..n), or -1. */
static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

bool rate_keykind_parse(const char *s, rate_keykind *k_r)
{
	int i = name_index(keykind_names, sizeof(keykind_names) / sizeof(keykind_names[0]), s);
	if (i >= 0)
		*k_r = (rate_keykind)i;
	return i >= 0;
}

const char *rate_countkind_name(rate_countkind c)
{
	return countkind_names[c];
}

bool rate_countkind_parse(const char *s, rate_countkind *c_r)
{
	int i = name_index(countkind_names, sizeof(countkind_names) / sizeof(countkind_names[0]), s);
	if (i >= 0)
		*c_r = (rate_countkind)i;
	return i >= 0;
}

void rate_rules_free(rate_rules **rp)
{
	rate_rules *r = *rp;
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i].name);
	free(r->items);
	free(r);
	*rp = NULL;
}

/* ---- the window arithmetic ---- */

unsigned rate_width(unsigned window)
{
	unsigned w = window / RATE_BUCKETS + (window % RATE_BUCKETS != 0);
	return w > 0 ? w : 1;
}

/* floor(t / width) for any sign of t. */
static int64_t bucket_of(int64_t t, unsigned width)
{
	int64_t q = t / (int64_t)width;
	return (t % (int64_t)width < 0) ? q - 1 : q;
}

/* The slot of bucket b (b may be negative for times before 1970). */
static size_t slot_of(int64_t b)
{
	return (size_t)(((b % RATE_SLOTS) + RATE_SLOTS) % RATE_SLOTS);
}

void rate_window_add(rate_window *w, unsigned window, uint32_t n, time_t now)
{
	int64_t b = bucket_of((int64_t)now, rate_width(window));
	if (b > w->last) {
		if (b - w->last >= RATE_SLOTS)
			memset(w->slot, 0, sizeof(w->slot));
		else
			for (int64_t i = w->last + 1; i <= b; i++)
				w->slot[slot_of(i)] = 0;
		w->last = b;
	} else if (w->last - b >= RATE_SLOTS) {
		b = w->last; /* the clock went far back: count it as the newest */
	}
	uint32_t *s = &w->slot[slot_of(b)];
	*s = (*s > UINT32_MAX - n) ? UINT32_MAX : *s + n;
}

uint64_t rate_window_sum(const rate_window *w, unsigned window, time_t now)
{
	unsigned width = rate_width(window);
	/* the oldest bucket that overlaps (now - window, now] */
	int64_t lo = bucket_of((int64_t)now - (int64_t)window + 1, width);
	if (lo < w->last - (RATE_SLOTS - 1))
		lo = w->last - (RATE_SLOTS - 1);
	uint64_t sum = 0;
	for (int64_t b = lo; b <= w->last; b++)
		sum += w->slot[slot_of(b)];
	return sum;
}

/* ---- the table ---- */

rate_table *rate_new(const rate_rule *rules, size_t n)
{
	rate_table *t = xcalloc(1, sizeof(*t));
	t->limits = xcalloc(n > 0 ? n : 1, sizeof(rate_limit));
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		rate_limit *l = &t->limits[i];
		l->rule = rules[i];
		l->rule.name = xstrdup(rules[i].name);
		if (l->rule.max_keys == 0)
			l->rule.max_keys = RATE_MAX_KEYS_DEFAULT;
		l->keys = lru_new(l->rule.max_keys, sizeof(rate_rec));
	}
	return t;
}

void rate_free(rate_table **tp)
{
	rate_table *t = *tp;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->limits[i].rule.name);
		lru_free(&t->limits[i].keys);
	}
	free(t->limits);
	free(t);
	*tp = NULL;
}

size_t rate_rule_count(const rate_table *t)
{
	return t->n;
}

const rate_rule *rate_rule_at(const rate_table *t, size_t i)
{
	return &t->limits[i].rule;
}

size_t rate_size(const rate_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += lru_size(t->limits[i].keys);
	return n;
}

static char *lower_dup(const char *s)
{
	char *d = xstrdup(s);
	str_ascii_lower(d);
	return d;
}

bool rate_key(const rate_rule *rule, const rate_subject *sub, const char *rcpt, char **key_r)
{
	*key_r = NULL;
	if (rule->roles != 0 && (sub->role < 0 || sub->role >= 32 || !(rule->roles & (1u << sub->role))))
		return false;
	switch (rule->key) {
	case RATE_KEY_CLIENT: {
		if (sub->client_ip == NULL)
			return false;
		char k[ADDRKEY_MAX];
		addrkey_of(sub->client_ip, k);
		*key_r = xstrdup(k);
		return true;
	}
	case RATE_KEY_USER:
		if (sub->user == NULL || *sub->user == '\0')
			return false;
		*key_r = lower_dup(sub->user);
		return true;
	case RATE_KEY_SENDER_DOMAIN: {
		const char *at = sub->sender != NULL ? strrchr(sub->sender, '@') : NULL;
		if (at == NULL || at[1] == '\0')
			return false;
		*key_r = lower_dup(at + 1);
		return true;
	}
	case RATE_KEY_RECIPIENT:
		if (rcpt == NULL || *rcpt == '\0')
			return false;
		*key_r = lower_dup(rcpt);
		return true;
	}
	return false;
}

static uint64_t sum_of(rate_limit *l, const char *key, time_t now)
{
	const rate_rec *r = lru_find(l->keys, key);
	return r != NULL ? rate_window_sum(&r->w, l->rule.window, now) : 0;
}

static void add_to(rate_limit *l, const char *key, uint32_t n, time_t now)
{
	rate_rec *r = lru_touch(l->keys, key);
	rate_window_add(&r->w, l->rule.window, n, now);
	r->dirty = true;
}

/* Recipients in rcpts equal to rcpt (ignoring case). */
static size_t copies_of(const strlist *rcpts, const char *rcpt)
{
	size_t n = 0;
	for (size_t i = 0; rcpts != NULL && i < rcpts->n; i++)
		n += str_ascii_ieq(rcpts->items[i], rcpt);
	return n;
}

/* Fill ex_r when sum + more passes the limit of l; takes key. */
static bool over(rate_limit *l, char *key, uint64_t more, time_t now, rate_exceeded *ex_r)
{
	uint64_t sum = sum_of(l, key, now);
	if (sum + more <= l->rule.limit) {
		free(key);
		return false;
	}
	*ex_r = (rate_exceeded){.rule = &l->rule, .key = key, .count = sum};
	return true;
}

bool rate_check_mail(rate_table *t, const rate_subject *sub, time_t now, rate_exceeded *ex_r)
{
	for (size_t i = 0; i < t->n; i++) {
		rate_limit *l = &t->limits[i];
		char *key;
		if (l->rule.count != RATE_COUNT_MESSAGES || l->rule.key == RATE_KEY_RECIPIENT ||
		    !rate_key(&l->rule, sub, NULL, &key))
			continue;
		if (over(l, key, 1, now, ex_r))
			return true;
	}
	return false;
}

bool rate_check_rcpt(rate_table *t, const rate_subject *sub, const char *rcpt, time_t now,
                     rate_exceeded *ex_r)
{
	size_t pending = sub->rcpts != NULL ? sub->rcpts->n : 0;
	for (size_t i = 0; i < t->n; i++) {
		rate_limit *l = &t->limits[i];
		char *key;
		if (l->rule.key == RATE_KEY_RECIPIENT) {
			size_t copies = copies_of(sub->rcpts, rcpt);
			if (l->rule.count == RATE_COUNT_MESSAGES && copies > 0)
				continue; /* already in this message: no new message for it */
			if (rate_key(&l->rule, sub, rcpt, &key) && over(l, key, copies + 1, now, ex_r))
				return true;
		} else if (l->rule.count == RATE_COUNT_RECIPIENTS) {
			if (rate_key(&l->rule, sub, NULL, &key) && over(l, key, pending + 1, now, ex_r))
				return true;
		}
	}
	return false;
}

void rate_charge(rate_table *t, const rate_subject *sub, time_t now)
{
	size_t n = sub->rcpts != NULL ? sub->rcpts->n : 0;
	if (n == 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		rate_limit *l = &t->limits[i];
		char *key;
		if (l->rule.key != RATE_KEY_RECIPIENT) {
			if (rate_key(&l->rule, sub, NULL, &key))
				add_to(l, key, l->rule.count == RATE_COUNT_MESSAGES ? 1 : (uint32_t)n, now);
			free(key);
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			const char *rcpt = sub->rcpts->items[j];
			/* a message counts once per distinct recipient */
			bool repeat = false;
			for (size_t k = 0; k < j && !repeat; k++)
				repeat = str_ascii_ieq(sub->rcpts->items[k], rcpt);
			if (l->rule.count == RATE_COUNT_MESSAGES && repeat)
				continue;
			if (rate_key(&l->rule, sub, rcpt, &key))
				add_to(l, key, 1, now);
			free(key);
		}
	}
}

void rate_exceeded_free(rate_exceeded *ex)
{
	free(ex->key);
	ex->key = NULL;
}

char *rate_window_phrase(unsigned window)
{
	static const struct { unsigned secs; const char *one, *many; } units[] = {
		{604800, "week", "weeks"}, {86400, "day", "days"}, {3600, "hour", "hours"},
		{60, "minute", "minutes"}, {1, "second", "seconds"},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (window % units[i].secs != 0)
			continue;
		unsigned n = window / units[i].secs;
		return n == 1 ? xstrdup(units[i].one) : xasprintf("%u %s", n, units[i].many);
	}
	return xstrdup("second"); /* window 0: not configurable */
}

char *rate_exceeded_text(const rate_exceeded *ex)
{
	const rate_rule *r = ex->rule;
	char *per = rate_window_phrase(r->window);
	char *text = xasprintf("Too many %s %s %s: at most %u per %s; try again later",
	                       rate_countkind_name(r->count), r->key == RATE_KEY_RECIPIENT ? "to" : "from",
	                       ex->key, r->limit, per);
	free(per);
	return text;
}

/* ---- persistence ---- */

typedef struct snap {
	const rate_limit *limit;
	time_t now;
	bool all;
	rate_row *rows;
	size_t n, cap;
} snap;

static void snap_one(const char *key, void *value, void *arg)
{
	snap *s = arg;
	rate_rec *r = value;
	const rate_rule *rule = &s->limit->rule;
	bool empty = rate_window_sum(&r->w, rule->window, s->now) == 0;
	if (!(s->all ? !empty : r->dirty))
		return;
	r->dirty = false;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->rows = xrealloc(s->rows, s->cap * sizeof(rate_row));
	}
	unsigned width = rate_width(rule->window);
	s->rows[s->n++] = (rate_row){
		.rule = xstrdup(rule->name),
		.key = xstrdup(key),
		.width = width,
		.w = r->w,
		.expires = (r->w.last + 1) * (int64_t)width + rule->window,
		.empty = empty,
	};
}

static rate_row *snapshot(rate_table *t, time_t now, bool all, size_t *n_r)
{
	snap s = {.now = now, .all = all};
	for (size_t i = 0; i < t->n; i++) {
		s.limit = &t->limits[i];
		lru_walk(t->limits[i].keys, snap_one, &s);
	}
	*n_r = s.n;
	return s.rows;
}

rate_row *rate_snapshot(rate_table *t, time_t now, size_t *n_r)
{
	return snapshot(t, now, false, n_r);
}

rate_row *rate_snapshot_all(rate_table *t, time_t now, size_t *n_r)
{
	return snapshot(t, now, true, n_r);
}

void rate_rows_free(rate_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].rule);
		free(rows[i].key);
	}
	free(rows);
}

bool rate_restore(rate_table *t, const rate_row *row, time_t now)
{
	for (size_t i = 0; i < t->n; i++) {
		rate_limit *l = &t->limits[i];
		if (strcmp(l->rule.name, row->rule) != 0)
			continue;
		if (row->width != rate_width(l->rule.window) || row->expires <= (int64_t)now ||
		    rate_window_sum(&row->w, l->rule.window, now) == 0)
			return false;
		rate_rec *r = lru_touch(l->keys, row->key);
		r->w = row->w;
		r->dirty = false;
		return true;
	}
	return false;
}
