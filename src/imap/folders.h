/* folders.h — what folders.c knows of the account's folders beyond the
 * path of one name (session.h): every folder's name, the subscriptions,
 * and the special-use attribute of a name.  LIST (list.c) builds on it. */
#ifndef YUBIN_IMAP_FOLDERS_H
#define YUBIN_IMAP_FOLDERS_H

#include <stdbool.h>

#include "imap/session.h"
#include "lib/strutil.h"

/* Append INBOX, then every other folder's name (valid UTF-8 only), sorted. */
void imap_folder_names(const imap_session *s, strlist *out);

/* True when the account has as many folders as limits.imap_max_folders
 * allows (INBOX counts): one more may not be made. */
bool imap_folders_full(const imap_session *s);

/* Append the subscribed names.  False when none were ever changed: then
 * every folder counts as subscribed, and out is left as it was. */
bool imap_subscriptions_read(const imap_session *s, strlist *out);

/* RFC 6154 attribute of the folder called name ("\\Sent"), or NULL. */
const char *imap_folder_special_use(const char *name);

#endif
