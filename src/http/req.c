/* req.c — one HTTP request as handlers see it (http.h): its parts, decoded
 * on first use, and the answers, each of which ends the request and logs
 * one line.  The listener (server.c) makes requests and owns the
 * connections; this file never reads the network. */
#include "http/internal.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/log.h"
#include "lib/strutil.h"

http_req *http_req_new(http_server *hs, struct evhttp_request *er, const char *ip,
                       const char *method, char *path)
{
	http_req *r = xcalloc(1, sizeof *r);
	r->hs = hs;
	r->er = er;
	snprintf(r->ip, sizeof r->ip, "%s", ip);
	r->method = xstrdup(method);
	r->path = path;
	TAILQ_INIT(&r->query);
	strlist_init(&r->form);
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	r->next = hs->live;
	if (hs->live != NULL)
		hs->live->prev = r;
	hs->live = r;
	return r;
}

struct server *http_req_server(http_req *r) { return r->hs->srv; }
const char *http_req_method(http_req *r) { return r->method; }
const char *http_req_path(http_req *r) { return r->path; }
const char *http_req_ip(http_req *r) { return r->ip; }
const char *http_req_id(http_req *r) { return r->id; }
const char *http_req_principal(http_req *r) { return r->principal; }
void *http_req_principal_data(http_req *r) { return r->principal_data; }

const char *http_req_param(http_req *r, const char *name)
{
	for (size_t i = 0; i < r->params.n; i++)
		if (strcmp(r->params.name[i], name) == 0)
			return r->params.value[i];
	return NULL;
}

/* Parse "a=1&b=2" into q, or (q NULL) into l as name, value, ... (values
 * decoded, '+' as space); malformed pairs are left out, and so are values
 * with line breaks in q (evhttp_add_header refuses them). */
static void parse_pairs(const char *s, size_t len, struct evkeyvalq *q, strlist *l)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		const char *eq = memchr(s + i, '=', end - i);
		size_t klen = eq ? (size_t)(eq - (s + i)) : end - i;
		char *k = router_unescape(s + i, klen, true);
		char *v = eq ? router_unescape(eq + 1, (size_t)(s + end - eq - 1), true) : xstrdup("");
		if (k != NULL && v != NULL && k[0] != '\0' && q != NULL) {
			evhttp_add_header(q, k, v);
		} else if (k != NULL && v != NULL && k[0] != '\0') {
			strlist_add_owned(l, k);
			strlist_add_owned(l, v);
			k = v = NULL;
		}
		free(k);
		free(v);
		i = end + 1;
	}
}

const char *http_req_query(http_req *r, const char *name)
{
	if (!r->query_parsed) {
		r->query_parsed = true;
		const char *q = r->er ? evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->er)) : NULL;
		if (q != NULL)
			parse_pairs(q, strlen(q), &r->query, NULL);
	}
	return evhttp_find_header(&r->query, name);
}

const char *http_req_header(http_req *r, const char *name)
{
	if (r->er == NULL)
		return NULL;
	return evhttp_find_header(evhttp_request_get_input_headers(r->er), name);
}

const char *http_req_body(http_req *r, size_t *len_r)
{
	if (r->body == NULL) {
		struct evbuffer *in = r->er ? evhttp_request_get_input_buffer(r->er) : NULL;
		size_t n = in ? evbuffer_get_length(in) : 0;
		r->body = xmalloc(n + 1);
		if (n > 0)
			evbuffer_copyout(in, r->body, n);
		r->body[n] = '\0';
		r->body_len = n;
	}
	if (len_r != NULL)
		*len_r = r->body_len;
	return r->body;
}

const char *http_req_form(http_req *r, const char *name)
{
	if (!r->form_parsed) {
		r->form_parsed = true;
		const char *ct = http_req_header(r, "Content-Type");
		if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
		    (ct[33] == '\0' || ct[33] == ';' || ct[33] == ' ')) {
			size_t len;
			const char *b = http_req_body(r, &len);
			parse_pairs(b, len, NULL, &r->form);
		}
	}
	for (size_t i = 0; i + 1 < r->form.n; i += 2)
		if (strcmp(r->form.items[i], name) == 0)
			return r->form.items[i + 1];
	return NULL;
}

