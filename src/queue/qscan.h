/* qscan.h — reading the queue folder as it is on disk, for the views of
 * it (`yubin queue list|show`, the dashboard's queue page): the queue ids
 * in a sub-folder and one file parsed.  Read-only and blocking (a worker,
 * or the CLI); never changes a file, so what the running server does is
 * not disturbed. */
#ifndef YUBIN_QUEUE_QSCAN_H
#define YUBIN_QUEUE_QSCAN_H

#include <stddef.h>

#include "lib/strutil.h"
#include "queue/qfile.h"

/* Largest queue file read. */
#define QSCAN_FILE_MAX ((size_t)4 << 30)

/* The queue ids in root/sub ("active", "corrupt"), sorted, appended to ids. */
void qscan_ids(const char *root, const char *sub, strlist *ids);

/* Read and parse the queue file at path.  NULL when it reads (env filled,
 * caller frees; *body_len_r the message's size); else why it is damaged
 * (the parser's sentence or strerror; env untouched).  *data_r gets the
 * file's bytes (caller frees; NULL when it could not be read, errno set)
 * and *len_r their count. */
const char *qscan_read(const char *path, size_t *len_r, char **data_r, qenvelope *env,
                       size_t *body_len_r);

#endif
