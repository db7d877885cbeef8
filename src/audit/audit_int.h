/* audit_int.h — what the files of the audit module share among
 * themselves (and with its unit tests): the canonical form and hash of a
 * record (chain.c), the database layout and the append of one record
 * (db.c), pruning inside a transaction (prune.c) and the writer's side
 * door for a prune asked of the running server (store.c).  Not for other
 * modules: they use audit.h. */
#ifndef YUBIN_AUDIT_INT_H
#define YUBIN_AUDIT_INT_H

#include <sqlite3.h>

#include "audit/audit.h"

#define AUDIT_HASH_HEX 64
/* The prev_hash of record 1. */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* A record's data as stored (records.data) and hashed: JSON with sorted
 * keys and no blanks ({} for none).  malloc'd. */
char *audit_data_text(const json_t *data);
/* The bytes a record's hash covers: one JSON object with sorted keys and
 * no blanks, {"data":DATA_TEXT,"id":N,"kind":"...","prev":"HEX","qid":...,
 * "rcpt":...,"time":MS} (qid and rcpt null when absent); rec->data is not
 * read (data_text is its stored form).  malloc'd. */
char *audit_canonical(const audit_record *rec, const char *data_text, const char *prev_hash);
/* hex(SHA-256(canonical)) into out (65 bytes). */
void audit_record_hash(const audit_record *rec, const char *data_text, const char *prev_hash,
                       char out[AUDIT_HASH_HEX + 1]);

/* The end of the chain: the last record's id and hash. */
typedef struct audit_tip {
	int64_t id;
	char hash[AUDIT_HASH_HEX + 1];
} audit_tip;

/* The writer's connection to data_dir/audit.db and its prepared
 * statements (db.c). */
typedef struct audit_db audit_db;

/* Open (creating when missing) data_dir/audit.db for writing, in WAL
 * mode, with the schema; NULL with *err_r. */
audit_db *audit_db_open_rw(const config *cfg, char **err_r);
void audit_db_close(audit_db **db);
sqlite3 *audit_db_handle(audit_db *db);
/* Run one statement without results; false on error (logged). */
bool audit_db_exec(audit_db *db, const char *sql);
/* Read the tip (id 0 and the genesis hash for an empty trail). */
bool audit_db_tip(audit_db *db, audit_tip *tip, char **err_r);
/* Inside a transaction: give rec the next id after tip, store it and
 * bring the summary tables up to date; *stored_r false when the record
 * is a repeat that is not kept (a READ or DELETED already recorded for
 * that message and mailbox).  tip moves on only when it was stored.
 * False on a database error (the caller rolls back). */
bool audit_db_append(audit_db *db, audit_record *rec, audit_tip *tip, bool *stored_r);

/* Inside a transaction on db (the writer's or a lone `yubin audit
 * prune`'s): remove records older than cutoff_ms and the summaries of
 * messages received before it, then append a PRUNED record.  The number
 * of records removed (0: nothing was older, and no PRUNED record is
 * added), or -1 on a database error. */
int64_t audit_db_prune(audit_db *db, int64_t cutoff_ms, audit_tip *tip);

/* A reader: its read-only connection (query.c, verify.c). */
struct audit_reader {
	sqlite3 *h;
};


#endif
