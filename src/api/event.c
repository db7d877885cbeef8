/* event.c — audit records as application events (see event.h): the
 * mapping of kinds to types and fields, ids and times.  It must not read
 * the trail or answer HTTP. */
#include "api/event.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/strutil.h"

/* The kinds that are events, and the data keys each copies after the
 * common fields (in this order). */
static const struct {
	audit_kind kind;
	const char *type;
	const char *keys[4];
} types[] = {
	{AUDIT_RECEIVED, "received", {"sender", "rcpts", "size", NULL}},
	{AUDIT_DELIVERED, "delivered", {"host", "mailbox", NULL}},
	{AUDIT_DEFERRED, "deferred", {"next_try", NULL}},
	{AUDIT_BOUNCED, "bounced", {"status", NULL}},
	{AUDIT_SUPPRESSED, "suppressed", {"reason", NULL}},
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

const char *event_type_name(audit_kind k)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (types[i].kind == k)
			return types[i].type;
	return NULL;
}

int event_type_parse(const char *name)
{
	for (size_t i = 0; name != NULL && i < N_TYPES; i++)
		if (strcmp(types[i].type, name) == 0)
			return (int)types[i].kind;
	return -1;
}

unsigned event_kinds_all(void)
{
	unsigned m = 0;
	for (size_t i = 0; i < N_TYPES; i++)
		m |= 1u << types[i].kind;
	return m;
}

char *event_id(int64_t record_id)
{
	return xasprintf("evt_%lld", (long long)record_id);
}

bool event_id_parse(const char *s, int64_t *record_id_r)
{
	if (s == NULL || strncmp(s, "evt_", 4) != 0 || s[4] == '\0' || strlen(s) > 4 + 18)
		return false;
	int64_t v = 0;
	for (const char *p = s + 4; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (*p - '0');
	}
	*record_id_r = v;
	return true;
}

void event_time_format(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* n digits at *p into *v; false when they are not digits. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

static bool parse_rfc3339(const char *p, int64_t *ms_r)
{
	int y, mo, d, h, mi, s, frac = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' ') || !*p++ || !digits(&p, 2, &h) || *p++ != ':' ||
	    !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &s))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	if (*p == '.') {
		p++;
		int n = 0;
		while (isdigit((unsigned char)*p)) {
			if (n < 3)
				frac = frac * 10 + (*p - '0');
			n++, p++;
		}
		if (n == 0 || n > 9)
			return false;
		for (; n < 3; n++)
			frac *= 10;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
			return false;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
	                .tm_sec = s > 59 ? 59 : s};
	time_t t = timegm(&tm);
	*ms_r = ((int64_t)t - off) * 1000 + frac;
	return true;
}

bool event_time_parse(const char *s, int64_t *ms_r)
{
	if (s == NULL || *s == '\0' || strlen(s) > 40)
		return false;
	size_t n = strspn(s, "0123456789");
	if (s[n] == '\0') {
		if (n > 12)
			return false;
		*ms_r = strtoll(s, NULL, 10) * 1000;
		return true;
	}
	return parse_rfc3339(s, ms_r);
}

/* Copy data[key] into ev (as "recipients" for rcpts, and next_try as an
 * RFC 3339 time). */
static void copy_key(json_t *ev, json_t *data, const char *key)
{
	json_t *v = json_object_get(data, key);
	if (v == NULL)
		return;
	if (strcmp(key, "next_try") == 0 && json_is_integer(v)) {
		char t[32];
		event_time_format(json_integer_value(v) * 1000, t);
		json_object_set_new(ev, "next_try", json_string(t));
	} else {
		json_object_set(ev, strcmp(key, "rcpts") == 0 ? "recipients" : key, v);
	}
}

json_t *event_json(const audit_record *r)
{
	size_t i = 0;
	while (i < N_TYPES && types[i].kind != r->kind)
		i++;
	if (i == N_TYPES)
		return NULL;
	char *id = event_id(r->id), t[32];
	event_time_format(r->time_ms, t);
	json_t *ev = json_object();
	json_object_set_new(ev, "id", json_string(id));
	json_object_set_new(ev, "type", json_string(types[i].type));
	json_object_set_new(ev, "time", json_string(t));
	json_object_set_new(ev, "message_id", r->qid ? json_string(r->qid) : json_null());
	if (r->kind != AUDIT_RECEIVED)
		json_object_set_new(ev, "recipient", r->rcpt ? json_string(r->rcpt) : json_null());
	json_t *reply = json_object_get(r->data, "reply");
	if (r->kind != AUDIT_RECEIVED)
		json_object_set(ev, "reply", json_is_string(reply) ? reply : json_null());
	for (size_t k = 0; k < 4 && types[i].keys[k] != NULL; k++)
		copy_key(ev, r->data, types[i].keys[k]);
	free(id);
	return ev;
}
