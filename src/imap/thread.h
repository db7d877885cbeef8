/* thread.h — THREAD's algorithms (RFC 5256 3) on messages described by
 * sortkey.h, written as the thread-list of the THREAD response
 * ("(3 6 (4 23)(44 7 96))"):
 *   ORDEREDSUBJECT: messages grouped by base subject, each group's first
 *     message (by sent date) the parent of the rest; threads ordered by the
 *     sent date of their first message.
 *   REFERENCES: the parent/child links of References / In-Reply-To
 *     (loops refused, a missing or repeated Message-ID made unique), dummy
 *     containers pruned, threads of the same base subject gathered, and
 *     siblings ordered by sent date (ties: sequence order).
 * Iterative, so a chain of any length threads without deep recursion.
 * Pure. */
#ifndef YUBIN_IMAP_THREAD_H
#define YUBIN_IMAP_THREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parse.h"
#include "imap/sortkey.h"
#include "lib/buf.h"

typedef enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
} imap_thread_alg;

/* The algorithm named by a (an atom); false when unknown. */
bool imap_thread_alg_parse(const imap_arg *a, imap_thread_alg *alg_r);

/* Thread v[0, n) (v is reordered) and append the thread-lists to out,
 * naming messages by UID when uid, else by sequence number.  False when
 * out is full. */
bool imap_thread_write(buf *out, imap_sort_msg *v, size_t n, imap_thread_alg alg, bool uid);

#endif
