/* quota.c — QUOTA (RFC 9208): one quota root per account, "", holding
 * every mailbox, with the STORAGE resource (KiB of mail, from the
 * account's Maildir file names: store/usage.h) when the account has a
 * storage limit and the MESSAGE resource when it has a message limit:
 * its own values (`yubin user quota`) over limits.mailbox_quota and
 * limits.mailbox_quota_messages (store/quotabook.h); GETQUOTAROOT,
 * GETQUOTA, SETQUOTA (refused: quotas are the administrator's), and the
 * check APPEND and COPY make before they add mail.  Without a limit the
 * account has no quota root at all.  The limits are soft by the width of
 * a race: two sessions adding mail at the same moment may both pass the
 * check.  Local delivery enforces the same limits (delivery/local.c);
 * APPEND and COPY give the 90 % warning as it does (delivery/quotawarn.h).
 * Every look at the account store or the Maildir runs on a worker. */
#include "imap/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "imap/args.h"
#include "imap/names.h"
#include "lib/log.h"
#include "mime/imapfmt.h"
#include "store/quotabook.h"
#include "store/usage.h"

#define QUOTA_ROOT ""

/* On a worker (the account store is SQLite): the account's limits now (a
 * change by `yubin user quota` counts at once); the defaults when the
 * account store cannot say. */
static quota_limits limits_of(const imap_session *s)
{
	quota_limits l;
	if (s->srv->quota != NULL)
		quota_book_limits(s->srv->quota, s->account, &l, NULL);
	else
		l = quota_effective(NULL, s->srv->cfg->limits.mailbox_quota, s->srv->cfg->limits.mailbox_quota_messages);
	return l;
}

/* On a worker: the account's bytes and messages now (false when they
 * cannot be read). */
static bool usage_now(imap_session *s, uint64_t *bytes_r, uint64_t *messages_r)
{
	if (s->usage == NULL)
		s->usage = store_usage_new();
	return store_usage_get(s->usage, s->maildir, bytes_r, messages_r);
}

bool imap_quota_exceeded(imap_session *s, uint64_t bytes, uint64_t messages)
{
	uint64_t have_bytes, have_messages;
	quota_limits l = limits_of(s);
	if (!quota_limited(l) || !usage_now(s, &have_bytes, &have_messages))
		return false; /* no limit; unreadable: the write that follows will tell */
	return quota_over(l, have_bytes, have_messages, bytes, messages);
}

bool imap_disk_full(int err)
{
	return err == ENOSPC || err == EDQUOT;
}

bool imap_disk_full_at(const char *path)
{
	struct statvfs st;
	if (statvfs(path, &st) != 0)
		return false;
	return st.f_bavail < 8 || (st.f_files > 0 && st.f_favail == 0);
}

/* GETQUOTAROOT and GETQUOTA ask the account store (SQLite) and count the
 * Maildir: both on a worker, the session paused meanwhile. */
typedef struct quota_job {
	imap_session *s;
	char *tag, *name;     /* name: GETQUOTAROOT's mailbox, NULL for GETQUOTA */
	quota_limits l;       /* the account's limits, read on the worker */
	uint64_t bytes, messages;
	bool ok;              /* limited, and the usage was counted */
} quota_job;

static void quota_work(void *arg)
{
	quota_job *j = arg;
	j->l = limits_of(j->s);
	j->ok = quota_limited(j->l) && usage_now(j->s, &j->bytes, &j->messages);
}

/* RFC 9208 5.2: "* QUOTAROOT name", with our one root when it has one. */
static void quotaroot_line(imap_session *s, const char *name, bool with_root)
{
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	BUF_PUTS(&out, "* QUOTAROOT ");
	if (imap_name_out(s, &out, name)) {
		BUF_PUTS(&out, with_root ? " \"" QUOTA_ROOT "\"\r\n" : "\r\n");
		conn_write(s->c, out.data, out.len);
	}
	buf_free(&out);
}

