/* store.h — the arguments of STORE after the sequence set (RFC 9051 6.4.6,
 * RFC 7162 3.1.3): an optional "(UNCHANGEDSINCE n)", then FLAGS, +FLAGS or
 * -FLAGS with an optional .SILENT, then a flag list or flags separated by
 * spaces.  Applying them to messages is the server's job. */
#ifndef YUBIN_IMAP_STORE_H
#define YUBIN_IMAP_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "imap/flags.h"
#include "imap/parse.h"

typedef enum imap_store_mode {
	IMAP_STORE_REPLACE,     /* FLAGS */
	IMAP_STORE_ADD,         /* +FLAGS */
	IMAP_STORE_REMOVE,      /* -FLAGS */
} imap_store_mode;

typedef struct imap_store {
	imap_store_mode mode;
	bool silent;
	bool has_unchangedsince;
	uint64_t unchangedsince;   /* mod-sequence-valzer: 0..2^63-1 */
	imap_flags flags;
} imap_store;

/* Read the arguments starting at args (the one after the sequence set).
 * Free st afterwards whatever the result. */
bool imap_store_parse(const imap_arg *args, imap_store *st, const char **error_r);
void imap_store_free(imap_store *st);

#endif
