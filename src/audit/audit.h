/* audit.h — the audit trail: every message's timeline, kept durably in
 * SQLite (data_dir/audit.db) next to the queue, as append-only records
 * chained by hash (each record carries the SHA-256 of the one before it),
 * so that `yubin audit verify` proves nothing was altered or removed.
 *
 * Writers call audit_emit from any thread (the event loop, a worker); it
 * never blocks on the disk: records go to a bounded in-memory queue that
 * one writer thread stores in batches (one transaction per batch), giving
 * each its id, time order and hash.  When the trail is not open (the CLI,
 * unit tests, audit.enabled = false) audit_emit does nothing.
 *
 * Readers (yubin trace, the HTTP API, the dashboard, the webhook sender)
 * open the database on their own (audit_reader_open) and query it; a
 * query never writes.
 *
 * This module must not know SMTP, IMAP, POP3 or HTTP: callers pass what
 * they know as a JSON object (jansson), whose keys are listed below for
 * each kind so that every reader can rely on them. */
#ifndef YUBIN_AUDIT_H
#define YUBIN_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/strutil.h"

/* What a record says.  The data keys each kind carries (all optional
 * unless marked *; times are in the record itself):
 *   RECEIVED   * listener ("smtp", "submission", ... "https"), * client_ip,
 *              client_name, helo, tls_version, tls_cipher, user, apikey
 *              (the key's name), * sender, * rcpts (array), size,
 *              message_id, subject (as audit.subject says: plain, or
 *              "sha256:HEX", or absent), spf, dkim, dmarc
 *   POLICY     * stage, * decision, by, matched (array of rule names),
 *              hold, junk (bools), code, status, text, rcpt, sender,
 *              client_ip
 *   ATTEMPT    one connection's try for some recipients: * rcpts (array),
 *              host (MX or relay name), ip, port, tls_version, tls_cipher,
 *              tls_verified (bool), * reply (the remote reply or our
 *              reason), code (int), duration_ms (int), relay (bool)
 *   DELIVERED  a recipient is done: * rcpt, mailbox (local) or host,
 *              reply
 *   DEFERRED   a recipient will be tried again: * rcpt, reply, next_try
 *              (unix seconds)
 *   BOUNCED    a recipient failed for good: * rcpt, * reply, status
 *   SUPPRESSED a recipient was added to the suppression list: * rcpt,
 *              reason, source ("bounce" with the bounced message's qid,
 *              "manual" with no qid and the apikey that added it)
 *   DSN        a delivery status notification was queued: * dsn_qid,
 *              * action ("failed", "delayed", "delivered"), rcpts (array)
 *   READ       first read of a stored message: * mailbox, * protocol
 *              ("imap", "pop3"), folder, user
 *   DELETED    removed from a mailbox: * mailbox, * protocol, folder, user
 *   JOURNALED  a copy went to the journal: * journal_qid, * to
 *   PRUNED     records older than the retention were removed: * first_id
 *              (the oldest record kept), * prev_hash (the hash that record
 *              chains from), removed (int)
 *   REMOVED    an administrator took the message out of the queue (`yubin
 *              queue delete`, the dashboard): * op ("delete"); every
 *              recipient not delivered or bounced yet ends "removed"
 * A record's rcpt column repeats data.rcpt (for the per-recipient kinds),
 * so queries by recipient use an index. */
typedef enum audit_kind {
	AUDIT_RECEIVED,
	AUDIT_POLICY,
	AUDIT_ATTEMPT,
	AUDIT_DELIVERED,
	AUDIT_DEFERRED,
	AUDIT_BOUNCED,
	AUDIT_SUPPRESSED,
	AUDIT_DSN,
	AUDIT_READ,
	AUDIT_DELETED,
	AUDIT_JOURNALED,
	AUDIT_PRUNED,
	AUDIT_REMOVED,
	AUDIT_KIND_COUNT
} audit_kind;

/* "received", "policy", ... and back (-1 when unknown). */
const char *audit_kind_name(audit_kind k);
int audit_kind_parse(const char *name);

/* The server opens the trail at start and closes it at stop (after the
 * loop and the workers: every record emitted before is stored).  False
 * with *err_r (malloc'd sentence) when the database cannot be opened. */
bool audit_open(const config *cfg, char **err_r);
void audit_close(void);
bool audit_is_open(void);

/* Append a record about message qid (NULL when the record is about no
 * message) and recipient rcpt (NULL when about none).  data is taken
 * (decref'd by the trail), may be NULL.  Thread-safe, never waits: not
 * for the disk, not for room (the event loop emits); a record is never
 * dropped. */
void audit_emit(audit_kind kind, const char *qid, const char *rcpt, json_t *data);

/* True while more than AUDIT_BACKLOG_MAX records wait to be stored (the
 * database fails or the disk is far behind): new mail is then refused
 * with a temporary error, so the queue of records stops growing with new
 * messages and none is lost. */
#define AUDIT_BACKLOG_MAX 65536
bool audit_backlogged(void);

/* Wait until every record emitted before this call is stored (tests, the
 * API's GET right after a send, shutdown).  Loop or worker thread. */
void audit_sync(void);

