/* idle.c — IDLE (RFC 2177): after "+ idling" the session waits for DONE;
 * while it waits, every change to the selected folder that the shared view
 * takes in (a delivery, another session, a Maildir tool: the server's one
 * folder watch sees them all) is pushed at once (EXISTS, EXPUNGE, FETCH). */
#include "imap/session.h"

#include <stdlib.h>
#include <strings.h>

static void on_change(void *arg)
{
	imap_session *s = arg;
	imap_report(s, true);
	conn_flush(s->c);
}

/* What changed between the last command and IDLE. */
static void idle_ready(void *arg)
{
	imap_session *s = arg;
	on_change(s);
	conn_resume(s->c);
}

void imap_idle_start(imap_session *s, const imap_command *c)
{
	if (c->nargs != 0) {
		imap_tagged(s, c->tag, "BAD", "IDLE takes no arguments");
		return;
	}
	s->idle_tag = xstrdup(c->tag);
	conn_puts(s->c, "+ idling\r\n");
	if (s->state == IS_SELECTED) {
		s->viewer->changed = on_change;
		s->viewer->arg = s;
		store_view_check(s->view);
		conn_pause(s->c);
		store_view_run(s->view, STORE_READ, NULL, idle_ready, s);
	}
}

void imap_idle_stop(imap_session *s)
{
	if (s->viewer != NULL)
		s->viewer->changed = NULL;
	free(s->idle_tag);
	s->idle_tag = NULL;
	imap_notify_arm(s); /* NOTIFY pushes again */
}

void imap_idle_line(imap_session *s, const char *line)
{
	if (strcasecmp(line, "DONE") == 0)
		imap_tagged(s, s->idle_tag, "OK", "IDLE terminated");
	else
		imap_tagged(s, s->idle_tag, "BAD", "Expected DONE");
	imap_idle_stop(s);
}
