/* chain.c — the canonical byte form of a record and its SHA-256, which
 * chain the trail: each record's hash covers its content and the hash of
 * the record before.  Also the kinds' names.  Pure: no database, no
 * clock, no state. */
#include "audit/audit_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/sha256.h"

static const char *const kind_names[AUDIT_KIND_COUNT] = {
	"received", "policy", "attempt", "delivered", "deferred", "bounced", "suppressed",
	"dsn", "read", "deleted", "journaled", "pruned", "removed",
};

const char *audit_kind_name(audit_kind k)
{
	return (unsigned)k < AUDIT_KIND_COUNT ? kind_names[k] : "unknown";
}

int audit_kind_parse(const char *name)
{
	for (int k = 0; name != NULL && k < AUDIT_KIND_COUNT; k++)
		if (strcasecmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

char *audit_data_text(const json_t *data)
{
	json_t *empty = data == NULL ? json_object() : NULL;
	char *s = json_dumps(data != NULL ? data : empty, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(empty);
	/* strings that are not UTF-8 were refused by json_string: a record
	 * is built by the trail from checked strings, so this is a bug */
	if (s == NULL)
		abort();
	return s;
}

/* s as jansson writes a JSON string (null for none, or for bytes that
 * are not UTF-8, which only an edited database holds). */
static void put_string(buf *b, const char *s)
{
	size_t n = 0;
	while (s != NULL && s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\')
		n++;
	if (s != NULL && s[n] == '\0') { /* printable ASCII that needs no escape: a queue id, most addresses */
		BUF_PUTC(b, '"');
		BUF_APPEND(b, s, n);
		BUF_PUTC(b, '"');
		return;
	}
	json_t *j = s != NULL ? json_string(s) : NULL;
	char *t = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	BUF_PUTS(b, t != NULL ? t : "null");
	free(t);
	json_decref(j);
}

char *audit_canonical(const audit_record *rec, const char *data_text, const char *prev_hash)
{
	/* written out in the sorted order of the keys, which is the order
	 * jansson gave when the record was one object dumped with
	 * JSON_SORT_KEYS (records stored since then hash the same) */
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, "{\"data\":");
	BUF_PUTS(&b, data_text);
	BUF_PRINTF(&b, ",\"id\":%lld,\"kind\":\"%s\",\"prev\":", (long long)rec->id, audit_kind_name(rec->kind));
	put_string(&b, prev_hash);
	BUF_PUTS(&b, ",\"qid\":");
	put_string(&b, rec->qid);
	BUF_PUTS(&b, ",\"rcpt\":");
	put_string(&b, rec->rcpt);
	BUF_PRINTF(&b, ",\"time\":%lld}", (long long)rec->time_ms);
	return buf_steal(&b);
}

void audit_record_hash(const audit_record *rec, const char *data_text, const char *prev_hash,
                       char out[AUDIT_HASH_HEX + 1])
{
	char *c = audit_canonical(rec, data_text, prev_hash);
	sha256_hex(c, strlen(c), out);
	free(c);
}
