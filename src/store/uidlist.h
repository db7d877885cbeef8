/* uidlist.h — a folder's UIDVALIDITY and next UID (RFC 9051 2.3.1.1), in
 * <folder>/yubin-uidlist as one line "yubin-uidlist 1 <uidvalidity>
 * <uidnext>".  Written before any UID it covers is given out, atomically,
 * so a crash can never lead to a UID given twice. */
#ifndef YUBIN_STORE_UIDLIST_H
#define YUBIN_STORE_UIDLIST_H

#include <stdbool.h>
#include <stdint.h>

typedef struct uidlist {
	uint32_t uidvalidity;
	uint32_t uidnext;
} uidlist;

/* A UIDVALIDITY for a folder that has none yet (made, or made again after
 * a DELETE): the time, but always above every one given before in the
 * account, kept in <account>/yubin-uidvalidity, so a mailbox deleted and
 * created again within one second never shows the old value (RFC 9051
 * 2.3.1.1).  folder is the account's Maildir or a ".name" folder in it.
 * 0 (errno set) when the counter cannot be kept. */
uint32_t uidlist_new_validity(const char *folder);

/* False when the file is missing or not in this format. */
bool uidlist_read(const char *folder, uidlist *out);
/* Write (temporary file, fsync, rename, directory fsync); false with errno. */
bool uidlist_write(const char *folder, const uidlist *ul);

#endif
