/* recent.c — \Recent for IMAP4rev1 sessions (RFC 3501 2.3.2): a message
 * is recent in one session only, the first one told of it with the folder
 * selected by SELECT; in that session it keeps the flag until the folder
 * is closed.  EXAMINE changes no state (RFC 3501 6.3.2): such a session
 * sees the messages nobody claimed as recent and claims none.  IMAP4rev2
 * has no \Recent (RFC 9051): after ENABLE IMAP4rev2 a session neither sees
 * nor claims it.  The folder's claim line is the shared view's
 * (store_view.recent_floor, kept in the index); the session keeps the UID
 * ranges it claimed or saw.  On the loop, outside the folder's writers. */
#include "imap/session.h"

#include <stdlib.h>

static bool sees_recent(const imap_session *s)
{
	return !(s->enabled & IMAP_ENABLED_REV2);
}

void imap_recent_take(imap_session *s, uint32_t upto)
{
	store_view *v = s->view;
	if (!sees_recent(s) || v->mb == NULL || upto <= v->recent_floor)
		return;
	uint32_t lo = v->recent_floor > s->recent_seen ? v->recent_floor : s->recent_seen;
	if (upto <= lo)
		return;
	s->recent_seen = upto;
	if (!s->readonly) {
		v->recent_floor = upto;
		v->recent_dirty = true;
	}
	if (s->n_recent > 0 && s->recent[s->n_recent - 1].hi == lo) {
		s->recent[s->n_recent - 1].hi = upto; /* one run with the last */
		return;
	}
	s->recent = xrealloc(s->recent, (s->n_recent + 1) * sizeof(*s->recent));
	s->recent[s->n_recent++] = (imap_uid_range){lo, upto};
}

bool imap_recent_has(const imap_session *s, uint32_t uid)
{
	for (size_t i = s->n_recent; i > 0; i--)
		if (uid >= s->recent[i - 1].lo && uid < s->recent[i - 1].hi)
			return true;
	return false;
}

size_t imap_recent_count(const imap_session *s)
{
	const mbox *mb = s->view->mb;
	size_t n = 0;
	for (size_t i = 0; mb != NULL && s->n_recent > 0 && i < mb->n; i++)
		n += imap_recent_has(s, mb->msgs[i].uid);
	return n;
}

void imap_recent_forget(imap_session *s)
{
	free(s->recent);
	s->recent = NULL;
	s->n_recent = 0;
	s->recent_seen = 0;
}