/* RFC 9208 5.1: STORAGE in units of 1024 octets, usage rounded up. */
static void quota_line(imap_session *s, quota_limits l, uint64_t bytes, uint64_t messages)
{
	char storage[64] = "", msgs[64] = "";
	if (l.bytes > 0)
		snprintf(storage, sizeof storage, "STORAGE %llu %llu", (unsigned long long)((bytes + 1023) / 1024),
		         (unsigned long long)(l.bytes / 1024));
	if (l.messages > 0)
		snprintf(msgs, sizeof msgs, "%sMESSAGE %llu %llu", storage[0] ? " " : "", (unsigned long long)messages,
		         (unsigned long long)l.messages);
	imap_untagged(s, "QUOTA \"" QUOTA_ROOT "\" (%s%s)", storage, msgs);
}

static void quota_reply(quota_job *j)
{
	imap_session *s = j->s;
	bool limited = quota_limited(j->l);
	if (j->name == NULL && !limited) {
		imap_tagged(s, j->tag, "NO", "[NONEXISTENT] No such quota root");
		return;
	}
	/* RFC 9208 4.3: without a limit the mailbox is under no quota root */
	if (j->name != NULL)
		quotaroot_line(s, j->name, limited);
	if (limited && !j->ok) {
		log_event(LOG_LVL_ERROR, "imap", "sid=%s user=%s quota_error=\"cannot read the account\"", s->sid,
		          s->account);
		imap_tagged(s, j->tag, "NO", "[SERVERBUG] The usage cannot be counted");
		return;
	}
	if (limited)
		quota_line(s, j->l, j->bytes, j->messages);
	imap_tagged(s, j->tag, "OK", "%s completed", j->name ? "GETQUOTAROOT" : "GETQUOTA");
}

static void quota_done(void *arg)
{
	quota_job *j = arg;
	imap_session *s = j->s;
	quota_reply(j);
	free(j->tag);
	free(j->name);
	free(j);
	conn_resume(s->c);
}

static void limits_then_reply(imap_session *s, const char *tag, char *name)
{
	quota_job *j = xcalloc(1, sizeof(*j));
	*j = (quota_job){.s = s, .tag = xstrdup(tag), .name = name};
	conn_pause(s->c);
	workers_submit(s->srv->wk, quota_work, quota_done, j);
}

static void getquotaroot(imap_session *s, const imap_command *c)
{
	char *name = NULL;
	if (c->nargs != 1) {
		imap_tagged(s, c->tag, "BAD", "GETQUOTAROOT needs one mailbox name");
		return;
	}
	if (!imap_name_arg(s, c->tag, c->args, &name))
		return;
	/* RFC 9208 4.1.2: the mailbox need not exist (which root would hold it
	 * once made), but the name must be one that could */
	char *path = imap_folder_path(s, name);
	if (path == NULL) {
		imap_tagged(s, c->tag, "NO", "[CANNOT] That cannot be a mailbox name");
		free(name);
	} else {
		limits_then_reply(s, c->tag, name);
	}
	free(path);
}

static void getquota(imap_session *s, const imap_command *c)
{
	const char *root;
	size_t len;
	if (c->nargs != 1 || !imap_arg_astring(c->args, &root, &len)) {
		imap_tagged(s, c->tag, "BAD", "GETQUOTA needs one quota root");
		return;
	}
	if (len != strlen(QUOTA_ROOT) || memcmp(root, QUOTA_ROOT, len) != 0)
		imap_tagged(s, c->tag, "NO", "[NONEXISTENT] No such quota root");
	else
		limits_then_reply(s, c->tag, NULL);
}

void imap_quota_cmd(imap_session *s, const imap_command *c)
{
	if (strcmp(c->name, "GETQUOTAROOT") == 0) {
		getquotaroot(s, c);
	} else if (strcmp(c->name, "GETQUOTA") == 0) {
		getquota(s, c);
	} else if (c->nargs != 2 || c->args->next->type != IMAP_ARG_LIST) {
		imap_tagged(s, c->tag, "BAD", "SETQUOTA needs a quota root and a list of limits");
	} else {
		/* RFC 9208 4.1.3: a server may refuse; no QUOTASET is advertised */
		imap_tagged(s, c->tag, "NO", "[NOPERM] Quotas are set by the administrator");
	}
}
