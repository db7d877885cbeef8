/* ctxupdate.h — CONTEXT=SEARCH's UPDATE (RFC 5267 4.3): a SEARCH with
 * RETURN (UPDATE) is kept, and whenever the session is told of changes to
 * its folder (imap_report: new messages, flag changes, expunges) the kept
 * searches run again on a worker and the differences go out unsolicited,
 *   * ESEARCH (TAG "t") UID REMOVEFROM (0 set) ADDTO (0 set)
 * (position 0: a SEARCH result has no order to keep), in message numbers
 * for a SEARCH without UID (an expunged message is then told by EXPUNGE
 * alone).  CANCELUPDATE ends them, and so does leaving the folder.  At
 * most IMAP_CTX_MAX searches a session: past that the answer comes with
 * NO [NOUPDATE "t"]. */
#ifndef YUBIN_IMAP_CTXUPDATE_H
#define YUBIN_IMAP_CTXUPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/session.h"

#define IMAP_CTX_MAX 8

/* Keep the search that command text (as framed; copied) asked for under
 * tag, with its first result: uids[k] for each k where hit[k]. */
void imap_ctx_keep(imap_session *s, const char *tag, const char *text, bool uid, const uint32_t *uids,
                   const bool *hit, size_t n);
/* CANCELUPDATE "tag" *(SP "tag"). */
void imap_ctx_cancel_cmd(imap_session *s, const imap_command *c);
/* The session was told of changes: run the kept searches again when the
 * folder moved on since they last ran. */
void imap_ctx_changed(imap_session *s);
/* Forget them all (the session leaves the folder). */
void imap_ctx_free(imap_session *s);

#endif
