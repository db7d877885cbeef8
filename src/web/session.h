/* session.h — the dashboard's sessions: a server-side table of logged-in
 * users, each found by a random 256-bit id (the cookie) and carrying its
 * own random 256-bit CSRF token (the hidden field of every form).  A
 * session ends at log-out, web.session_lifetime after it began, or
 * web.session_idle after its last request; the table holds at most
 * web.max_sessions (the least recently used goes when a new one needs the
 * room).  Pure apart from the random bytes (OpenSSL's RAND_bytes); the
 * clock is passed in.  Loop thread only. */
#ifndef YUBIN_WEB_SESSION_H
#define YUBIN_WEB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* 256 bits as lower-case hex. */
#define WEB_TOKEN_HEX 64

typedef struct web_session {
	char id[WEB_TOKEN_HEX + 1];
	char csrf[WEB_TOKEN_HEX + 1];
	char *user;           /* the account's normalised address */
	time_t created, last;
} web_session;

typedef struct web_sessions web_sessions;

web_sessions *web_sessions_new(size_t max, int lifetime, int idle);
void web_sessions_free(web_sessions **ws);
/* A new session for user; NULL only when no random bytes could be had. */
const web_session *web_sessions_create(web_sessions *ws, const char *user, time_t now);
/* The live session with this id (its idle clock restarts), or NULL when
 * there is none or it has expired (then it is removed). */
const web_session *web_sessions_find(web_sessions *ws, const char *id, time_t now);
/* Log-out: the session with this id goes (nothing when there is none). */
void web_sessions_remove(web_sessions *ws, const char *id);
/* A password change: every session of user goes but the one with id
 * keep (may be NULL); returns how many went. */
size_t web_sessions_remove_user(web_sessions *ws, const char *user, const char *keep);
/* Sessions held (expired ones included until they are looked at). */
size_t web_sessions_count(const web_sessions *ws);

/* A fresh random 256-bit token as hex into out; false when the system
 * gives no random bytes. */
bool web_token_new(char out[WEB_TOKEN_HEX + 1]);
/* Does the token a form sent match the expected one?  Constant time in
 * the content (a mismatch tells nothing of where); NULL or the wrong
 * length never matches. */
bool web_token_equal(const char *expected, const char *given);

#endif
