/* messages.c — POST /v1/messages: a message from an application, as JSON
 * (api/msgjson.h, built by api/compose.h) or as a raw RFC 5322 message
 * (Content-Type: message/rfc822), sent through the internal submission
 * session (api/inject.h).  The steps:
 *   loop:   the media type, the Idempotency-Key's form, the key's rate;
 *   loop (a body of up to INLINE_BODY_MAX without an Idempotency-Key) or
 *   worker: read and check the body, the sender's domain against the key's,
 *           the MIME message, the suppression list, the Idempotency-Key
 *           record (a replay, a conflict, or in flight);
 *   loop:   the daily quota (api/quota.h), the injection, and what its SMTP
 *           replies mean for HTTP (the one place that maps them:
 *           smtp_status); the rate and quota given back when nothing was
 *           sent;
 *   worker: with an Idempotency-Key, the answer kept for it (or the record
 *           dropped when the answer is temporary); then the answer.
 * An answer is kept before it is given, so a client that retries after a
 * crash or a lost connection gets it again instead of a second message. */
#include "api/state.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/compose.h"
#include "api/hooks.h"
#include "api/idem.h"
#include "api/inject.h"
#include "api/msgjson.h"
#include "api/quota.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "mime/address.h"
#include "mime/header.h"

/* Bodies up to this size are read and composed on the loop (a 4 KiB JSON
 * body takes some 30 µs); larger ones on the quick lane. */
#define INLINE_BODY_MAX (64 * 1024)

typedef struct send_req {
	http_req *r;
	api_state *a;
	api_caller *caller;       /* lives as long as the server */
	/* copied on the loop for the worker */
	int64_t key_id, daily;
	char *key_name;
	strlist domains;
	bool raw;
	const char *body;         /* the request's (valid until it is answered) */
	size_t body_len;
	char *to_param;           /* raw: ?to= */
	char *idem_key;           /* NULL: none */
	char body_hash[65];
	char *run;
	msgjson_limits lim;
	int64_t message_size;
	char *hostname;
	int64_t idem_ttl;
	time_t now;
	int64_t day;
	/* found on the worker */
	api_problem prob;
	json_t *prob_extra;
	char *retry_after;
	idem_status idem;
	int replay_status;
	char *replay_body;
	bool quota_taken, rate_taken;
	char *sender;
	strlist rcpts;
	char *message;
	size_t message_len;
	char *message_id;
	bool require_tls;         /* "require_tls": submitted with REQUIRETLS */
	char *qid;                /* the queue id of an accepted message */
	/* the answer */
	api_inject *inj;
	int status;
	char *answer;             /* JSON text */
	const char *content_type;
} send_req;

static void send_free(send_req *s)
{
	free(s->key_name);
	free(s->qid);
	strlist_free(&s->domains);
	free(s->to_param);
	free(s->idem_key);
	free(s->run);
	free(s->hostname);
	api_problem_free(&s->prob);
	json_decref(s->prob_extra);
	free(s->retry_after);
	free(s->replay_body);
	free(s->sender);
	strlist_free(&s->rcpts);
	free(s->message);
	free(s->message_id);
	free(s->answer);
	free(s);
}

/* ---- answers ---- */

/* A problem as http_problem writes it, with extra members (taken). */
static char *problem_text(http_req *r, const api_problem *p, json_t *extra)
{
	json_t *j = json_object();
	char *type = xasprintf("/v1/problems/%s", p->slug);
	json_object_set_new(j, "type", json_string(type));
	free(type);
	json_object_set_new(j, "title", json_string(p->title));
	json_object_set_new(j, "status", json_integer(p->status));
	if (p->detail != NULL)
		json_object_set_new(j, "detail", json_string(p->detail));
	if (p->field != NULL)
		json_object_set_new(j, "field", json_string(p->field));
	json_object_set_new(j, "request_id", json_string(http_req_id(r)));
	if (extra != NULL)
		json_object_update(j, extra);
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	return text;
}

