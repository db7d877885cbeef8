/* follow.c — the audit-trail follower (see follow.h): cursor, suppression
 * of bad addresses after a bounce, webhook outbox rows.  It must not send
 * webhooks (api/whsend.c does) or answer HTTP. */
#include "api/follow.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/event.h"
#include "api/hooksdb.h"
#include "api/outbox.h"
#include "api/suppress.h"
#include "api/whstore.h"
#include "audit/audit.h"
#include "auth/accounts.h"
#include "lib/log.h"
#include "lib/strutil.h"

struct follower {
	const config *cfg;
	const webhook_defs *defs;
	sqlite3 *db;            /* this follower's own connection (transactions) */
	audit_reader *trail;    /* opened when the trail exists */
	bool said_no_trail;     /* logged once that the trail is missing */
};

/* An address the batch added, for its AUDIT_SUPPRESSED record. */
typedef struct added {
	char *qid, *rcpt, *reason;
} added;

follower *follower_new(const config *cfg, const webhook_defs *defs)
{
	follower *f = xcalloc(1, sizeof(*f));
	f->cfg = cfg;
	f->defs = defs;
	return f;
}

void follower_free(follower **fp)
{
	follower *f = *fp;
	if (f == NULL)
		return;
	hooksdb_close(&f->db);
	audit_reader_close(&f->trail);
	free(f);
	*fp = NULL;
}

static bool open_both(follower *f, char **err_r)
{
	if (f->db == NULL && (f->db = hooksdb_open(f->cfg, err_r)) == NULL)
		return false;
	if (f->trail == NULL) {
		char *why = NULL;
		f->trail = audit_reader_open(f->cfg, &why);
		if (f->trail == NULL) {
			*err_r = xasprintf("the audit trail cannot be read: %s", why ? why : "unknown error");
			free(why);
			return false;
		}
	}
	return true;
}

/* A bounce of a bad address: add it; remember it in *a when it is new. */
static bool suppress_bounce(follower *f, const audit_record *r, added *a, bool *new_r)
{
	const char *status = json_string_value(json_object_get(r->data, "status"));
	const char *reply = json_string_value(json_object_get(r->data, "reply"));
	*new_r = false;
	if (r->rcpt == NULL || !suppress_status_means_bad_address(status, reply))
		return true;
	char *reason = xasprintf("bounce: %.400s", reply ? reply : status);
	suppress_status s = suppress_add(f->db, r->rcpt, reason, "bounce", reply, r->qid, r->time_ms / 1000);
	if (s == SUP_OK) {
		*a = (added){.qid = r->qid ? xstrdup(r->qid) : NULL, .rcpt = accounts_normalize(r->rcpt),
		             .reason = reason};
		*new_r = true;
		return true;
	}
	free(reason);
	return s != SUP_ERROR; /* SUP_EXISTS, SUP_INVALID (no address): nothing to add */
}

/* The API key that sent r's message ("" when none), looked up once per
 * record; false on a database error. */
static bool owner_of(follower *f, const audit_record *r, char **owner_r)
{
	if (*owner_r != NULL)
		return true;
	char *err = NULL, *key = NULL;
	if (r->qid != NULL && !audit_message_apikey(f->trail, r->qid, &key, &err)) {
		log_event(LOG_LVL_ERROR, "webhooks", "error=\"%s\"", err);
		free(err);
		return false;
	}
	*owner_r = key != NULL ? key : xstrdup("");
	return true;
}

/* Queue r's event for every endpoint of d that wants it (an endpoint a
 * key registered: only the events of that key's messages); *body_r and
 * *owner_r are found on first need (free them after the last list). */
static bool queue_for(follower *f, const webhook_defs *d, const audit_record *r, int64_t now, char **body_r,
                      char **owner_r)
{
	bool ok = true;
	for (size_t i = 0; ok && d != NULL && i < d->n; i++) {
		const webhook_endpoint *e = &d->v[i];
		if (!(e->kinds & (1u << r->kind)))
			continue;
		if (e->apikey != NULL) {
			if (!owner_of(f, r, owner_r))
				return false;
			if (strcmp(*owner_r, e->apikey) != 0)
				continue;
		}
		if (*body_r == NULL) {
			json_t *ev = event_json(r);
			*body_r = ev != NULL ? json_dumps(ev, JSON_COMPACT) : NULL;
			json_decref(ev);
		}
		if (*body_r == NULL)
			return true; /* not an event (or unprintable): nothing to send */
		char *id = event_id(r->id);
		int64_t dropped = 0;
		ok = outbox_add(f->db, id, e->url, *body_r, now, f->cfg->webhooks.max_pending, &dropped);
		if (ok && dropped > 0)
			log_event(LOG_LVL_WARN, "webhook_drop", "host=%s dropped=%lld reason=outbox_full max_pending=%d",
			          e->host, (long long)dropped, f->cfg->webhooks.max_pending);
		free(id);
	}
	return ok;
}

