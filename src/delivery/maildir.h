/* maildir.h — writing one message into a Maildir (tmp, fsync, link into new/,
 * fsync new/), with a caller-chosen unique name so that a repeated delivery
 * of the same queue entry is detected instead of duplicated.  Knows nothing
 * about the queue or accounts. */
#ifndef YUBIN_MAILDIR_H
#define YUBIN_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum maildir_status { MD_OK, MD_ALREADY, MD_ERROR } maildir_status;

/* The Maildir of address under mail_root: mail_root/<domain>/<local part>,
 * with '/', '%' and a leading '.' in either part escaped as %XX so that an
 * address can never name a path outside its domain folder.  malloc'd. */
char *maildir_path(const char *mail_root, const char *address);
/* Is path a Maildir already (its cur/ there)? */
bool maildir_exists(const char *path);
/* Create path and its tmp/ new/ cur/ (mode 0700) if missing. */
bool maildir_create(const char *path);
/* Deliver prefix + body as new/<name>.  MD_ALREADY when new/<name> exists
 * with exactly that size (an earlier delivery of the same entry); a file of
 * another size there is a torn earlier attempt and is replaced.  On
 * MD_ERROR *err_r names the step that failed and errno is set. */
maildir_status maildir_deliver(const char *path, const char *name,
                               const char *prefix, size_t prefix_len,
                               const char *body, size_t body_len, const char **err_r);
/* The same, straight into cur/<cur_name> (a name with its ":2,<flags>"
 * info, for a copy that is delivered with flags); NULL: new/<name>.  The
 * temporary file is tmp/<name>; MD_ALREADY when cur/<cur_name> is there
 * with the size. */
maildir_status maildir_deliver_as(const char *path, const char *name, const char *cur_name, const char *prefix,
                                  size_t prefix_len, const char *body, size_t body_len, const char **err_r);
/* True when new/<name> is there with size bytes: an earlier attempt wrote
 * it whole (maildir_deliver would answer MD_ALREADY). */
bool maildir_in_new(const char *path, const char *name, size_t size);
/* True when cur/ holds name, or name followed by ":2,..." or by the
 * store's ",U=..." fields (delivered, then taken in by a mail reader or the
 * store).  Used by recovery after a crash. */
bool maildir_has(const char *path, const char *name);

#endif
