/* session.h — one IMAP session (RFC 3501 / RFC 9051): its state, the
 * selected mailbox and the replies.  session.c owns the input (command
 * framing by reader.c, SASL response lines) over the connection
 * (net/conn.c); commands.c the commands of every state; folders.c the
 * folders, list.c LIST, names.c the names' wire form; msgops.c the work
 * on messages, done on worker threads. */
#ifndef YUBIN_IMAP_SESSION_H
#define YUBIN_IMAP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "imap/parse.h"
#include "imap/seqset.h"
#include "imap/reader.h"
#include "net/conn.h"
#include "net/server.h"
#include "store/view.h"

#define IMAP_TIMEOUT 1800          /* seconds: RFC 9051 5.4 asks for at least 30 minutes */
#define IMAP_PREAUTH_TIMEOUT 120   /* before login */
#define IMAP_IDLE_TIMEOUT 3600     /* in IDLE: clients re-issue it every 29 minutes */

typedef enum imap_state { IS_NOTAUTH, IS_AUTH, IS_SELECTED } imap_state;

/* What ENABLE (RFC 5161) turned on for the session: bits of `enabled`. */
enum imap_enabled {
	IMAP_ENABLED_REV2 = 1u << 0,      /* IMAP4rev2 (RFC 9051) */
	IMAP_ENABLED_UTF8 = 1u << 1,      /* UTF8=ACCEPT (RFC 6855) */
	IMAP_ENABLED_CONDSTORE = 1u << 2, /* CONDSTORE (RFC 7162) */
	IMAP_ENABLED_QRESYNC = 1u << 3,   /* QRESYNC (RFC 7162 3.2), with CONDSTORE */
};


/* UIDs lo <= uid < hi. */
typedef struct imap_uid_range {
	uint32_t lo, hi;
} imap_uid_range;

/* A message the command names: its number in the session and its UID. */
typedef struct imap_target {
	uint32_t seq, uid;
} imap_target;

typedef struct imap_notify imap_notify;

typedef struct imap_session {
	session_link link;      /* srv->imap_sessions */
	server *srv;
	const config_listener *lst;
	char sid[24];
	char ip[64];
	conn *c;
	imap_reader *rd;
	imap_state state;
	unsigned enabled;       /* IMAP_ENABLED_*: ENABLE, and CONDSTORE by its enabling commands */
	char *account;          /* logged in as */
	char *app;              /* ... with this app password, or NULL */
	char *maildir;          /* the account's INBOX folder */
	/* SASL in progress: the tag of AUTHENTICATE, waiting for a response line */
	char *sasl_tag;
	/* SELECTED */
	char *selected;         /* the mailbox name */
	store_view *view;       /* the folder, shared with other sessions */
	store_viewer *viewer;   /* what this session has told of it */
	bool readonly;          /* EXAMINE */
	bool finishing;         /* stopping: the command begun before the stop still runs */
	imap_uid_range *recent; /* \Recent here (recent.c): claimed or, after EXAMINE, seen */
	size_t n_recent;
	uint32_t recent_seen;   /* UIDs below were looked at for \Recent */
	uint32_t *saved;        /* "$": the saved SEARCH result (RFC 5182), UIDs ascending */
	size_t n_saved;
	struct imap_ctx *ctx;   /* searches kept up to date (RFC 5267 UPDATE), ctxupdate.c */
	int errors;
	char *idle_tag;         /* IDLE: its tag while idling */
	struct store_usage *usage; /* the account's usage, for QUOTA (quota.c; NULL until asked) */
	const char *raw;        /* the command being dispatched, as framed (for SEARCH) */
	size_t raw_len;
	imap_notify *notify;    /* NOTIFY SET in force, or NULL (notify_cmd.c) */
} imap_session;

void imap_session_start(server *srv, const config_listener *lst, int fd, const char *ip);
/* Shutdown: BYE to sessions between commands; free every session. */
void imap_sessions_drain(server *srv, bool force);
void imap_sessions_free(server *srv);