/* The answer decided (s->status, s->answer), given now. */
static void answer(send_req *s)
{
	http_req *r = s->r;
	if (s->retry_after != NULL)
		http_add_header(r, "Retry-After", s->retry_after);
	if (s->idem == IDEM_REPLAY)
		http_add_header(r, "Idempotency-Replayed", "true");
	/* one line a request (the queue's lines follow the message by qid) */
	log_event(LOG_LVL_INFO, "api_send", "rid=%s apikey=%s status=%d idempotency=%s qid=%s from=%s rcpts=%zu",
	          http_req_id(r), s->key_name, s->status,
	          s->idem_key == NULL ? "none" : s->idem == IDEM_REPLAY ? "replayed" : "new", s->qid ? s->qid : "-",
	          s->sender ? s->sender : "-", s->rcpts.n);
	http_req_on_abort(r, NULL, NULL); /* before the reply, which frees r */
	http_reply(r, s->status, s->content_type, s->answer, strlen(s->answer));
	send_free(s);
}

/* Decide the answer from s->prob. */
static void set_problem_answer(send_req *s)
{
	s->status = s->prob.status;
	free(s->answer);
	s->answer = problem_text(s->r, &s->prob, s->prob_extra);
	s->content_type = "application/problem+json";
}

static void problem_now(http_req *r, int status, const char *slug, const char *title, const char *field,
                        const char *detail)
{
	http_problem(r, status, slug, title, detail, field);
}

/* ---- the worker's half: reading, checking, composing ---- */

static bool domain_allowed(const send_req *s, const char *address)
{
	const char *at = strrchr(address, '@');
	for (size_t i = 0; at != NULL && i < s->domains.n; i++)
		if (str_ascii_ieq(at + 1, s->domains.items[i]))
			return true;
	return false;
}

static void add_rcpt(send_req *s, const char *a)
{
	for (size_t i = 0; i < s->rcpts.n; i++)
		if (str_ascii_ieq(s->rcpts.items[i], a))
			return;
	strlist_add(&s->rcpts, a);
}

static bool prepare_json(send_req *s)
{
	api_msg m;
	bool ok = msgjson_parse(s->body, s->body_len, &s->lim, &m, &s->prob);
	if (ok) {
		s->sender = xstrdup(m.from.email);
		s->require_tls = m.require_tls;
		const api_addrs *lists[] = {&m.to, &m.cc, &m.bcc};
		for (size_t l = 0; l < 3; l++)
			for (size_t i = 0; i < lists[l]->n; i++)
				add_rcpt(s, lists[l]->v[i].email);
		buf b;
		buf_init(&b, BUF_UNBOUNDED);
		compose_opts o = {.hostname = s->hostname, .now = s->now, .random = NULL};
		compose_message(&m, &o, &b, &s->message_id);
		s->message_len = b.len;
		s->message = buf_steal(&b);
	}
	api_msg_free(&m);
	return ok;
}

/* The addresses of a header field's value into the recipients. */
static bool raw_field_rcpts(send_req *s, const char *msg, size_t hdr_end, const char *name)
{
	char *v = mime_header_value(msg, 0, hdr_end, name);
	if (v == NULL)
		return true;
	mime_addrlist l;
	mime_parse_addresses(v, &l);
	free(v);
	bool ok = true;
	for (size_t i = 0; i < l.n && ok; i++) {
		if (l.items[i].mailbox == NULL || l.items[i].host == NULL)
			continue; /* group markers */
		char *a = xasprintf("%s@%s", l.items[i].mailbox, l.items[i].host);
		if (!msgjson_valid_email(a)) {
			api_problem_set(&s->prob, 422, "invalid-field", "A field of the message is not valid", name,
			                "\"%s\" in the %s field is not a valid address", a, name);
			ok = false;
		} else {
			add_rcpt(s, a);
		}
		free(a);
	}
	mime_addrlist_free(&l);
	return ok;
}

