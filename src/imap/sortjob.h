/* sortjob.h — the work SORT and THREAD share (RFC 5256): the command
 * re-parsed into a copy the job keeps (the search tree points into it),
 * and on a worker, under the folder's gate as a reader, each of the
 * session's messages matched against the search keys, and for each hit
 * what sortkey.h knows of it (its header read only when a criterion needs
 * it).  The command's finish function then answers on the loop. */
#ifndef YUBIN_IMAP_SORTJOB_H
#define YUBIN_IMAP_SORTJOB_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/search.h"
#include "imap/session.h"
#include "imap/sortkey.h"
#include "imap/thread.h"

typedef struct imap_sortjob imap_sortjob;
struct imap_sortjob {
	imap_session *s;
	char *tag;
	bool uid;
	imap_command cmd;            /* the command, parsed from text */
	char *text;
	imap_search q;               /* the keys (and SORT's RETURN options) */
	bool need_header;            /* a criterion reads the header */
	imap_sort_prog prog;         /* SORT */
	imap_thread_alg alg;         /* THREAD */
	imap_sort_msg *hits;         /* the matching messages, in sequence order */
	size_t nhits;
	void (*finish)(imap_sortjob *j); /* on the loop: the responses */
	/* the job's */
	uint32_t *uids;
	size_t n;
};

/* A job for command c (raw: as framed); NULL after replying BAD when the
 * command cannot be parsed again. */
imap_sortjob *imap_sortjob_new(imap_session *s, const imap_command *c, const char *raw, size_t raw_len);
/* The charset argument at a: false after replying (BAD when it is
 * missing, NO [BADCHARSET] when unknown). */
bool imap_sortjob_charset(imap_sortjob *j, const imap_arg *a);
/* Read the search keys from a on; false after replying BAD. */
bool imap_sortjob_keys(imap_sortjob *j, const imap_arg *a);
/* Run it: finish is called on the loop, then the job is freed. */
void imap_sortjob_run(imap_sortjob *j, void (*finish)(imap_sortjob *j));
void imap_sortjob_free(imap_sortjob **j);

#endif
