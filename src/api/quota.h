/* quota.h — the API keys' daily quotas, counted on the loop: each key's
 * count for the current UTC day is read from the key store once (a short
 * indexed read), then kept in memory with the key's caller; what was
 * counted is added to the store every QUOTA_SAVE_MS on a worker, and at
 * stop.  A send no longer waits for a database write (or its fsync) to be
 * counted; a crash of the server forgets at most the last second's counts
 * (the key may then send that many more that day). */
#ifndef YUBIN_API_QUOTA_H
#define YUBIN_API_QUOTA_H

#include <stdint.h>

#include "api/state.h"

#define QUOTA_SAVE_MS 1000

typedef enum quota_result {
	QUOTA_TAKEN,     /* one message counted */
	QUOTA_OVER,      /* c->daily are counted already: nothing counted */
	QUOTA_ERROR,     /* the stored count could not be read (*err_r) */
} quota_result;

/* Count one message of caller c (c->daily > 0) for UTC day `day`. */
quota_result api_quota_take(api_state *a, api_caller *c, int64_t day, char **err_r);
/* Give back one message taken for day (it was not sent after all). */
void api_quota_give_back(api_state *a, api_caller *c, int64_t day);
/* At stop, on the loop with the workers gone: add every unsaved count to
 * the store now. */
void api_quota_save_all(api_state *a);

#endif
