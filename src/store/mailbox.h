/* mailbox.h — one Maildir folder as IMAP and POP3 see it: messages with
 * UIDs that never change and are never given twice (the UIDVALIDITY and
 * the next UID live in the folder's yubin-uidlist file; each message's UID
 * is in its file name, see mdname.h), their sizes with CRLF line ends,
 * arrival times and flags.  Opening a folder takes in what delivery (or
 * any Maildir tool) put in new/: it moves each file to cur/ with its UID
 * and size in the name.  Everything here touches the disk: call it from a
 * worker thread.  Two openers of one folder (threads or processes) are
 * serialised by a lock file while they change it. */
#ifndef YUBIN_STORE_MAILBOX_H
#define YUBIN_STORE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct mbox_msg {
	uint32_t uid;
	char *file;            /* its name in cur/ */
	uint64_t vsize;        /* size with CRLF line ends */
	time_t internal;       /* arrival: the file's modification time */
	unsigned flags;        /* MDF_* (mdname.h) */
	uint32_t kw;           /* keywords: bit k is the letter 'a' + k (keywords.h) */
	uint64_t modseq;       /* RFC 7162; kept by store/view.c, 0 here */
	time_t savedate;       /* RFC 8514: when it came into this folder; kept by
	                        * the index (index.h), 0 here */
} mbox_msg;

typedef struct mbox {
	char *path;            /* the Maildir folder */
	uint32_t uidvalidity;
	uint32_t uidnext;
	mbox_msg *msgs;        /* ascending UID */
	size_t n;
} mbox;

/* Open the folder at path (creating tmp/ new/ cur/ and the UID list when
 * missing) and take in new messages.  NULL with *err_r on failure. */
mbox *mbox_open(const char *path, char **err_r);
/* Look again: take in new messages, forget files that are gone. */
bool mbox_sync(mbox *m, char **err_r);
/* Look only in new/: take in what arrived there (the list of cur/ is
 * trusted).  *full_r is set when the folder's UID list no longer matches
 * m (rebuilt meanwhile): then call mbox_sync. */
bool mbox_take_new(mbox *m, bool *full_r, char **err_r);
void mbox_free(mbox **m);
/* Index of uid in m->msgs, or -1. */
long mbox_find(const mbox *m, uint32_t uid);
/* The path of message i's file.  malloc'd. */
char *mbox_msg_path(const mbox *m, size_t i);
/* Remove the messages with these UIDs (unlink; a file already gone counts
 * as removed).  False with *err_r if any could not be removed; those that
 * were are gone from m either way. */
bool mbox_expunge(mbox *m, const uint32_t *uids, size_t n, char **err_r);
/* The path now of the message whose file in folder/cur was called name
 * (someone may have renamed it since: its flags), or NULL when it is gone.
 * malloc'd. */
char *mbox_file_locate(const char *folder, const char *name);
/* The path of message i's file now, after someone else may have renamed
 * it (changed its flags): malloc'd, NULL when it is gone.  m unchanged. */
char *mbox_locate(const mbox *m, size_t i);
/* Read message i's file (at most max bytes; see fs_read_file), looking for
 * it again when someone else renamed it.  NULL when it is gone. */
char *mbox_read(const mbox *m, size_t i, size_t max, size_t *len_r);
/* Find message i again after someone else renamed its file (changed its
 * flags): updates its name and flags; false when it is gone. */
bool mbox_relocate(mbox *m, size_t i);
/* Give message i these flags and keywords (a rename: both are in the
 * name). */
bool mbox_set_flags(mbox *m, size_t i, unsigned flags, uint32_t kw, char **err_r);

#endif
