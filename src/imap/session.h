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
#include "store/mailbox.h"

#define IMAP_TIMEOUT 1800          /* seconds: RFC 9051 5.4 asks for at least 30 minutes */
#define IMAP_PREAUTH_TIMEOUT 120   /* before login */
#define IMAP_IDLE_TIMEOUT 3600     /* in IDLE: clients re-issue it every 29 minutes */

typedef enum imap_state { IS_NOTAUTH, IS_AUTH, IS_SELECTED } imap_state;

/* What ENABLE (RFC 5161) turned on for the session: bits of `enabled`. */
enum imap_enabled {
	IMAP_ENABLED_REV2 = 1u << 0,      /* IMAP4rev2 (RFC 9051) */
	IMAP_ENABLED_UTF8 = 1u << 1,      /* UTF8=ACCEPT (RFC 6855) */
	IMAP_ENABLED_CONDSTORE = 1u << 2, /* CONDSTORE (RFC 7162) */
};

typedef struct imap_session {
	session_link link;      /* srv->imap_sessions */
	server *srv;
	const config_listener *lst;
	char sid[24];
	char ip[64];
	conn *c;
	imap_reader *rd;
	imap_state state;
	unsigned enabled;       /* IMAP_ENABLED_*, set by ENABLE only */
	char *account;          /* logged in as */
	char *maildir;          /* the account's INBOX folder */
	/* SASL in progress: the tag of AUTHENTICATE, waiting for a response line */
	char *sasl_tag;
	/* SELECTED */
	char *selected;         /* the mailbox name */
	mbox *mb;
	bool readonly;          /* EXAMINE */
	int errors;
	/* IDLE: the tag, the folder watch, a look at the folder in progress */
	char *idle_tag;
	struct watch_sub *idle_sub;
	bool idle_syncing, idle_again;
	const char *raw;        /* the command being dispatched, as framed (for SEARCH) */
	size_t raw_len;
} imap_session;

void imap_session_start(server *srv, const config_listener *lst, int fd, const char *ip);
/* Shutdown: BYE to sessions between commands; free every session. */
void imap_sessions_drain(server *srv);
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
/* idle.c: IDLE (RFC 2177): start, the line that ends it, and the end of a
 * look at the folder made while idling. */
void imap_idle_start(imap_session *s, const imap_command *c);
void imap_idle_line(imap_session *s, const char *line);
void imap_idle_synced(imap_session *s);
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
void imap_select(imap_session *s, const char *tag, const char *name, bool readonly);
void imap_fetch_cmd(imap_session *s, const imap_command *cmd);
void imap_store_cmd(imap_session *s, const imap_command *cmd);
/* EXPUNGE (uids NULL), UID EXPUNGE (only these UIDs), or CLOSE (quiet). */
void imap_expunge(imap_session *s, const char *tag, bool quiet_close, const imap_seqset *uids);
/* Which messages a set names (sequence numbers, or UIDs): indexes into
 * m->msgs, ascending; *n_r of them. */
size_t *imap_targets(const mbox *m, const imap_seqset *set, bool uid, size_t *n_r);
/* searcheval.c: SEARCH and UID SEARCH (raw: the command as framed). */
void imap_search_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len);
/* copy.c: COPY and MOVE, and their UID forms. */
void imap_copy(imap_session *s, const imap_command *c, bool move);
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

#endif