/* session.c: responses, gathered for one write. */
void imap_untagged(imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_tagged(imap_session *s, const char *tag, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void imap_bye(imap_session *s, const char *text);

/* commands.c */
void imap_greet(imap_session *s);
void imap_dispatch(imap_session *s, const imap_command *cmd);
void imap_sasl_response(imap_session *s, char *line);
/* enable.c: ENABLE, in the authenticated state. */
void imap_enable(imap_session *s, const imap_command *c);
/* idle.c: IDLE (RFC 2177): start, and the line that ends it. */
void imap_idle_start(imap_session *s, const imap_command *c);
void imap_idle_line(imap_session *s, const char *line);
void imap_idle_stop(imap_session *s);

/* folders.c: the path of mailbox name for the session's account (NULL when
 * the name cannot be a mailbox). */
char *imap_folder_path(const imap_session *s, const char *name);
/* mboxops.c: true when the folder at path exists (INBOX always does). */
bool imap_folder_exists(const imap_session *s, const char *path);
/* list.c: LIST (with LIST-EXTENDED and LIST-STATUS) and LSUB. */
void imap_list(imap_session *s, const imap_command *c, bool lsub);
void imap_subscribe(imap_session *s, const imap_command *c, bool on);
void imap_rename(imap_session *s, const imap_command *c);

/* msgops.c: SELECT / EXAMINE, FETCH, STORE, EXPUNGE / CLOSE, on workers;
 * each replies (tagged) when done. */
struct imap_select_params;
/* p (imap/qresync.h) is taken over. */
void imap_select(imap_session *s, const char *tag, const char *name, bool readonly,
                 struct imap_select_params *p);
void imap_fetch_cmd(imap_session *s, const imap_command *cmd);
void imap_store_cmd(imap_session *s, const imap_command *cmd);
/* EXPUNGE (uids NULL), UID EXPUNGE (only these UIDs), or CLOSE (quiet). */
void imap_expunge(imap_session *s, const char *tag, bool quiet_close, const imap_seqset *uids);
/* report.c: the session's view of the selected folder.  Which messages a
 * set names (sequence numbers, or UIDs), ascending; *n_r of them.  Call
 * outside the folder's writers (see store/view.h). */
imap_target *imap_targets(const imap_session *s, const imap_seqset *set, bool uid, size_t *n_r);
/* The set of FETCH / STORE / COPY / MOVE (their first argument); false
 * after a BAD, also for a sequence number past the session's last message
 * ("*" in an empty mailbox included), as RFC 9051 9 asks. */
bool imap_parse_set(imap_session *s, const imap_command *c, imap_seqset *set);
/* Tell the client what changed in the folder since it was last told: new
 * messages (EXISTS), changed flags (FETCH), and, when expunges is true (not
 * during FETCH, STORE or SEARCH: RFC 9051 7.5.1), the expunged (EXPUNGE). */
void imap_report(imap_session *s, bool expunges);
/* The Maildir flags (MDF_*) of IMAP system flags (IMAP_FLAG_*). */
unsigned imap_md_flags(unsigned imap);
/* A message's flags and keywords as a parenthesised list (\Recent first
 * when it is recent in the session s). */
/* (s NULL: no \\Recent, as on a worker) */
void imap_write_flags(buf *out, const imap_session *s, const store_view *v, const mbox_msg *m);
/* The untagged FLAGS and PERMANENTFLAGS of the folder. */
void imap_write_flag_lists(imap_session *s);
/* The saved SEARCH result: does it hold uid; replace it (taking uids). */
bool imap_saved_has(const imap_session *s, uint32_t uid);
void imap_saved_set(imap_session *s, uint32_t *uids, size_t n);
/* Leave the selected state (UNSELECT, CLOSE, a new SELECT). */
void imap_unselect(imap_session *s);
/* The folder's key in the account's index ("" for INBOX) from its path. */
const char *imap_folder_key(const imap_session *s, const char *path);
/* audit.c: the audit trail's READ (deleted false: \Seen was just set) or
 * DELETED record of message m of the selected folder (any thread). */
void imap_audit_msg(const imap_session *s, const mbox_msg *m, bool deleted);
/* searcheval.c: SEARCH and UID SEARCH (raw: the command as framed). */
void imap_search_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len);
/* recent.c: \Recent (IMAP4rev1 only).  The messages below UID upto that
 * the session has been told of: those no session claimed become recent
 * here (and claimed, unless EXAMINE). */
void imap_recent_take(imap_session *s, uint32_t upto);
bool imap_recent_has(const imap_session *s, uint32_t uid);
/* The number of the folder's messages recent in the session. */
size_t imap_recent_count(const imap_session *s);
/* The folder is closed. */
void imap_recent_forget(imap_session *s);
/* quota.c: GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208). */
void imap_quota_cmd(imap_session *s, const imap_command *c);
/* On a worker, while the session waits: would adding these bytes and
 * messages take the account past limits.mailbox_quota or
 * limits.mailbox_quota_messages? */
bool imap_quota_exceeded(imap_session *s, uint64_t bytes, uint64_t messages);
/* True for the errno of a write that failed for want of room (ENOSPC,
 * EDQUOT): told to the client as NO [OVERQUOTA], not as a server bug. */
bool imap_disk_full(int err);
/* On a worker, after a write failed in a way that tells no errno (the
 * index, a folder that could not be opened): has the file system holding
 * path no room left (a few blocks at most, or no inode)? */
bool imap_disk_full_at(const char *path);
/* cmd_sort.c, cmd_thread.c: SORT and THREAD (RFC 5256), their UID forms. */
void imap_sort_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len);
void imap_thread_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len);
/* copy.c: COPY and MOVE, and their UID forms. */
void imap_copy(imap_session *s, const imap_command *c, bool move);
/* RENAME INBOX: every message of INBOX moves into the folder at dst_path
 * (made already); INBOX stays, empty. */
