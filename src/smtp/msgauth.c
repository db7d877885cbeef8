/* msgauth.c — DKIM signing of submitted mail (for the envelope sender's
 * domain, which the user owns) and the checks of mail on port 25
 * (msgcheck.c), between the last byte of a message and its commit (see
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
#include "msgauth/dkimkeys.h"
#include "msgauth/dkimsign.h"
#include "smtp/msgcheck.h"

typedef struct sign_job {
	smtp_session *s;
	msgauth_done_fn *done;
	char *data_dir;
	char *domain;         /* the envelope sender's: signed for */
	buf sig;              /* the DKIM-Signature fields made */
	char *err;
} sign_job;

/* On a worker: the keys of the envelope sender's domain (the user owns
 * that address: submission checked it at MAIL FROM; a From field naming
 * another domain is not vouched for), and the signatures. */
static void sign_work(void *arg, const char *msg, size_t len)
{
	sign_job *j = arg;
	if (msg == NULL) {
		j->err = xstrdup("the message could not be read back");
		return;
	}
	dkim_keyset set = {0};
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(j->data_dir, j->domain, &set, &problems);
	for (size_t k = 0; k < problems.n; k++)
		log_event(LOG_LVL_WARN, "dkim_key", "domain=%s problem=%s", j->domain, problems.items[k]);
	strlist_free(&problems);
	const dkim_key *keys[2];
	size_t n = dkim_keys_pick(&set, j->domain, NULL, keys);
	dkim_sign_opts o = {.now = time(NULL), .crlf = false};
	if (n > 0 && !dkim_sign(msg, len, keys, n, &o, &j->sig, &j->err))
		buf_clear(&j->sig);
	dkim_keyset_free(&set);
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
		log_event(LOG_LVL_WARN, "dkim_sign", "sid=%s qid=%s result=unsigned error=%s", s->sid,
		          s->txn.qid, j->err);
	}
	msgauth_done_fn *done = j->done;
	buf_free(&j->sig);
	free(j->data_dir);
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
	j->domain = xstrdup(at != NULL ? at + 1 : "");
	str_ascii_lower(j->domain);
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
	if (s->auth_user != NULL && m->sign && strchr(s->txn.sender, '@') != NULL && any_keys(s->srv->cfg))
		start_signing(s, done);
	else if (s->lst->role == ROLE_SMTP && s->auth_user == NULL && m->verify && s->srv->dns != NULL &&
	         s->srv->psl != NULL)
		msgcheck_start(s, done);
	else
		done(s, RPL_COUNT);
}
