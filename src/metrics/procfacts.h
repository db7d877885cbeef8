/* procfacts.h — facts about this process that a scrape reports, read from
 * Linux's /proc at the moment of the scrape: resident memory and open file
 * descriptors.  Nothing is kept between calls. */
#ifndef YUBIN_METRICS_PROCFACTS_H
#define YUBIN_METRICS_PROCFACTS_H

#include <stdbool.h>
#include <stdint.h>

/* Resident set size in bytes (/proc/self/statm's second field times the
 * page size).  False when it cannot be read. */
bool procfacts_resident_bytes(uint64_t *bytes_r);
/* Open file descriptors (entries of /proc/self/fd, without the one used to
 * read it).  False when it cannot be read. */
bool procfacts_open_fds(uint64_t *n_r);
/* The most file descriptors this process may open (RLIMIT_NOFILE). */
bool procfacts_max_fds(uint64_t *n_r);

#endif
