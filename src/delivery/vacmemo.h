/* vacmemo.h — the vacation action's memory (RFC 5230 4.1, 4.2): which
 * senders got which automatic reply (account, sender, handle) and until
 * when no second one may go to them.  One SQLite file for the server
 * (data_dir/vacation.db) behind a lock, shared by the delivery threads;
 * expired entries are pruned as new ones are written, so the file stays
 * as large as the replies of the last :days.  Knows nothing of Sieve or
 * of messages. */
#ifndef YUBIN_DELIVERY_VACMEMO_H
#define YUBIN_DELIVERY_VACMEMO_H

#include <stdbool.h>
#include <time.h>

typedef struct vacmemo vacmemo;

/* NULL with *err_r (malloc'd) when the file cannot be opened. */
vacmemo *vacmemo_open(const char *path, char **err_r);
void vacmemo_free(vacmemo **m);

/* Did sender get the reply `handle` of account in the window that is
 * still open at now?  A database error answers true: a reply missed is
 * better than replies repeated (RFC 5230 4.1 asks for at most one). */
bool vacmemo_replied(vacmemo *m, const char *account, const char *sender, const char *handle, time_t now);

/* Remember that sender got it, until `until`.  False (logged) on error. */
bool vacmemo_remember(vacmemo *m, const char *account, const char *sender, const char *handle, time_t until);

#endif
