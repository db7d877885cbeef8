/* state.h — what the API's server-side files (access.c, messages.c,
 * inject.c, status.c) share: srv->api, and the callers it has seen. */
#ifndef YUBIN_API_STATE_H
#define YUBIN_API_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api/api.h"
#include "api/keys.h"
#include "lib/strutil.h"
#include "net/server.h"

/* One API key as the running server knows it: read from the store again
 * whenever the store has changed since (apikeys_version), kept for the
 * server's life (so the request's principal data stays valid), with its
 * per-minute rate bucket.  At most as many as there are keys in the
 * store. */
typedef struct api_caller {
	struct api_caller *next;
	int64_t id;
	char hash[APIKEY_HASH_LEN + 1]; /* its secret's hash */
	int64_t version;          /* the store's version when read; -1: unknown */
	char *name;
	strlist domains;
	int64_t rate_per_min;     /* 0: no limit */
	int64_t daily;            /* 0: no limit */
	double tokens;            /* the rate bucket: up to rate_per_min */
	double refilled;          /* when it was last refilled (monotonic s) */
	int64_t touched;          /* last_used last written (unix s) */
	/* the daily count (api/quota.c), for UTC day q_day once q_loaded */
	bool q_loaded;
	int64_t q_day, q_count;
	int64_t q_unsaved;        /* counted (or given back) since the last save */
} api_caller;

typedef struct api_state {
	server *srv;
	apikeys *loop_ks;         /* look-ups on the loop only */
	apikeys *work_ks;         /* every other call, on workers */
	api_caller *callers;
	struct connpool *pool;    /* internal submission sessions (inject.c) */
	struct event *quota_ev;   /* saves the daily counts (quota.c) */
} api_state;

/* The caller of a request that passed api_key_access. */
api_caller *api_caller_of(http_req *r);

/* Take one message from the caller's per-minute rate: 0 when taken, else
 * the seconds until one is free (for Retry-After).  api_rate_give_back
 * returns it (the message was not sent after all). */
int api_rate_take(api_caller *c);
void api_rate_give_back(api_caller *c);

#endif
