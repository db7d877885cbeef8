/* quotawarn.c — the nearly-full warning (see quotawarn.h): its text, its
 * one Maildir write, and the stored warning bits.  It must not refuse the
 * warning for the quota: it is delivered even into a full mailbox. */
#include "delivery/quotawarn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "delivery/dsn.h"
#include "delivery/maildir.h"
#include "lib/log.h"
#include "lib/strutil.h"

#define WARN_MAX 8192

/* "9.5 MiB" (one decimal below 10 units) or "12 MiB", "300 KiB", "17 bytes" */
static void human_size(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%llu bytes", (unsigned long long)n);
	else
		snprintf(out, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* used as a whole per cent of limit, rounded down (limit > 0) */
static unsigned percent(uint64_t used, uint64_t limit)
{
	return used >= limit ? 100 + (unsigned)((used - limit) * 100 / limit) : (unsigned)(used * 100 / limit);
}

static bool put_usage(buf *out, quota_limits l, uint64_t bytes, uint64_t messages)
{
	bool ok = true;
	if (l.bytes > 0) {
		char have[32], lim[32];
		human_size(bytes, have, sizeof have);
		human_size(l.bytes, lim, sizeof lim);
		ok = ok && buf_printf(out, "  storage:  %s of %s (%u %%)\n", have, lim, percent(bytes, l.bytes));
	}
	if (l.messages > 0)
		ok = ok && buf_printf(out, "  messages: %llu of %llu (%u %%)\n", (unsigned long long)messages,
		                      (unsigned long long)l.messages, percent(messages, l.messages));
	return ok;
}

bool quota_warn_build(buf *out, const char *hostname, const char *account, quota_limits l, uint64_t bytes,
                      uint64_t messages, unsigned which, time_t now)
{
	const char *what = which == (ACC_QUOTA_WARNED_STORAGE | ACC_QUOTA_WARNED_MESSAGES)
	                   ? "storage and message count"
	                   : which & ACC_QUOTA_WARNED_STORAGE ? "storage" : "message count";
	return buf_printf(out, "Return-Path: <>\nDelivered-To: %s\n", account) &&
	       buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: <%s>\n", hostname, account) &&
	       buf_printf(out, "Subject: Your mailbox is almost full\nDate: ") && dsn_put_date(out, now) &&
	       buf_printf(out, "\nMessage-ID: <%lld.quota.%s@%s>\n", (long long)now, account, hostname) &&
	       buf_puts(out, "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	                     "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n") &&
	       buf_printf(out, "Your mailbox %s has used %u %% or more of its %s quota.\n\n", account,
	                  QUOTA_WARN_PERCENT, what) &&
	       put_usage(out, l, bytes, messages) &&
	       buf_puts(out, "\nWhen it is full, new mail for you is held back: it waits at the sender's\n"
	                     "server or in this server's queue, and goes back to its sender if there is\n"
	                     "still no room when the waiting time is over.  Delete the messages you no\n"
	                     "longer need, and empty the Trash folder, to make room.\n");
}

bool quota_warn_deliver(const char *root, const char *hostname, const char *account, quota_limits l,
                        uint64_t bytes, uint64_t messages, unsigned which)
{
	buf msg;
	buf_init(&msg, WARN_MAX);
	time_t now = time(NULL);
	unsigned rnd = 0;
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		rnd = (unsigned)getpid();
	/* a name no queue delivery uses (those carry ".Y<qid>R") */
	char *name = xasprintf("%lld.Q%08xP%ld.%s", (long long)now, rnd, (long)getpid(), hostname);
	const char *step = "build";
	bool ok = quota_warn_build(&msg, hostname, account, l, bytes, messages, which, now) &&
	          maildir_deliver(root, name, "", 0, msg.data, msg.len, &step) == MD_OK;
	int err = errno;
	log_event(ok ? LOG_LVL_INFO : LOG_LVL_ERROR, "quota_warning",
	          "account=%s storage=%llu/%llu messages=%llu/%llu result=%s step=%s", account,
	          (unsigned long long)bytes, (unsigned long long)l.bytes, (unsigned long long)messages,
	          (unsigned long long)l.messages, ok ? "delivered" : strerror(err), ok ? "-" : step);
	free(name);
	buf_free(&msg);
	errno = err;
	return ok;
}

void quota_warn_settle(quota_book *b, const char *hostname, const char *account, const char *root,
                       quota_limits l, unsigned warned, bool counted, uint64_t bytes, uint64_t messages)
{
	if (b == NULL || warned == QUOTA_BOOK_NO_ACCOUNT || (!counted && (warned == 0 || quota_limited(l))))
		return; /* no account to warn, nothing to change, or a usage that could not be read */
	unsigned send = 0, now = quota_warn_state(counted ? l : (quota_limits){0}, bytes, messages, warned, &send);
	if (send != 0 && !quota_warn_deliver(root, hostname, account, l, bytes, messages, send))
		now &= ~send; /* not written: due again next time */
	if (now != warned)
		quota_book_set_warned(b, account, now);
}

void quota_warn_recheck(quota_book *b, const char *hostname, const char *account, const char *root)
{
	quota_limits l;
	unsigned warned;
	uint64_t bytes = 0, messages = 0;
	if (b == NULL || !quota_book_limits(b, account, &l, &warned))
		return; /* a database error (logged): the next addition tries again */
	bool counted = quota_limited(l) && quota_book_usage(b, root, &bytes, &messages);
	quota_warn_settle(b, hostname, account, root, l, warned, counted, bytes, messages);
}