/* Helpers for building a record's data.  audit_str: s as a JSON string
 * (json null for NULL), cut to AUDIT_STR_MAX bytes, with every byte that
 * is not part of valid UTF-8 turned into '?', so a record never loses a
 * field to a bad byte.  audit_set: o[key] = audit_str(s) when s is
 * neither NULL nor "". */
#define AUDIT_STR_MAX 4096
json_t *audit_str(const char *s);
void audit_set(json_t *o, const char *key, const char *s);

/* The Subject as the trail keeps it under audit.subject: NULL ("off" or
 * no subject), "sha256:HEX" of it ("hash"), or a copy ("plain").
 * malloc'd. */
char *audit_subject_form(const config *cfg, const char *subject);

/* Unix time in milliseconds, as records carry it. */
int64_t audit_now_ms(void);

/* True when the trail is wanted (audit.enabled).  The emitters check
 * audit_is_open, this is for start-up. */
bool audit_enabled(const config *cfg);

/* ---- Reading ---- */

typedef struct audit_reader audit_reader;

/* Open data_dir/audit.db read-only; NULL with *err_r when it is missing
 * or unreadable. */
audit_reader *audit_reader_open(const config *cfg, char **err_r);
void audit_reader_close(audit_reader **r);

typedef struct audit_record {
	int64_t id;          /* 1, 2, 3, ... in the order stored */
	int64_t time_ms;     /* unix time in milliseconds */
	audit_kind kind;
	char *qid;           /* NULL when none */
	char *rcpt;          /* NULL when none */
	json_t *data;        /* never NULL (an empty object at least) */
} audit_record;

typedef struct audit_records {
	audit_record *v;
	size_t n;
} audit_records;
void audit_records_free(audit_records *rs);

/* Which records a query wants; zero / NULL fields do not restrict. */
typedef struct audit_filter {
	const char *qid;
	const char *sender;     /* the message's envelope sender (exact, case-insensitive) */
	const char *rcpt;       /* a recipient of the message */
	const char *apikey;     /* records of messages sent through the API
	                         * with this key, and records of no message
	                         * whose data.apikey is it (its events) */
	int64_t since_ms, until_ms;
	unsigned kinds;         /* bit (1u << kind) per kind wanted; 0: every kind */
	const char *status;     /* messages whose recipients' final state is this:
	                         * "queued", "delivered", "deferred", "bounced" */
	int64_t after_id;       /* cursor: only records with a larger id */
	int64_t upto_id;        /* and not past this one (0: no bound) */
	size_t limit;           /* at most this many (0: 100; at most 1000) */
} audit_filter;

/* Records matching f, oldest first.  With sender, rcpt or status the
 * whole timeline of each matching message is returned (every record with
 * its qid).  False with *err_r on a database error. */
bool audit_query(audit_reader *r, const audit_filter *f, audit_records *out, char **err_r);
/* The id of the last record stored (0 for an empty trail) into *id_r;
 * false with *err_r on a database error. */
bool audit_last_id(audit_reader *r, int64_t *id_r, char **err_r);

/* A message's recipients with their current state ("queued", "deferred",
 * "delivered", "bounced") and last reply, as JSON:
 * [{"rcpt": ..., "state": ..., "reply": ..., "time": ms, "read": ms,
 * "deleted": ms}, ...] (read / deleted only for a local mailbox that was
 * read / deleted); NULL when the trail knows no such message (or on a
 * database error, with *err_r). */
json_t *audit_message_state(audit_reader *r, const char *qid, char **err_r);

/* The name of the API key that sent message qid into *apikey_r
 * (malloc'd), NULL when it came another way or is unknown.  False with
 * *err_r on a database error. */
bool audit_message_apikey(audit_reader *r, const char *qid, char **apikey_r, char **err_r);

/* Counts per hour of received, delivered, deferred, bounced records in
 * [since_ms, until_ms): out[hour][0..3]; *n_hours_r hours from the hour
 * of since_ms.  For the dashboard's charts and metrics. */
bool audit_hourly(audit_reader *r, int64_t since_ms, int64_t until_ms,
                  uint32_t (**out_r)[4], size_t *n_hours_r, char **err_r);

/* A time for --since / --until: "30m", "12h", "2d", "1w" ago from now_ms,
 * a date "2026-12-01" (00:00 UTC), "2026-12-01T10:30" or
 * "2026-12-01 10:30[:SS]" (UTC), or unix seconds ("@1764547200").  False
 * with *err_r (malloc'd sentence) when s is none of these. */
bool audit_parse_when(const char *s, int64_t now_ms, int64_t *ms_r, char **err_r);
/* "delivered", "deferred", "bounced" (also "queued"). */
bool audit_status_valid(const char *s);

/* Check the whole chain: every record's hash matches its content and the
 * hash of the one before (from the last PRUNED record's prev_hash, if
 * any).  True when intact; else false with *err_r naming the first bad
 * record id and why.  *n_checked_r gets the records checked. */
bool audit_verify(audit_reader *r, int64_t *n_checked_r, char **err_r);

/* Remove records older than days, keeping the chain verifiable (a PRUNED
 * record is appended; see above).  Opens the database for writing on its
 * own (the server runs it daily; `yubin audit prune` by hand).  The
 * number removed, or -1 with *err_r. */
int64_t audit_prune(const config *cfg, int days, char **err_r);

#endif