/* A raw message: LF line ends; the sender from its From field; the
 * recipients from ?to= (comma-separated) or else its To, Cc and Bcc. */
static bool prepare_raw(send_req *s)
{
	char *msg = xmalloc(s->body_len + 1);
	size_t n = 0;
	for (size_t i = 0; i < s->body_len; i++)
		if (!(s->body[i] == '\r' && i + 1 < s->body_len && s->body[i + 1] == '\n'))
			msg[n++] = s->body[i];
	msg[n] = '\0';
	s->message = msg;
	s->message_len = n;
	const char *blank = strstr(msg, "\n\n");
	size_t hdr_end = blank ? (size_t)(blank - msg) + 1 : n;
	char *from = mime_header_value(msg, 0, hdr_end, "From");
	mime_addrlist l = {0};
	if (from != NULL)
		mime_parse_addresses(from, &l);
	free(from);
	if (l.n > 0 && l.items[0].mailbox != NULL && l.items[0].host != NULL)
		s->sender = xasprintf("%s@%s", l.items[0].mailbox, l.items[0].host);
	mime_addrlist_free(&l);
	if (s->sender == NULL || !msgjson_valid_email(s->sender)) {
		api_problem_set(&s->prob, 422, "invalid-field", "A field of the message is not valid", "From",
		                "the message needs a From field with one valid address");
		return false;
	}
	s->message_id = mime_header_value(msg, 0, hdr_end, "Message-ID");
	if (s->to_param != NULL) {
		for (char *save = NULL, *t = strtok_r(s->to_param, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ')
				t++;
			if (!msgjson_valid_email(t)) {
				api_problem_set(&s->prob, 422, "invalid-field", "A field of the message is not valid", "to",
				                "\"%s\" is not a valid address", t);
				return false;
			}
			add_rcpt(s, t);
		}
	} else if (!raw_field_rcpts(s, msg, hdr_end, "To") || !raw_field_rcpts(s, msg, hdr_end, "Cc") ||
	           !raw_field_rcpts(s, msg, hdr_end, "Bcc")) {
		return false;
	}
	if (s->rcpts.n == 0) {
		api_problem_set(&s->prob, 422, "invalid-field", "A field of the message is not valid", "to",
		                "no recipient: give ?to=ADDR[,ADDR...] or To, Cc or Bcc fields");
		return false;
	}
	if (s->rcpts.n > s->lim.max_recipients) {
		api_problem_set(&s->prob, 422, "invalid-field", "A field of the message is not valid", "to",
		                "too many recipients: at most %zu", s->lim.max_recipients);
		return false;
	}
	return true;
}

static void quota_problem(send_req *s)
{
	time_t next = (time_t)(s->day + 1) * 86400;
	s->retry_after = xasprintf("%lld", (long long)(next - s->now));
	api_problem_set(&s->prob, 429, "quota-exceeded", "The key's daily quota is used up", NULL,
	                "the key %s may send %lld messages per UTC day; the quota starts again at midnight UTC",
	                s->key_name, (long long)s->daily);
	s->prob_extra = json_pack("{s:s, s:I}", "limit", "daily", "limit_value", (json_int_t)s->daily);
}

/* The Idempotency-Key record (on a worker); false with s->prob, or with
 * s->idem IDEM_REPLAY. */
static bool reserve(send_req *s)
{
	apikeys *ks = s->a->work_ks;
	char *err = NULL;
	if (s->idem_key != NULL) {
		s->idem = idem_begin(ks, s->key_id, s->idem_key, s->body_hash, s->run, s->now, s->idem_ttl,
		                     &s->replay_status, &s->replay_body, &err);
		switch (s->idem) {
		case IDEM_NEW: break;
		case IDEM_REPLAY: return false;
		case IDEM_MISMATCH:
			api_problem_set(&s->prob, 422, "idempotency-key-reused", "The Idempotency-Key was used with another body",
			                "Idempotency-Key", "a request with this key and another body was made before");
			return false;
		case IDEM_IN_FLIGHT:
		case IDEM_INTERRUPTED:
			s->retry_after = xstrdup("1");
			api_problem_set(&s->prob, 409, "idempotency-key-in-use", "A request with this Idempotency-Key is in flight",
			                "Idempotency-Key", "%s",
			                s->idem == IDEM_IN_FLIGHT ? "wait for its answer, then retry to get it"
			                                          : "a request with this key was cut short by a restart; "
			                                            "its outcome is unknown, so it is not sent again");
			return false;
		case IDEM_ERROR:
			goto db_error;
		}
	}
	return true;
db_error:
	log_event(LOG_LVL_ERROR, "api_send", "apikey=%s error=\"%s\"", s->key_name, err);
	free(err);
	s->retry_after = xstrdup("5");
	api_problem_set(&s->prob, 503, "unavailable", "The key store is not available; try again later", NULL,
	                "a database error; nothing was sent");
	return false;
}

/* No recipient is on the suppression list (api/hooks.h); checked before
 * the Idempotency-Key and the quota are taken, so a refused send costs
 * neither.  A database error is temporary (503). */
static bool suppression_allows(send_req *s)
{
	hooks *h = s->a->srv->hooks;
	for (size_t i = 0; h != NULL && i < s->rcpts.n; i++) {
		bool listed = false;
		suppress_entry e = {0};
		char *err = NULL;
		if (!hooks_suppressed(h, s->rcpts.items[i], &listed, &e, &err)) {
			log_event(LOG_LVL_ERROR, "api_send", "apikey=%s error=\"%s\"", s->key_name, err);
			free(err);
			s->retry_after = xstrdup("30");
			api_problem_set(&s->prob, 503, "unavailable", "The suppression list cannot be read now",
			                NULL, "try again later");
			return false;
		}
		if (listed) {
			api_problem_set(&s->prob, 422, "recipient-suppressed", "A recipient is on the suppression list",
			                NULL, "%s is on the suppression list (%s); nothing was sent. "
			                "DELETE /v1/suppressions/%s removes it", s->rcpts.items[i],
			                e.reason ? e.reason : e.source, e.address);
			s->prob_extra = json_pack("{s:s}", "recipient", s->rcpts.items[i]);
			suppress_entry_free(&e);
			return false;
		}
	}
	return true;
}

/* The message from the request, checked (see api_messages_post for
 * where). */
static void prepare_message(send_req *s)
{
	if (!(s->raw ? prepare_raw(s) : prepare_json(s)))
		return;
	if (!domain_allowed(s, s->sender)) {
		api_problem_set(&s->prob, 403, "sender-not-allowed", "The key may not send from this address",
		                s->raw ? "From" : "/from",
		                "%s is not in a domain of the key %s", s->sender, s->key_name);
		return;
	}
	if ((int64_t)s->message_len > s->message_size) {
		api_problem_set(&s->prob, 413, "too-large", "The message is too large", NULL,
		                "the message is %zu bytes; at most %lld are taken (limits.message_size)",
		                s->message_len, (long long)s->message_size);
		return;
	}
}

/* The message, the suppression list, the Idempotency-Key record (the
 * quota is the loop's: prepare_done). */
static void prepare_work(void *arg)
{
	send_req *s = arg;
	prepare_message(s);
	if (s->prob.status == 0 && suppression_allows(s) && s->idem_key != NULL)
		reserve(s);
}

/* ---- the loop's half: injection, and what the replies mean ---- */

/* The HTTP status for a refusal with SMTP reply code and text: temporary
 * (4xx) is 503; 5.7.x (security or policy) is 403; other 5xx are 422. */
static int smtp_status(int code, const char *reply)
{
	if (code / 100 == 4)
		return 503;
	return strncmp(reply + (strlen(reply) > 4 ? 4 : 0), "5.7.", 4) == 0 ? 403 : 422;
}

/* The Idempotency-Key record: the answer kept (a send, or a refusal that
 * a retry would meet again), or the record dropped (a temporary one). */
static void finish_work(void *arg)
{
	send_req *s = arg;
	bool keep = s->status == 202 || s->status == 403 || s->status == 422;
	char *err = NULL;
	apikeys_status st = keep ? idem_finish(s->a->work_ks, s->key_id, s->idem_key, s->status, s->answer, &err)
	                         : idem_forget(s->a->work_ks, s->key_id, s->idem_key, &err);
	if (st != APIKEYS_OK) {
		log_event(LOG_LVL_ERROR, "api_send", "apikey=%s error=\"%s\"", s->key_name, err);
		free(err);
	}
}

static void finish_done(void *arg)
{
	send_req *s = arg;
	if (s->r == NULL) {
		send_free(s);
		return;
	}
	answer(s);
}

/* Give back what a message not sent took, keep the answer for its
 * Idempotency-Key (a worker), then give it. */
static void conclude(send_req *s)
{
	if (s->status != 202 && s->rate_taken)
		api_rate_give_back(s->caller);
	if (s->status != 202 && s->quota_taken)
		api_quota_give_back(s->a, s->caller, s->day);
	s->quota_taken = false;
	if (s->idem_key != NULL && s->idem == IDEM_NEW)
		workers_submit(s->a->srv->wk, finish_work, finish_done, s);
	else
		answer(s);
}

static json_t *recipients_json(const send_req *s, const inject_outcome *o)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->rcpts.n; i++) {
		bool ok = o->started && o->codes[i] / 100 == 2;
		json_t *e = json_pack("{s:s, s:s}", "email", s->rcpts.items[i], "status", ok ? "accepted" : "refused");
		if (!ok && o->started)
			json_object_set_new(e, "reply", json_string(o->replies[i]));
		json_array_append_new(a, e);
	}
	return a;
}

