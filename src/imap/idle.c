/* idle.c — IDLE (RFC 2177): after "+ idling" the session waits for DONE;
 * while it waits, a change to the selected folder (a delivery, another
 * session, a Maildir tool) makes it look at the folder again and push what
 * changed (EXISTS, EXPUNGE, FETCH FLAGS) at once.  The folder watch is the
 * server's one inotify instance (store/watch.c). */
#include "imap/session.h"

#include <stdlib.h>
#include <strings.h>

#include "store/watch.h"

static void on_change(void *arg)
{
	imap_session *s = arg;
	if (s->idle_syncing) {
		s->idle_again = true; /* look once more when this look is done */
		return;
	}
	s->idle_syncing = true;
	imap_sync(s, NULL, "IDLE");
}

void imap_idle_start(imap_session *s, const imap_command *c)
{
	if (c->nargs != 0) {
		imap_tagged(s, c->tag, "BAD", "IDLE takes no arguments");
		return;
	}
	s->idle_tag = xstrdup(c->tag);
	if (s->state == IS_SELECTED)
		s->idle_sub = folder_watch_add(s->srv->watch, s->mb->path, on_change, s);
	buf_puts(conn_out(s->c), "+ idling\r\n");
}

void imap_idle_synced(imap_session *s)
{
	s->idle_syncing = false;
	if (s->idle_again && s->idle_tag != NULL) {
		s->idle_again = false;
		on_change(s);
	}
}

void imap_idle_stop(imap_session *s)
{
	folder_watch_remove(s->srv->watch, s->idle_sub);
	s->idle_sub = NULL;
	free(s->idle_tag);
	s->idle_tag = NULL;
	s->idle_again = false;
}

void imap_idle_line(imap_session *s, const char *line)
{
	if (strcasecmp(line, "DONE") == 0)
		imap_tagged(s, s->idle_tag, "OK", "IDLE terminated");
	else
		imap_tagged(s, s->idle_tag, "BAD", "Expected DONE");
	imap_idle_stop(s);
}
