/* sievedeliver.c — a Sieve result made into stores and messages (see
 * sievedeliver.h).  Must not write mail (local.c does) nor decide what a
 * script means (sieve/). */
#include "delivery/sievedeliver.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "auth/accounts.h"
#include "delivery/autoreply.h"
#include "delivery/dsn.h"
#include "delivery/maildir.h"
#include "delivery/sievecache.h"
#include "delivery/vacmemo.h"
#include "lib/log.h"
#include "mime/address.h"
#include "mime/header.h"
#include "msgauth/dkimsign.h"
#include "queue/qid.h"
#include "sieve/sieve.h"
#include "store/folders.h"
#include "store/mdname.h"

#define SEND_MAX ((size_t)64 << 20)

struct sieve_delivery {
	queue *q;
	char *hostname;
	char *data_dir;            /* for the DKIM keys that sign replies */
	sieve_cache *cache;
	vacmemo *memo;
	pthread_mutex_t acc_lock;  /* an accounts handle is not for two threads at once */
	accounts *acc;
};

sieve_delivery *sieve_delivery_open(const config *cfg, queue *q, char **err_r)
{
	*err_r = NULL;
	char *db = config_path_db(cfg);
	accounts *acc = accounts_open(db, &cfg->domains, err_r);
	free(db);
	if (acc == NULL)
		return NULL;
	char *path = xasprintf("%s/vacation.db", cfg->data_dir);
	vacmemo *memo = vacmemo_open(path, err_r);
	free(path);
	if (memo == NULL) {
		accounts_close(&acc);
		return NULL;
	}
	sieve_delivery *sd = xcalloc(1, sizeof(*sd));
	char *global = xasprintf("%s/sieve/global", cfg->data_dir);
	*sd = (sieve_delivery){.q = q, .hostname = xstrdup(cfg->hostname), .data_dir = xstrdup(cfg->data_dir),
	                       .cache = sieve_cache_new(global),
	                       .memo = memo, .acc = acc};
	free(global);
	pthread_mutex_init(&sd->acc_lock, NULL);
	return sd;
}

void sieve_delivery_free(sieve_delivery **sdp)
{
	sieve_delivery *sd = *sdp;
	if (sd == NULL)
		return;
	sieve_cache_free(&sd->cache);
	vacmemo_free(&sd->memo);
	accounts_close(&sd->acc);
	pthread_mutex_destroy(&sd->acc_lock);
	free(sd->hostname);
	free(sd->data_dir);
	free(sd);
	*sdp = NULL;
}

void sieve_plan_free(sieve_plan *p)
{
	for (size_t i = 0; i < p->n_stores; i++) {
		free(p->stores[i].folder);
		free(p->stores[i].name);
		strlist_free(&p->stores[i].keywords);
	}
	for (size_t i = 0; i < p->n_sends; i++) {
		sieve_send *s = &p->sends[i];
		free(s->sender);
		strlist_free(&s->local);
		strlist_free(&s->remote);
		free(s->data);
		free(s->vac_handle);
	}
	free(p->stores);
	free(p->sends);
	buf_free(&p->did);
	buf_free(&p->error);
	*p = (sieve_plan){0};
}

/* Note what the script did, or why part of it could not be done, for the
 * log line ("; " between items). */
static void note(buf *b, const char *fmt, va_list ap)
{
	if (b->len > 0)
		BUF_PUTS(b, "; ");
	char *item = NULL;
	if (vasprintf(&item, fmt, ap) >= 0) {
		BUF_PUTS(b, item);
		free(item);
	}
}