static void inject_done(void *arg, const inject_outcome *o)
{
	send_req *s = arg;
	s->inj = NULL;
	json_t *rcpts = recipients_json(s, o);
	bool taken = false;
	for (size_t i = 0; o->started && i < o->n; i++)
		taken = taken || o->codes[i] / 100 == 2;
	if (taken) { /* queued for some: its id from the final 250 */
		json_t *j = json_pack("{s:s?, s:o}", "id", o->qid, "recipients", rcpts);
		if (s->message_id != NULL)
			json_object_set_new(j, "message_id", json_string(s->message_id));
		s->status = 202;
		s->answer = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
		s->content_type = "application/json";
		json_decref(j);
		s->qid = o->qid ? xstrdup(o->qid) : NULL;
		conclude(s);
		return;
	}
	if (!o->started) {
		s->retry_after = xstrdup("5");
		api_problem_set(&s->prob, 503, "unavailable", "Too many connections from this address; try again later",
		                NULL, "no submission session could be opened");
		json_decref(rcpts);
	} else {
		/* nobody accepted: a temporary refusal if any was temporary */
		size_t pick = 0;
		for (size_t i = 0; i < o->n; i++)
			if (o->codes[i] / 100 == 4) {
				pick = i;
				break;
			}
		const char *reply = o->replies[pick] ? o->replies[pick] : "451 4.3.0 no reply";
		int status = smtp_status(o->codes[pick], reply);
		if (status == 503)
			s->retry_after = xstrdup("60");
		api_problem_set(&s->prob, status, status == 503 ? "temporarily-refused" : status == 403 ? "refused-by-policy" : "refused",
		                status == 503 ? "The message was refused for now; try again later"
		                              : "The message was refused",
		                NULL, "%s", reply);
		s->prob_extra = json_pack("{s:s, s:o}", "smtp_reply", reply, "recipients", rcpts);
	}
	set_problem_answer(s);
	conclude(s);
}

