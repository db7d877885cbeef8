/* seqset.h — IMAP sequence sets (RFC 9051 9 sequence-set, RFC 5182 "$"):
 * parsing "1,3:5,7:*" into ranges, testing membership once the largest number
 * in use is known, and walking the numbers in order without repeats. */
#ifndef YUBIN_IMAP_SEQSET_H
#define YUBIN_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"
#include "lib/buf.h"

/* One range as sent: lo and hi in either order; 0 stands for "*" (no
 * message has number 0).  A single number n is the range n:n. */
typedef struct imap_seq_range {
	uint32_t lo, hi;
} imap_seq_range;

typedef struct imap_seqset {
	bool searchres;          /* "$": the saved SEARCH result (no ranges) */
	size_t n;
	imap_seq_range *ranges;  /* malloc'd, n of them */
} imap_seqset;

/* Parse s[0..len).  Numbers are 1..4294967295; 0 and larger numbers, empty
 * elements, and "$" mixed with anything are refused with a sentence. */
bool imap_seqset_parse(const char *s, size_t len, imap_seqset *set, const char **error_r);
/* The same from an argument (an atom). */
bool imap_seqset_parse_arg(const imap_arg *a, imap_seqset *set, const char **error_r);
void imap_seqset_free(imap_seqset *set);

/* Is n in the set, when "*" means max (the largest number in use; a range
 * such as 600:* includes max even when max < 600)?  Not for "$" sets: the
 * caller substitutes the saved result first. */
bool imap_seqset_contains(const imap_seqset *set, uint32_t n, uint32_t max);

/* The largest explicit number in the set ("*" not counted), so that a
 * sequence-number command can refuse numbers past the mailbox's end. */
uint32_t imap_seqset_largest(const imap_seqset *set);

/* The set as sorted, merged ranges with lo <= hi, clipped to 1..max, "*"
 * replaced by max.  out must be freed; it may hold no ranges. */
void imap_seqset_resolve(const imap_seqset *set, uint32_t max, imap_seqset *out);

/* Walk a resolved set in ascending order, each number once. */
typedef struct imap_seqset_iter {
	const imap_seqset *set;
	size_t i;
	uint64_t next;
} imap_seqset_iter;

void imap_seqset_iter_init(imap_seqset_iter *it, const imap_seqset *resolved);
bool imap_seqset_iter_next(imap_seqset_iter *it, uint32_t *n_r);

/* Write v[0, n) as a sequence-set in that order, each run of n, n+1, ...
 * as "n:m" (ESEARCH ALL, ESORT's ALL in sort order, ADDTO / REMOVEFROM,
 * PARTIAL).  False when out is full. */
bool imap_seqset_write(buf *out, const uint32_t *v, size_t n);

#endif