void imap_rename_inbox(imap_session *s, const char *tag, const char *dst_path);
/* mboxops.c: STATUS, APPEND, CREATE / DELETE, on workers. */
void imap_status(imap_session *s, const imap_command *c);
/* The "* STATUS" response for name (STATUS, and LIST-STATUS, RFC 5819):
 * items are IMAP_STATUS_* of imap/status.h. */
struct imap_status_counts;
void imap_status_reply(imap_session *s, const char *name, unsigned items,
                       const struct imap_status_counts *counts);
void imap_append(imap_session *s, const imap_command *c);
void imap_create_delete(imap_session *s, const imap_command *c, bool create);
/* NOOP / CHECK in the selected state: take in what changed, tell it (verb:
 * a string that lives on, for the tagged reply; tag NULL: no tagged reply,
 * as for a look while in IDLE). */
void imap_sync(imap_session *s, const char *tag, const char *verb);
/* qresync_cmd.c (RFC 7162 3.2), on workers inside the gate: the VANISHED
 * (EARLIER) response of SELECT with QRESYNC (nothing when it
 * was not given or names another UIDVALIDITY); VANISHED (EARLIER) of UID
 * FETCH (CHANGEDSINCE since VANISHED) for uids ("$": saved[0..n_saved)).
 * On the loop: "* VANISHED" for these UIDs (ascending). */
void imap_qresync_select_work(store_view *v, const struct imap_select_params *p, buf *out);
/* On the loop, after VANISHED (EARLIER): the FETCH (UID FLAGS MODSEQ) of
 * each message changed since the client's mod-sequence (with \Recent, which
 * only the session knows). */
void imap_qresync_select_fetches(imap_session *s, const struct imap_select_params *p);
void imap_qresync_fetch_work(store_view *v, uint64_t since, const imap_seqset *uids,
                             const uint32_t *saved, size_t n_saved, buf *out);
void imap_report_vanished(imap_session *s, const uint32_t *uids, size_t n);
/* notify_cmd.c (RFC 5465): NOTIFY; its end with the session; after a
 * SELECT or an IDLE, push the selected mailbox's changes as NOTIFY asks;
 * and tell the account's other sessions that name was created (on true)
 * or deleted, renamed from old, or (un)subscribed (on: subscribed), event
 * being IMAP_NOTIFY_MAILBOX_NAME or IMAP_NOTIFY_SUBSCRIPTION_CHANGE. */
void imap_notify_cmd(imap_session *s, const imap_command *c);
void imap_notify_free(imap_session *s);
void imap_notify_arm(imap_session *s);
/* Between commands: tell what NOTIFY held back while a command ran. */
void imap_notify_pending(imap_session *s);
void imap_notify_mailbox(imap_session *from, unsigned event, const char *name, const char *old, bool on);

#endif