/* The server stops for good before the answer: a worker step's done
 * frees s when it finds no request; an injection in flight is stopped
 * here, and s with it. */
static void on_abort(void *arg)
{
	send_req *s = arg;
	s->r = NULL;
	if (s->inj != NULL) {
		api_inject_cancel(&s->inj);
		send_free(s);
	}
}

static void prepare_done(void *arg)
{
	send_req *s = arg;
	if (s->r == NULL) { /* the server stopped */
		send_free(s);
		return;
	}
	server *srv = s->a->srv;
	if (s->idem == IDEM_REPLAY) { /* nothing is sent: the rate is not used */
		if (s->rate_taken)
			api_rate_give_back(s->caller);
		s->status = s->replay_status;
		s->answer = s->replay_body;
		s->replay_body = NULL;
		s->content_type = s->status < 300 ? "application/json" : "application/problem+json";
		answer(s);
		return;
	}
	if (s->prob.status != 0 && !(s->idem_key != NULL && s->idem == IDEM_NEW)) { /* no record to drop */
		if (s->rate_taken)
			api_rate_give_back(s->caller);
		set_problem_answer(s);
		answer(s);
		return;
	}
	if (srv->stopping && s->prob.status == 0) {
		s->retry_after = xstrdup("5");
		api_problem_set(&s->prob, 503, "unavailable", "The server is stopping; try again later", NULL, NULL);
	}
	if (s->prob.status == 0 && s->daily > 0) {
		char *err = NULL;
		switch (api_quota_take(s->a, s->caller, s->day, &err)) {
		case QUOTA_TAKEN: s->quota_taken = true; break;
		case QUOTA_OVER: quota_problem(s); break;
		case QUOTA_ERROR:
			log_event(LOG_LVL_ERROR, "api_send", "apikey=%s error=\"%s\"", s->key_name, err);
			free(err);
			s->retry_after = xstrdup("5");
			api_problem_set(&s->prob, 503, "unavailable", "The key store is not available; try again later",
			                NULL, "a database error; nothing was sent");
			break;
		}
	}
	if (s->prob.status != 0) {
		set_problem_answer(s);
		conclude(s);
		return;
	}
	smtp_identity id = {.listener = "https", .apikey = s->key_name};
	id.domains = s->domains;
	s->inj = api_inject_start(srv, http_req_ip(s->r), &id, s->sender, (const char *const *)s->rcpts.items,
	                          s->rcpts.n, s->message, s->message_len, s->require_tls, inject_done, s);
}

