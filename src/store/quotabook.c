/* quotabook.c — shared quota look-ups (see quotabook.h): one account-store
 * handle and a bounded cache of usage counters behind one lock.  It must
 * not decide replies or write mail: callers turn "full" into their own
 * protocol's answer. */
#include "store/quotabook.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strutil.h"
#include "store/usage.h"

typedef struct usage_slot {
	char *root;            /* NULL: free */
	store_usage *u;
	uint64_t used;         /* the book's clock when last asked */
} usage_slot;

/* An account's limits as last read from the store, for the loop's peek. */
typedef struct limits_slot {
	char *account;         /* NULL: free */
	quota_limits l;
	time_t read;
} limits_slot;

struct quota_book {
	pthread_mutex_t lock;
	const config *cfg;
	accounts *acc;
	usage_slot slots[QUOTA_BOOK_ACCOUNTS];
	limits_slot limits[QUOTA_BOOK_ACCOUNTS];
	size_t next_limits;    /* the limits slot to reuse next (round robin) */
	uint64_t clock;
};

quota_book *quota_book_open(const config *cfg, char **err_r)
{
	char *path = config_path_db(cfg);
	accounts *acc = accounts_open(path, &cfg->domains, err_r);
	free(path);
	if (acc == NULL)
		return NULL;
	quota_book *b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->cfg = cfg;
	b->acc = acc;
	return b;
}

void quota_book_free(quota_book **bp)
{
	quota_book *b = *bp;
	if (b == NULL)
		return;
	for (size_t i = 0; i < QUOTA_BOOK_ACCOUNTS; i++) {
		free(b->slots[i].root);
		store_usage_free(&b->slots[i].u);
		free(b->limits[i].account);
	}
	accounts_close(&b->acc);
	pthread_mutex_destroy(&b->lock);
	free(b);
	*bp = NULL;
}

/* Under the lock. */
static limits_slot *limits_of(quota_book *b, const char *account)
{
	for (size_t i = 0; i < QUOTA_BOOK_ACCOUNTS; i++)
		if (b->limits[i].account != NULL && strcmp(b->limits[i].account, account) == 0)
			return &b->limits[i];
	return NULL;
}

/* Under the lock. */
static void remember_limits(quota_book *b, const char *account, quota_limits l)
{
	limits_slot *ls = limits_of(b, account);
	if (ls == NULL) {
		ls = &b->limits[b->next_limits];
		b->next_limits = (b->next_limits + 1) % QUOTA_BOOK_ACCOUNTS;
		free(ls->account);
		ls->account = xstrdup(account);
	}
	ls->l = l;
	ls->read = time(NULL);
}

bool quota_book_unlimited_now(quota_book *b, const char *account)
{
	if (pthread_mutex_trylock(&b->lock) != 0)
		return false;
	const limits_slot *ls = limits_of(b, account);
	time_t now = time(NULL);
	bool unlimited = ls != NULL && now >= ls->read && now - ls->read < QUOTA_BOOK_LIMITS_TTL &&
	                 !quota_limited(ls->l);
	pthread_mutex_unlock(&b->lock);
	return unlimited;
}

bool quota_book_limits(quota_book *b, const char *account, quota_limits *l_r, unsigned *warned_r)
{
	accounts_quota q;
	pthread_mutex_lock(&b->lock);
	accounts_status s = accounts_quota_get(b->acc, account, &q);
	if (s == ACC_ERROR)
		log_event(LOG_LVL_ERROR, "quota", "account=%s error=\"%s\"", account, accounts_last_error(b->acc));
	*l_r = quota_effective(s == ACC_OK ? &q : NULL, b->cfg->limits.mailbox_quota,
	                       b->cfg->limits.mailbox_quota_messages);
	if (s != ACC_ERROR)
		remember_limits(b, account, *l_r);
	pthread_mutex_unlock(&b->lock);
	if (warned_r != NULL)
		*warned_r = s == ACC_OK ? q.warned : s == ACC_NOT_FOUND ? QUOTA_BOOK_NO_ACCOUNT : 0;
	return s != ACC_ERROR;
}

/* The slot of root, taking the one asked least recently when none is;
 * under the lock. */
static usage_slot *slot_of(quota_book *b, const char *root)
{
	usage_slot *oldest = &b->slots[0];
	for (size_t i = 0; i < QUOTA_BOOK_ACCOUNTS; i++) {
		usage_slot *s = &b->slots[i];
		if (s->root != NULL && strcmp(s->root, root) == 0)
			return s;
		if (s->root == NULL || (oldest->root != NULL && s->used < oldest->used))
			oldest = s;
	}
	free(oldest->root);
	store_usage_free(&oldest->u);
	oldest->root = xstrdup(root);
	oldest->u = store_usage_new();
	return oldest;
}

bool quota_book_usage(quota_book *b, const char *root, uint64_t *bytes_r, uint64_t *messages_r)
{
	pthread_mutex_lock(&b->lock);
	usage_slot *s = slot_of(b, root);
	s->used = ++b->clock;
	bool ok = store_usage_get(s->u, root, bytes_r, messages_r);
	pthread_mutex_unlock(&b->lock);
	return ok;
}

bool quota_book_set_warned(quota_book *b, const char *account, unsigned warned)
{
	accounts_quota q;
	pthread_mutex_lock(&b->lock);
	accounts_status s = accounts_quota_get(b->acc, account, &q);
	if (s == ACC_OK) {
		q.warned = warned;
		s = accounts_quota_set(b->acc, account, &q);
	}
	if (s == ACC_ERROR)
		log_event(LOG_LVL_ERROR, "quota", "account=%s error=\"%s\"", account, accounts_last_error(b->acc));
	pthread_mutex_unlock(&b->lock);
	return s == ACC_OK;
}

bool quota_book_full(quota_book *b, const char *account, const char *root, uint64_t add_bytes)
{
	quota_limits l;
	uint64_t bytes, messages;
	quota_book_limits(b, account, &l, NULL);
	if (!quota_limited(l) || !quota_book_usage(b, root, &bytes, &messages))
		return false;
	return quota_over(l, bytes, messages, add_bytes, 1);
}