void http_req_set_principal(http_req *r, const char *kind, const char *name, void *data)
{
	free(r->principal);
	r->principal = xasprintf("%s:%s", kind, name);
	r->principal_data = data;
}

void http_req_on_abort(http_req *r, void (*fn)(void *arg), void *arg)
{
	r->on_abort = fn;
	r->abort_arg = arg;
}

void http_add_header(http_req *r, const char *name, const char *value)
{
	if (r->er != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(r->er), name, value);
}

static const char *reason_phrase(int status)
{
	static const struct { int status; const char *text; } phrases[] = {
		{200, "OK"}, {201, "Created"}, {202, "Accepted"}, {204, "No Content"},
		{303, "See Other"}, {304, "Not Modified"}, {400, "Bad Request"}, {401, "Unauthorized"},
		{403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"}, {409, "Conflict"},
		{413, "Content Too Large"}, {415, "Unsupported Media Type"}, {422, "Unprocessable Content"},
		{429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"}, {503, "Service Unavailable"},
	};
	for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
		if (phrases[i].status == status)
			return phrases[i].text;
	return status < 400 ? "OK" : "Error";
}

static void req_free(http_req *r)
{
	http_server *hs = r->hs;
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		hs->live = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	router_params_free(&r->params);
	evhttp_clear_headers(&r->query);
	strlist_free(&r->form);
	free(r->method);
	free(r->path);
	free(r->body);
	free(r->principal);
	free(r);
}

void http_reply(http_req *r, int status, const char *content_type, const void *body, size_t len)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (long)((now.tv_sec - r->started.tv_sec) * 1000 + (now.tv_nsec - r->started.tv_nsec) / 1000000);
	log_event(status >= 500 ? LOG_LVL_WARN : LOG_LVL_INFO, "http",
	          "rid=%s client=%s method=%s path=%s status=%d by=%s ms=%ld", r->id, r->ip, r->method,
	          r->path, status, r->principal, ms);
	if (r->er != NULL) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(r->er);
		if (content_type != NULL)
			evhttp_add_header(h, "Content-Type", content_type);
		evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
		if (evhttp_find_header(h, "Cache-Control") == NULL)
			evhttp_add_header(h, "Cache-Control", "no-store");
		if (r->hs->draining)
			evhttp_add_header(h, "Connection", "close");
		struct evbuffer *b = evbuffer_new();
		if (b != NULL && len > 0 && strcmp(r->method, "HEAD") != 0)
			evbuffer_add(b, body, len);
		evhttp_send_reply(r->er, status, reason_phrase(status), b);
		if (b != NULL)
			evbuffer_free(b);
	}
	req_free(r);
}

void http_reply_json(http_req *r, int status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (text == NULL) {
		http_problem(r, 500, "internal", "The answer could not be made", NULL, NULL);
		return;
	}
	http_reply(r, status, "application/json", text, strlen(text));
	free(text);
}

void http_problem(http_req *r, int status, const char *slug, const char *title,
                  const char *detail, const char *field)
{
	json_t *j = json_object();
	char *type = xasprintf("/v1/problems/%s", slug);
	json_object_set_new(j, "type", json_string(type));
	free(type);
	json_object_set_new(j, "title", json_string(title));
	json_object_set_new(j, "status", json_integer(status));
	if (detail != NULL)
		json_object_set_new(j, "detail", json_string(detail));
	if (field != NULL)
		json_object_set_new(j, "field", json_string(field));
	json_object_set_new(j, "request_id", json_string(r->id));
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	http_reply(r, status, "application/problem+json", text, text ? strlen(text) : 0);
	free(text);
}

void http_redirect(http_req *r, const char *location)
{
	http_add_header(r, "Location", location);
	http_reply(r, 303, "text/plain; charset=utf-8", "See Other\n", 10);
}