/* ... for the configured endpoints and those registered through the API. */
static bool queue_webhooks(follower *f, const webhook_defs *registered, const audit_record *r, int64_t now)
{
	char *body = NULL, *owner = NULL;
	bool ok = queue_for(f, f->defs, r, now, &body, &owner) && queue_for(f, registered, r, now, &body, &owner);
	free(body);
	free(owner);
	return ok;
}

/* The kinds the follower must see: bounces (the suppression list) and
 * what any endpoint, configured or registered, wants. */
static unsigned wanted_kinds(const webhook_defs *defs, const webhook_defs *registered)
{
	unsigned k = 1u << AUDIT_BOUNCED;
	for (size_t i = 0; defs != NULL && i < defs->n; i++)
		k |= defs->v[i].kinds;
	for (size_t i = 0; registered != NULL && i < registered->n; i++)
		k |= registered->v[i].kinds;
	return k & event_kinds_all();
}

/* The records of rs; the new addresses into a (count *na_r). */
static bool apply(follower *f, const webhook_defs *registered, const audit_records *rs, added *a, size_t *na_r)
{
	int64_t now = (int64_t)time(NULL);
	bool ok = true;
	for (size_t i = 0; ok && i < rs->n; i++) {
		const audit_record *r = &rs->v[i];
		bool is_new = false;
		if (r->kind == AUDIT_BOUNCED)
			ok = suppress_bounce(f, r, &a[*na_r], &is_new);
		if (is_new)
			(*na_r)++;
		ok = ok && queue_webhooks(f, registered, r, now);
	}
	return ok;
}

bool follow_step(follower *f, bool *more_r, char **err_r)
{
	*more_r = false;
	if (!open_both(f, err_r))
		return false;
	/* Nothing new: no transaction.  The follower alone moves the cursor. */
	long long cursor = hooksdb_cursor(f->db);
	int64_t last = 0;
	if (cursor < 0) {
		*err_r = xasprintf("hooks.db: %s", sqlite3_errmsg(f->db));
		return false;
	}
	if (!audit_last_id(f->trail, &last, err_r))
		return false;
	if (last <= cursor)
		return true;
	/* One transaction on hooks.db for the endpoints registered, the batch
	 * and the cursor.  Only the kinds someone wants are read (most of the
	 * trail is RECEIVED records, parsed for nothing otherwise), up to the
	 * last record now stored, and the cursor moves past the rest. */
	if (sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		*err_r = xasprintf("hooks.db: %s", sqlite3_errmsg(f->db));
		return false;
	}
	webhook_defs *registered = whstore_defs(f->db);
	audit_records rs = {0};
	added *a = NULL;
	size_t na = 0;
	char *qerr = NULL;
	bool ok = registered != NULL;
	if (ok) {
		audit_filter flt = {.kinds = wanted_kinds(f->defs, registered), .after_id = cursor, .upto_id = last,
		                    .limit = FOLLOW_BATCH};
		ok = audit_query(f->trail, &flt, &rs, &qerr);
		if (ok && rs.n > 0) {
			a = xcalloc(rs.n, sizeof(*a));
			ok = apply(f, registered, &rs, a, &na);
		}
		/* a full batch stops at its last record; otherwise everything up
		 * to last has been seen */
		int64_t to = rs.n == FOLLOW_BATCH ? rs.v[rs.n - 1].id : last;
		ok = ok && hooksdb_set_cursor(f->db, to);
		*more_r = ok && rs.n == FOLLOW_BATCH;
	}
	webhook_defs_free(&registered);
	ok = ok && sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	if (!ok) {
		*err_r = qerr != NULL ? qerr : xasprintf("hooks.db: %s", sqlite3_errmsg(f->db));
		qerr = NULL;
		sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
		*more_r = false;
	}
	free(qerr);
	for (size_t i = 0; i < na; i++) {
		if (ok) {
			log_event(LOG_LVL_INFO, "suppress_add", "qid=%s address=%s source=bounce reason=%s", a[i].qid,
			          a[i].rcpt, a[i].reason);
			json_t *data = json_pack("{s:s, s:s, s:s}", "rcpt", a[i].rcpt, "reason", a[i].reason, "source",
			                         "bounce");
			audit_emit(AUDIT_SUPPRESSED, a[i].qid, a[i].rcpt, data);
		}
		free(a[i].qid);
		free(a[i].rcpt);
		free(a[i].reason);
	}
	free(a);
	audit_records_free(&rs);
	return ok;
}
