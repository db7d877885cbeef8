/* msgauth.c — DKIM signing of submitted mail and the checks of mail on
 * port 25, between the last byte of a message and its commit (see
 * msgauth.h).  The message is read back from the spool on a worker (it is
 * in the page cache); signing happens there too (keys are loaded from
 * data_dir/dkim/<domain>/ for each message, so a new key from `yubin dkim
 * keygen` is used at once, without a restart). */
#include "smtp/msgauth.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/log.h"
#include "mime/address.h"
#include "mime/header.h"
#include "msgauth/dkimkeys.h"
#include "msgauth/dkimsign.h"
#include "smtp/msgcheck.h"

typedef struct sign_job {
	smtp_session *s;
	msgauth_done_fn *done;
	char *data_dir;
	char *fallback;       /* the envelope sender's domain */
	buf sig;              /* the DKIM-Signature fields made */
	char *domain;         /* signed for */
	char *err;
} sign_job;

/* The domain of the one address of the (first) From field, lower-case, or
 * NULL. */
static char *from_domain(const char *msg, size_t len)
{
	size_t hdr_end = len;
	for (size_t i = 0; i + 1 < len; i++) {
		if (msg[i] == '\n' && (msg[i + 1] == '\n' || (msg[i + 1] == '\r' && i + 2 < len && msg[i + 2] == '\n'))) {
			hdr_end = i + 1;
			break;
		}
	}
	char *value = mime_header_value(msg, 0, hdr_end, "From");
	if (value == NULL)
		return NULL;
	mime_addrlist l;
	mime_parse_addresses(value, &l);
	free(value);
	char *domain = NULL;
	for (size_t i = 0; i < l.n && domain == NULL; i++)
		if (l.items[i].host != NULL && l.items[i].host[0] != '\0')
			domain = xstrdup(l.items[i].host);
	mime_addrlist_free(&l);
	if (domain != NULL)
		str_ascii_lower(domain);
	return domain;
}

/* On a worker: the keys of the From domain (else of the envelope sender's
 * domain), and the signatures. */
static void sign_work(void *arg, const char *msg, size_t len)
{
	sign_job *j = arg;
	if (msg == NULL) {
		j->err = xstrdup("the message could not be read back");
		return;
	}
	char *candidates[2] = {from_domain(msg, len), j->fallback};
	dkim_keyset set = {0};
	const dkim_key *keys[2];
	size_t n = 0;
	for (int c = 0; c < 2 && n == 0; c++) {
		if (candidates[c] == NULL)
			continue;
		strlist problems;
		strlist_init(&problems);
		dkim_keyset_free(&set);
		dkim_keys_load(j->data_dir, candidates[c], &set, &problems);
		for (size_t k = 0; k < problems.n; k++)
			log_event(LOG_LVL_WARN, "dkim_key", "domain=%s problem=\"%s\"", candidates[c], problems.items[k]);
		strlist_free(&problems);
		n = dkim_keys_pick(&set, candidates[c], NULL, keys);
		if (n > 0)
			j->domain = xstrdup(candidates[c]);
	}
	dkim_sign_opts o = {.now = time(NULL), .crlf = false};
	if (n > 0 && !dkim_sign(msg, len, keys, n, &o, &j->sig, &j->err))
		buf_clear(&j->sig);
	dkim_keyset_free(&set);
	free(candidates[0]);
}

static void sign_done(void *arg)
{
	sign_job *j = arg;
	smtp_session *s = j->s;
	if (j->sig.len > 0) {
		spool_prepend(s->txn.sp, j->sig.data, j->sig.len);
		log_event(LOG_LVL_INFO, "dkim_sign", "sid=%s qid=%s domain=%s", s->sid, s->txn.qid, j->domain);
	} else if (j->err != NULL) {
		/* not signed: the message still goes, as it would without a key */
		log_event(LOG_LVL_WARN, "dkim_sign", "sid=%s qid=%s result=unsigned error=\"%s\"", s->sid,
		          s->txn.qid, j->err);
	}
	msgauth_done_fn *done = j->done;
	buf_free(&j->sig);
	free(j->data_dir);
	free(j->fallback);
	free(j->domain);
	free(j->err);
	free(j);
	done(s, RPL_COUNT);
}

static void start_signing(smtp_session *s, msgauth_done_fn *done)
{
	sign_job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->done = done;
	j->data_dir = xstrdup(s->srv->cfg->data_dir);
	const char *at = strrchr(s->txn.sender, '@');
	if (at != NULL && at[1] != '\0') {
		j->fallback = xstrdup(at + 1);
		str_ascii_lower(j->fallback);
	}
	buf_init(&j->sig, (size_t)1 << 20);
	spool_inspect(s->txn.sp, sign_work, sign_done, j);
}

/* Has any domain a key?  (Without one, reading the message back would be
 * for nothing.) */
static bool any_keys(const config *cfg)
{
	char *dir = xasprintf("%s/dkim", cfg->data_dir);
	struct stat st;
	bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink > 2;
	free(dir);
	return ok;
}

void msgauth_before_commit(smtp_session *s, msgauth_done_fn *done)
{
	const config_msgauth *m = &s->srv->cfg->msgauth;
	if (s->auth_user != NULL && m->sign && any_keys(s->srv->cfg))
		start_signing(s, done);
	else if (s->lst->role == ROLE_SMTP && s->auth_user == NULL && m->verify && s->srv->dns != NULL &&
	         s->srv->psl != NULL)
		msgcheck_start(s, done);
	else
		done(s, RPL_COUNT);
}