static void plan_did(sieve_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plan_did(sieve_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note(&p->did, fmt, ap);
	va_end(ap);
}

static void plan_error(sieve_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plan_error(sieve_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note(&p->error, fmt, ap);
	va_end(ap);
}

/* ---- folders ---- */

/* The Maildir of folder name, or NULL when name cannot be a folder (as
 * IMAP would refuse it: store_folder_path, and no control characters). */
static char *folder_path(const char *root, const char *name)
{
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return NULL;
	return store_folder_path(root, name);
}

typedef struct run_ctx {
	const char *root;
} run_ctx;

static bool mailbox_exists(void *arg, const char *name)
{
	const run_ctx *r = arg;
	char *path = folder_path(r->root, name);
	bool ok = path != NULL && maildir_exists(path);
	free(path);
	return ok;
}

static unsigned system_flag(const char *f)
{
	static const struct {
		const char *name;
		unsigned bit;
	} map[] = {{"\\Seen", MDF_SEEN},       {"\\Answered", MDF_ANSWERED}, {"\\Flagged", MDF_FLAGGED},
	           {"\\Deleted", MDF_DELETED}, {"\\Draft", MDF_DRAFT}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(f, map[i].name) == 0)
			return map[i].bit;
	return 0;
}

/* An IMAP keyword: an atom that is no system flag (RFC 9051 flag-keyword). */
static bool keyword_ok(const char *f)
{
	if (f[0] == '\0' || f[0] == '\\' || strlen(f) > 64)
		return false;
	for (const unsigned char *c = (const unsigned char *)f; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f || strchr("(){%*\"\\]", *c) != NULL)
			return false;
	return true;
}

static void add_store(sieve_plan *p, char *folder, const char *name, const strlist *flags, bool create)
{
	for (size_t i = 0; i < p->n_stores; i++)
		if (strcmp(p->stores[i].folder, folder) == 0) {
			free(folder);
			return; /* "INBOX" by keep and by fileinto: one copy */
		}
	p->stores = xrealloc(p->stores, (p->n_stores + 1) * sizeof(*p->stores));
	sieve_store *s = &p->stores[p->n_stores++];
	*s = (sieve_store){.folder = folder, .name = xstrdup(name), .create = create};
	strlist_init(&s->keywords);
	for (size_t i = 0; flags != NULL && i < flags->n; i++) {
		unsigned bit = system_flag(flags->items[i]);
		if (bit != 0)
			s->flags |= bit;
		else if (keyword_ok(flags->items[i]) && !strlist_contains(&s->keywords, flags->items[i]))
			strlist_add(&s->keywords, flags->items[i]);
	}
}

static void keep(sieve_plan *p, const char *keep_folder, bool junk, const strlist *flags)
{
	add_store(p, xstrdup(keep_folder), junk ? "Junk" : "INBOX", flags, false);
}

void sieve_plan_keep(sieve_plan *p, const char *folder, bool junk)
{
	keep(p, folder, junk, NULL);
}

/* ---- messages ---- */

/* Sign a reply or refusal made here with the DKIM keys of the account's
 * domain (its From is the user, or our MAILER-DAEMON: aligned for DMARC
 * when the host name is under that domain).  Unsigned, with a log line,
 * when the domain has no key or signing fails. */
static void sign_send(sieve_delivery *sd, const char *user, sieve_send *s)
{
	const char *at = strrchr(user, '@');
	if (at == NULL || s->data == NULL)
		return;
	dkim_keyset set = {0};
	strlist problems;
	strlist_init(&problems);
	dkim_keys_load(sd->data_dir, at + 1, &set, &problems);
	strlist_free(&problems);
	const dkim_key *keys[2];
	size_t n = dkim_keys_pick(&set, at + 1, NULL, keys);
	buf sig;
	buf_init(&sig, BUF_UNBOUNDED); /* one field per key */
	char *err = NULL;
	dkim_sign_opts o = {.now = time(NULL), .crlf = false};
	if (n > 0 && dkim_sign(s->data, s->len, keys, n, &o, &sig, &err)) {
		char *signed_msg = xmalloc(sig.len + s->len + 1);
		memcpy(signed_msg, sig.data, sig.len);
		memcpy(signed_msg + sig.len, s->data, s->len);
		free(s->data);
		s->data = signed_msg;
		s->len += sig.len;
	} else if (n > 0) {
		log_event(LOG_LVL_WARN, "dkim_sign", "user=%s action=%s result=unsigned error=%s", user, s->what, err);
	}
	free(err);
	buf_free(&sig);
	dkim_keyset_free(&set);
}

/* Resolve address into s's recipients.  False when it names nobody. */
static bool resolve(sieve_delivery *sd, const char *address, sieve_send *s)
{
	pthread_mutex_lock(&sd->acc_lock);
	accounts_status st = accounts_resolve(sd->acc, address, &s->local, &s->remote);
	pthread_mutex_unlock(&sd->acc_lock);
	if (st == ACC_NO_DOMAIN && s->local.n == 0 && s->remote.n == 0)
		strlist_add(&s->remote, address);
	return (st == ACC_OK || st == ACC_NO_DOMAIN) && s->local.n + s->remote.n > 0;
}

static sieve_send *new_send(sieve_plan *p, const char *what, const char *sender)
{
	p->sends = xrealloc(p->sends, (p->n_sends + 1) * sizeof(*p->sends));
	sieve_send *s = &p->sends[p->n_sends++];
	*s = (sieve_send){.what = what, .sender = xstrdup(sender)};
	strlist_init(&s->local);
	strlist_init(&s->remote);
	return s;
}

static void drop_last_send(sieve_plan *p)
{
	sieve_send *s = &p->sends[--p->n_sends];
	free(s->sender);
	strlist_free(&s->local);
	strlist_free(&s->remote);
	free(s->data);
	free(s->vac_handle);
}

/* Does the message carry our loop marker for rcpt: a Delivered-To field
 * naming it (every copy redirected here gets one, as do the copies other
 * servers deliver)? */
static bool passed_before(const char *body, size_t len, const char *rcpt)
{
	const char *blank = memmem(body, len, "\n\n", 2);
	size_t end = blank ? (size_t)(blank - body) + 1 : len, pos = 0;
	mime_field f;
	while (mime_header_next(body, end, &pos, &f)) {
		if (!mime_field_is(body, &f, "Delivered-To"))
			continue;
		char *v = mime_field_value(body, &f);
		bool same = strcasecmp(v, rcpt) == 0;
		free(v);
		if (same)
			return true;
	}
	return false;
}

static void plan_redirect(sieve_delivery *sd, const qenvelope *env, const char *to, const sieve_action *a,
                          const char *body, size_t len, sieve_plan *p, bool *lost_r)
{
	if (passed_before(body, len, to)) {
		plan_error(p, "redirect to %s refused: the message was here before (a loop)", a->target);
		*lost_r = !a->copy;
		return;
	}
	sieve_send *s = new_send(p, "redirect", env->sender);
	if (!resolve(sd, a->target, s)) {
		plan_error(p, "redirect to %s refused: no such address", a->target);
		drop_last_send(p);
		*lost_r = !a->copy;
		return;
	}
	s->requiretls = env->requiretls;
	s->data = xasprintf("Delivered-To: %s\n", to);
	size_t head = strlen(s->data);
	s->data = xrealloc(s->data, head + len + 1);
	memcpy(s->data + head, body, len);
	s->len = head + len;
	plan_did(p, "redirect:%s", a->target);
}

/* May a vacation's :from stand in its reply's From?  Only when it is one
 * address the user may send as (its own, an alias of it, its send-as
 * list: the rule submission applies to From).  RFC 5230 4.4 leaves the
 * check to the implementation; the reply is signed with the domain's key,
 * so any address would let a script speak for another user.  A database
 * error counts as no. */
static bool vacation_from_allowed(sieve_delivery *sd, const char *user, const char *from)
{
	mime_addrlist l;
	mime_parse_addresses(from, &l);
	bool ok = false;
	if (l.n == 1 && l.items[0].mailbox != NULL && l.items[0].host != NULL && l.items[0].host[0] != '\0') {
		char *addr = xasprintf("%s@%s", l.items[0].mailbox, l.items[0].host);
		pthread_mutex_lock(&sd->acc_lock);
		ok = accounts_user_may_send_as(sd->acc, user, addr) == ACC_OK;
		pthread_mutex_unlock(&sd->acc_lock);
		free(addr);
	}
	mime_addrlist_free(&l);
	return ok;
}

static void plan_vacation(sieve_delivery *sd, const qenvelope *env, const char *to, const sieve_action *a,
                          const sieve_message *msg, const sieve_envelope *senv, sieve_plan *p)
{
	sieve_vacation vac = a->vac; /* its :from may be left out below */
	const sieve_vacation *v = &vac;
	const char *why = NULL;
	if (!sieve_vacation_should_reply(msg, senv, to, &v->addresses, true, &why)) {
		plan_did(p, "vacation:skipped (%s)", why);
		return;
	}
	time_t now = time(NULL);
	if (vacmemo_replied(sd->memo, to, env->sender, v->handle, now)) {
		plan_did(p, "vacation:skipped (replied to this sender already)");
		return;
	}
	sieve_send *s = new_send(p, "vacation", "");
	if (!resolve(sd, env->sender, s)) {
		plan_did(p, "vacation:skipped (the sender cannot be resolved)");
		drop_last_send(p);
		return;
	}
	if (vac.from != NULL && !vacation_from_allowed(sd, to, vac.from)) {
		plan_did(p, "vacation:from-ignored (not an address of %s)", to);
		vac.from = NULL; /* the user's own address */
	}
	autoreply_info info = {.hostname = sd->hostname, .user = to, .to = env->sender, .now = now};
	buf out;
	buf_init(&out, BUF_UNBOUNDED); /* the reason (a script's string) and a few fields */
	autoreply_vacation(&info, v, msg->data, msg->len, &out);
	s->len = out.len;
	s->data = buf_steal(&out);
	sign_send(sd, to, s);
	s->vac_handle = xstrdup(v->handle);
	s->vac_until = now + v->seconds;
	plan_did(p, "vacation:sent");
}

static void plan_refusal(sieve_delivery *sd, const qenvelope *env, size_t idx, const sieve_action *a,
                         const char *body, size_t len, sieve_plan *p)
{
	bool ereject = a->kind == SIEVE_ACT_EREJECT;
	const char *to = env->rcpts[idx].address;
	if (env->sender[0] == '\0') { /* RFC 5429 2.1-2.2: never to the null sender */
		plan_did(p, "%s:not sent (null sender)", ereject ? "ereject" : "reject");
		return;
	}
	sieve_send *s = new_send(p, ereject ? "ereject" : "reject", "");
	if (!resolve(sd, env->sender, s)) {
		plan_did(p, "%s:not sent (the sender cannot be resolved)", ereject ? "ereject" : "reject");
		drop_last_send(p);
		return;
	}
	buf out;
	buf_init(&out, ereject ? SEND_MAX : BUF_UNBOUNDED); /* dsn_build checks; a refusal holds the header only */
	const char *reason = a->target ? a->target : "";
	if (ereject) { /* RFC 5429 2.1.1: a DSN where the refusal cannot be at protocol level */
		time_t now = time(NULL);
		dsn_info info = {.reporting_mta = sd->hostname, .qid = env->id, .envid = env->envid,
		                 .sender = env->sender, .arrival = env->time, .now = now, .headers_only = true};
		dsn_rcpt r = {.address = to, .orig = env->rcpts[idx].orcpt, .action = DSN_ACTION_FAILED,
		              .status = "5.7.1", .reason = reason, .last_attempt = now};
		if (!dsn_build(&info, &r, 1, body, len, &out))
			buf_clear(&out);
	} else {
		autoreply_info info = {.hostname = sd->hostname, .user = to, .to = env->sender, .now = time(NULL)};
		autoreply_refusal(&info, reason, body, len, &out);
	}
	s->len = out.len;
	s->data = buf_steal(&out);
	sign_send(sd, to, s);
	plan_did(p, "%s:sent", ereject ? "ereject" : "reject");
}

/* ---- the plan ---- */

static void plan_result(sieve_delivery *sd, const qenvelope *env, size_t idx, const char *root,
                        const char *keep_folder, const sieve_result *r, const sieve_message *msg,
                        const sieve_envelope *senv, sieve_plan *p)
{
	const char *to = env->rcpts[idx].address;
	bool need_keep = r->implicit_keep;
	for (size_t i = 0; i < r->n; i++) {
		const sieve_action *a = &r->actions[i];
		switch (a->kind) {
		case SIEVE_ACT_KEEP:
			keep(p, keep_folder, env->junk, &a->flags);
			break;
		case SIEVE_ACT_FILEINTO: {
			char *path = folder_path(root, a->target);
			if (path == NULL) {
				plan_error(p, "fileinto %s refused: not a folder name", a->target);
				need_keep = true;
			} else {
				add_store(p, path, a->target, &a->flags, a->create);
				plan_did(p, "fileinto:%s", a->target);
			}
			break;
		}
		case SIEVE_ACT_REDIRECT: {
			bool lost = false;
			plan_redirect(sd, env, to, a, msg->data, msg->len, p, &lost);
			need_keep = need_keep || lost;
			break;
		}
		case SIEVE_ACT_DISCARD:
			plan_did(p, "discard");
			break;
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			plan_refusal(sd, env, idx, a, msg->data, msg->len, p);
			break;
		case SIEVE_ACT_VACATION:
			plan_vacation(sd, env, to, a, msg, senv, p);
			break;
		}
	}
	if (need_keep)
		keep(p, keep_folder, env->junk, &r->keep_flags);
}

void sieve_delivery_plan(sieve_delivery *sd, const qenvelope *env, size_t idx, const char *root,
                         const char *keep_folder, const char *body, size_t len, sieve_plan *p)
{
	*p = (sieve_plan){0};
	buf_init(&p->did, BUF_UNBOUNDED); /* a few words per action; actions are bounded */
	buf_init(&p->error, BUF_UNBOUNDED);
	if (sd == NULL || root == NULL || keep_folder == NULL)
		return;
	sieve_cache_ref *ref = NULL;
	char *why = NULL;
	sieve_cache_status st = sieve_cache_get(sd->cache, root, &ref, &why);
	if (st == SIEVE_CACHE_NONE)
		return;
	p->ran = true;
	if (st == SIEVE_CACHE_ERROR) {
		p->tempfail = true;
		plan_error(p, "the script cannot be read: %s", strerror(errno));
		return;
	}
	if (st == SIEVE_CACHE_BROKEN) {
		/* RFC 5228 2.10.6: a script that cannot run keeps the message */
		plan_error(p, "the active script does not compile: %s", why);
		free(why);
		keep(p, keep_folder, env->junk, NULL);
		return;
	}
	const char *to = env->rcpts[idx].address;
	sieve_message msg = {.data = body, .len = len};
	/* the envelope "to" is the address the message was sent to (RFC 5228
	 * 5.4), before aliases and "+detail" were resolved: the ORCPT that
	 * RCPT kept (subaddress's :detail needs it) */
	const char *orcpt = env->rcpts[idx].orcpt, *semi = orcpt ? strchr(orcpt, ';') : NULL;
	sieve_envelope senv = {.from = env->sender, .to = semi && semi[1] ? semi + 1 : to, .auth = env->auth_user};
	run_ctx rc = {.root = root};
	sieve_env e = {.mailbox_exists = mailbox_exists, .ctx = &rc};
	sieve_result r;
	sieve_run(sieve_cache_script(ref), &msg, &senv, &e, &r);
	sieve_cache_put(sd->cache, ref);
	if (r.error != NULL) {
		plan_error(p, "%s", r.error);
		keep(p, keep_folder, env->junk, NULL);
	} else {
		plan_result(sd, env, idx, root, keep_folder, &r, &msg, &senv, p);
	}
	sieve_result_free(&r);
}

bool sieve_delivery_send(sieve_delivery *sd, const qenvelope *env, size_t idx, const sieve_plan *p,
                         strlist *queued)
{
	const char *to = env->rcpts[idx].address;
	for (size_t i = 0; i < p->n_sends; i++) {
		const sieve_send *s = &p->sends[i];
		if (s->data == NULL || s->len == 0)
			continue;
		char id[QID_LEN + 1];
		qid_new(id);
		qenvelope ne = {.id = id, .time = time(NULL), .sender = s->sender, .client = (char *)"127.0.0.1",
		                .helo = sd->hostname, .requiretls = s->requiretls};
		for (size_t k = 0; k < s->local.n; k++)
			qenvelope_add_rcpt(&ne, s->local.items[k], 'L');
		for (size_t k = 0; k < s->remote.n; k++)
			qenvelope_add_rcpt(&ne, s->remote.items[k], 'R');
		char *path = queue_commit_now(sd->q, &ne, s->data, s->len);
		log_event(path ? LOG_LVL_INFO : LOG_LVL_ERROR, "sieve_send", "qid=%s to=%s action=%s new_qid=%s result=%s",
		          env->id, to, s->what, id, path ? "queued" : "failed");
		qenvelope_free_rcpts(&ne);
		if (path == NULL)
			return false;
		strlist_add_owned(queued, path);
		if (s->vac_handle != NULL)
			vacmemo_remember(sd->memo, to, env->sender, s->vac_handle, s->vac_until);
	}
	return true;
}