/* ---- the request ---- */

/* "application/json" or "message/rfc822" (parameters ignored): 1 or 2;
 * 0 for anything else. */
static int media_type(const char *ct)
{
	if (ct == NULL)
		return 0;
	size_t n = strcspn(ct, "; \t");
	if (n == 16 && strncasecmp(ct, "application/json", n) == 0)
		return 1;
	if (n == 14 && strncasecmp(ct, "message/rfc822", n) == 0)
		return 2;
	return 0;
}

/* An Idempotency-Key: 1 to IDEM_KEY_MAX printable ASCII characters (a
 * structured-field string's quotes taken off); NULL when malformed. */
static char *idem_key_of(const char *h)
{
	size_t n = strlen(h);
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	}
	if (n == 0 || n > IDEM_KEY_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (h[i] < 0x21 || h[i] > 0x7e)
			return NULL;
	return xstrndup(h, n);
}

static void body_hash(send_req *s, int kind)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (c == NULL || !EVP_DigestInit_ex(c, sha256_md(), NULL) ||
	    !EVP_DigestUpdate(c, kind == 1 ? "json\n" : "rfc822\n", kind == 1 ? 5 : 7) ||
	    (s->to_param != NULL && !EVP_DigestUpdate(c, s->to_param, strlen(s->to_param) + 1)) ||
	    !EVP_DigestUpdate(c, s->body, s->body_len) || !EVP_DigestFinal_ex(c, md, &n))
		abort(); /* OpenSSL without SHA-256: a broken environment */
	EVP_MD_CTX_free(c);
	str_hex(md, n < 32 ? n : 32, s->body_hash);
}

