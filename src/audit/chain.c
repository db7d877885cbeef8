/* chain.c — the canonical byte form of a record and its SHA-256, which
 * chain the trail: each record's hash covers its content and the hash of
 * the record before.  Also the kinds' names.  Pure: no database, no
 * clock, no state. */
#include "audit/audit_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

char *audit_canonical(const audit_record *rec, const char *prev_hash)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(rec->id));
	json_object_set_new(o, "time", json_integer(rec->time_ms));
	json_object_set_new(o, "kind", json_string(audit_kind_name(rec->kind)));
	json_object_set_new(o, "qid", str_or_null(rec->qid));
	json_object_set_new(o, "rcpt", str_or_null(rec->rcpt));
	json_object_set_new(o, "data", rec->data != NULL ? json_incref(rec->data) : json_object());
	json_object_set_new(o, "prev", json_string(prev_hash));
	/* strings that are not UTF-8 were refused by json_string: a record
	 * is built by the trail from checked strings, so this is a bug */
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(o);
	if (s == NULL)
		abort();
	return s;
}

void audit_record_hash(const audit_record *rec, const char *prev_hash, char out[AUDIT_HASH_HEX + 1])
{
	char *c = audit_canonical(rec, prev_hash);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_Digest(c, strlen(c), md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort();
	free(c);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}
