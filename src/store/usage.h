/* usage.h — how much mail an account keeps, for quotas (RFC 9208 STORAGE
 * and MESSAGE resources): the CRLF sizes in its message file names (W=;
 * the file's size when a name has none, as in new/), and the number of
 * messages, over INBOX and every Maildir++ folder, new/ and cur/.
 *
 * Cheap to ask again: each folder's sums are remembered with the
 * modification times of its new/ and cur/ (a file added, removed or
 * renamed changes them) and counted again only when one of them changed,
 * or is so recent that a coarse file-system clock could hide a second
 * change in the same tick.  Touches the disk: workers only.  A store_usage
 * is not shared by threads at once (one per IMAP session). */
#ifndef YUBIN_STORE_USAGE_H
#define YUBIN_STORE_USAGE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct store_usage store_usage;

store_usage *store_usage_new(void);
void store_usage_free(store_usage **u);

/* The bytes and messages of the account whose Maildir (INBOX) is root.
 * False when root cannot be read. */
bool store_usage_get(store_usage *u, const char *root, uint64_t *bytes_r, uint64_t *messages_r);

#endif
