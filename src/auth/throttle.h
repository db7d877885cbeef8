/* throttle.h — failed-login throttling, shared by SMTP, POP3 and IMAP.
 * Failures are counted per key (a client address, an account) within a
 * window; each failure earns a growing delay, and reaching the limit locks
 * the key out for a while.  Pure logic with the clock passed in; used only
 * on the event-loop thread. */
#ifndef YUBIN_THROTTLE_H
#define YUBIN_THROTTLE_H

#include <stdbool.h>
#include <time.h>

#include "lib/config.h"

typedef struct throttle throttle;

throttle *throttle_new(const config_auth *cfg);
void throttle_free(throttle **t);
/* True while key is locked out. */
bool throttle_locked(throttle *t, const char *key, time_t now);
/* Count a failure for key; returns the delay (ms) to wait before replying. */
int throttle_fail(throttle *t, const char *key, time_t now);
/* A successful login clears the failures of key, unless key is locked out
 * at now (a lock-out runs its course). */
void throttle_success(throttle *t, const char *key, time_t now);
/* Number of keys tracked (for tests). */
size_t throttle_size(const throttle *t);

#endif
