/* session.c — the session table (see session.h).  A flat array: lookups
 * scan it, which at the bound (web.max_sessions, 1000 by default, at most
 * 100000) costs microseconds and keeps eviction simple and exact.  Must
 * not know HTTP or cookies. */
#include "web/session.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strutil.h"

struct web_sessions {
	web_session *v;
	size_t n, max;
	int lifetime, idle;
};

web_sessions *web_sessions_new(size_t max, int lifetime, int idle)
{
	web_sessions *ws = xcalloc(1, sizeof(*ws));
	ws->max = max ? max : 1;
	ws->v = xcalloc(ws->max, sizeof(*ws->v));
	ws->lifetime = lifetime;
	ws->idle = idle;
	return ws;
}

static void drop(web_sessions *ws, size_t i)
{
	free(ws->v[i].user);
	OPENSSL_cleanse(&ws->v[i], sizeof(ws->v[i]));
	ws->v[i] = ws->v[--ws->n];
	memset(&ws->v[ws->n], 0, sizeof(ws->v[ws->n]));
}

void web_sessions_free(web_sessions **wsp)
{
	web_sessions *ws = *wsp;
	if (ws == NULL)
		return;
	while (ws->n > 0)
		drop(ws, 0);
	free(ws->v);
	free(ws);
	*wsp = NULL;
}

bool web_token_new(char out[WEB_TOKEN_HEX + 1])
{
	unsigned char raw[WEB_TOKEN_HEX / 2];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return false;
	str_hex(raw, sizeof raw, out);
	OPENSSL_cleanse(raw, sizeof raw);
	return true;
}

bool web_token_equal(const char *expected, const char *given)
{
	if (expected == NULL || given == NULL || strlen(expected) != WEB_TOKEN_HEX ||
	    strlen(given) != WEB_TOKEN_HEX)
		return false;
	return CRYPTO_memcmp(expected, given, WEB_TOKEN_HEX) == 0;
}

static bool expired(const web_sessions *ws, const web_session *s, time_t now)
{
	return now - s->created >= ws->lifetime || now - s->last >= ws->idle || now < s->created;
}

const web_session *web_sessions_create(web_sessions *ws, const char *user, time_t now)
{
	web_session s = {.created = now, .last = now};
	if (!web_token_new(s.id) || !web_token_new(s.csrf))
		return NULL;
	for (size_t i = ws->n; i-- > 0;)
		if (expired(ws, &ws->v[i], now))
			drop(ws, i);
	if (ws->n == ws->max) {
		size_t lru = 0;
		for (size_t i = 1; i < ws->n; i++)
			if (ws->v[i].last < ws->v[lru].last)
				lru = i;
		drop(ws, lru);
	}
	s.user = xstrdup(user);
	ws->v[ws->n] = s;
	return &ws->v[ws->n++];
}

const web_session *web_sessions_find(web_sessions *ws, const char *id, time_t now)
{
	if (id == NULL || strlen(id) != WEB_TOKEN_HEX)
		return NULL;
	for (size_t i = 0; i < ws->n; i++) {
		if (CRYPTO_memcmp(ws->v[i].id, id, WEB_TOKEN_HEX) != 0)
			continue;
		if (expired(ws, &ws->v[i], now)) {
			drop(ws, i);
			return NULL;
		}
		ws->v[i].last = now;
		return &ws->v[i];
	}
	return NULL;
}

void web_sessions_remove(web_sessions *ws, const char *id)
{
	if (id == NULL || strlen(id) != WEB_TOKEN_HEX)
		return;
	for (size_t i = 0; i < ws->n; i++)
		if (CRYPTO_memcmp(ws->v[i].id, id, WEB_TOKEN_HEX) == 0) {
			drop(ws, i);
			return;
		}
}

size_t web_sessions_remove_user(web_sessions *ws, const char *user, const char *keep)
{
	size_t gone = 0;
	for (size_t i = 0; i < ws->n;) {
		if (strcmp(ws->v[i].user, user) == 0 && (keep == NULL || strcmp(ws->v[i].id, keep) != 0)) {
			drop(ws, i); /* the last one moved into i: look at i again */
			gone++;
		} else {
			i++;
		}
	}
	return gone;
}

size_t web_sessions_count(const web_sessions *ws)
{
	return ws->n;
}
