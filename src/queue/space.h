/* space.h — the free-space reserve of the queue's file system.  Mail is
 * refused early and precisely (452 4.3.1 at MAIL or RCPT) when taking it
 * would eat into the reserve, instead of failing after the whole body was
 * sent.  The reserve is queue.min_free, and never less than 1.5 times
 * limits.message_size (Postfix's queue_minfree rule), so one message of
 * the largest size always fits after a check passed.  statvfs runs at most
 * once a second; between, the last figures are used.  Loop thread only. */
#ifndef YUBIN_QUEUE_SPACE_H
#define YUBIN_QUEUE_SPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

typedef struct queue_space queue_space;

/* Watch the file system that holds dir, with cfg's reserve. */
queue_space *queue_space_new(const char *dir, const config *cfg);
void queue_space_free(queue_space **sp);

/* True when a message of size bytes (0: not declared) fits above the
 * reserve, and some inodes are left.  When the file system cannot be
 * measured the answer is true (and the error is logged once): a broken
 * statvfs must not stop mail that the disk would take. */
bool queue_space_ok(queue_space *sp, uint64_t size);

/* The reserve in bytes, after the 1.5 x message size rule. */
uint64_t queue_space_reserve(const queue_space *sp);

#endif
