/* cmd_thread.c — THREAD and UID THREAD (RFC 5256 3): "THREAD algorithm
 * charset keys", REFERENCES or ORDEREDSUBJECT, answered "* THREAD" and the
 * thread-lists (thread.c) of the matching messages. */
#include "imap/session.h"

#include <stdlib.h>

#include "imap/args.h"
#include "imap/sortjob.h"
#include "lib/log.h"

#define THREAD_REPLY_MAX ((size_t)64 << 20)

static void thread_finish(imap_sortjob *j)
{
	buf out;
	buf_init(&out, THREAD_REPLY_MAX);
	bool ok = buf_puts(&out, "* THREAD") && (j->nhits == 0 || buf_putc(&out, ' ')) &&
	          imap_thread_write(&out, j->hits, j->nhits, j->alg, j->uid) && buf_puts(&out, "\r\n");
	if (ok) {
		conn_write(j->s->c, out.data, out.len);
		imap_tagged(j->s, j->tag, "OK", "%sTHREAD completed", j->uid ? "UID " : "");
	} else {
		log_event(LOG_LVL_WARN, "imap", "sid=%s thread=too_long hits=%zu", j->s->sid, j->nhits);
		imap_tagged(j->s, j->tag, "NO", "[LIMIT] The THREAD result is too long");
	}
	buf_free(&out);
}

void imap_thread_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len)
{
	imap_sortjob *j = imap_sortjob_new(s, c, raw, raw_len);
	if (j == NULL)
		return;
	const imap_arg *a = j->cmd.args;
	if (a == NULL || !imap_thread_alg_parse(a, &j->alg)) {
		imap_tagged(s, j->tag, "BAD", "%s", a == NULL ? "THREAD needs an algorithm"
		                                              : "Unknown threading algorithm");
		imap_sortjob_free(&j);
		return;
	}
	if (!imap_sortjob_charset(j, a->next) || !imap_sortjob_keys(j, a->next->next)) {
		imap_sortjob_free(&j);
		return;
	}
	j->need_header = true;
	imap_sortjob_run(j, thread_finish);
}