void api_messages_post(http_req *r)
{
	api_caller *c = api_caller_of(r);
	server *srv = http_req_server(r);
	int kind = media_type(http_req_header(r, "Content-Type"));
	if (kind == 0) {
		problem_now(r, 415, "unsupported-media-type", "The body must be application/json or message/rfc822",
		            "Content-Type", NULL);
		return;
	}
	const char *ik = http_req_header(r, "Idempotency-Key");
	char *idem_key = ik ? idem_key_of(ik) : NULL;
	if (ik != NULL && idem_key == NULL) {
		problem_now(r, 400, "bad-idempotency-key", "The Idempotency-Key is malformed", "Idempotency-Key",
		            "1 to 255 printable ASCII characters");
		return;
	}
	int wait = api_rate_take(c);
	if (wait > 0) {
		free(idem_key);
		char secs[16], *detail = xasprintf("the key %s may send %lld messages a minute", c->name,
		                                   (long long)c->rate_per_min);
		snprintf(secs, sizeof secs, "%d", wait);
		http_add_header(r, "Retry-After", secs);
		api_problem p = {.status = 429, .slug = "rate-limited", .title = "The key's rate limit is reached",
		                 .detail = detail};
		json_t *extra = json_pack("{s:s, s:I}", "limit", "rate", "limit_value", (json_int_t)c->rate_per_min);
		char *text = problem_text(r, &p, extra);
		json_decref(extra);
		log_event(LOG_LVL_INFO, "api_send", "rid=%s apikey=%s status=429 limit=rate", http_req_id(r), c->name);
		http_reply(r, 429, "application/problem+json", text, strlen(text));
		free(text);
		free(detail);
		return;
	}
	send_req *s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->a = srv->api;
	s->caller = c;
	s->rate_taken = c->rate_per_min > 0;
	s->key_id = c->id;
	s->daily = c->daily;
	s->key_name = xstrdup(c->name);
	strlist_init(&s->domains);
	for (size_t i = 0; i < c->domains.n; i++)
		strlist_add(&s->domains, c->domains.items[i]);
	strlist_init(&s->rcpts);
	s->raw = kind == 2;
	s->body = http_req_body(r, &s->body_len);
	const char *to = s->raw ? http_req_query(r, "to") : NULL;
	s->to_param = to ? xstrdup(to) : NULL;
	s->idem_key = idem_key;
	if (idem_key != NULL) /* what a retry with the same key must repeat */
		body_hash(s, kind);
	s->run = xstrdup(server_run_id(srv));
	s->lim.max_recipients = (size_t)srv->cfg->api.max_recipients;
	s->lim.max_size = srv->cfg->limits.message_size;
	s->message_size = srv->cfg->limits.message_size;
	s->hostname = xstrdup(srv->cfg->hostname);
	s->idem_ttl = (int64_t)srv->cfg->api.idempotency_hours * 3600;
	s->now = time(NULL);
	s->day = (int64_t)(s->now / 86400);
	http_req_on_abort(r, on_abort, s);
	/* A small body is read and composed here: cheaper than two thread
	 * hand-offs.  A large one is the quick lane's; an Idempotency-Key's
	 * reservation is a database write that waits on the disk. */
	if (s->idem_key != NULL) {
		workers_submit(srv->wk, prepare_work, prepare_done, s);
	} else if (s->body_len <= INLINE_BODY_MAX) {
		prepare_work(s);
		prepare_done(s);
	} else {
		workers_submit_quick(srv->wk, prepare_work, prepare_done, s);
	}
}
