/* qid.h — queue ids: 12 characters, unique for this host, sortable by
 * arrival time (microseconds since the epoch, bumped to stay strictly
 * increasing), from an alphabet safe in file names, logs and headers. */
#ifndef YUBIN_QID_H
#define YUBIN_QID_H

#include <stdbool.h>

#define QID_LEN 12

/* Write a new id and its NUL into out (QID_LEN + 1 bytes).  Thread-safe. */
void qid_new(char out[QID_LEN + 1]);
/* True when s has the form of a queue id (used to validate CLI input and
 * file names before they become paths). */
bool qid_valid(const char *s);

#endif
