/* audit.c (imap) — the audit trail's READ (the first time \Seen is set on
 * a message, by FETCH of its body or by STORE) and DELETED (EXPUNGE,
 * CLOSE) records of an IMAP session.  A stored message is traced back to
 * its queue id through the name local delivery gave its file; messages
 * without one (APPEND, copies) are not in the trail.  Safe on a worker
 * thread (audit_emit is).  The trail keeps only the first READ of a
 * message per mailbox. */
#include "imap/session.h"

#include "audit/audit.h"
#include "delivery/local.h"
#include "queue/qid.h"

void imap_audit_msg(const imap_session *s, const mbox_msg *m, bool deleted)
{
	char qid[QID_LEN + 1];
	if (!audit_is_open() || m->file == NULL || !local_file_qid(m->file, qid))
		return;
	const char *key = s->view != NULL ? imap_folder_key(s, s->view->mb->path) : NULL;
	json_t *d = json_object();
	json_object_set_new(d, "mailbox", audit_str(s->account));
	json_object_set_new(d, "protocol", json_string("imap"));
	json_object_set_new(d, "folder", audit_str(key == NULL || key[0] == '\0' ? "INBOX" : key));
	audit_set(d, "user", s->account);
	audit_set(d, "app_password", s->app);
	audit_emit(deleted ? AUDIT_DELETED : AUDIT_READ, qid, s->account, d);
}
