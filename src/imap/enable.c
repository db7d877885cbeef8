/* enable.c — ENABLE (RFC 5161, RFC 9051 6.3.1): the extensions a client may
 * turn on for its session, in one table, and the ENABLED reply naming only
 * those this command newly turned on (unknown names are ignored, as the RFC
 * asks).  It keeps the session's mask and nothing else: what an extension
 * changes is done by the code that reads s->enabled. */
#include "imap/session.h"

#include "imap/args.h"
#include "lib/buf.h"

static const struct {
	const char *name;
	unsigned bit;
} extensions[] = {
	{"IMAP4rev2", IMAP_ENABLED_REV2},
	{"UTF8=ACCEPT", IMAP_ENABLED_UTF8},
	{"CONDSTORE", IMAP_ENABLED_CONDSTORE},
	{"QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE}, /* implies it, RFC 7162 3.2.3 */
};

/* Turn on what a names, if it is known and not on yet; its name goes into
 * reply. */
static void enable_one(imap_session *s, const imap_arg *a, buf *reply)
{
	for (size_t k = 0; k < sizeof(extensions) / sizeof(extensions[0]); k++) {
		if (!imap_arg_atom_is(a, extensions[k].name) || (s->enabled & extensions[k].bit) == extensions[k].bit)
			continue;
		s->enabled |= extensions[k].bit;
		BUF_PRINTF(reply, " %s", extensions[k].name);
	}
}

void imap_enable(imap_session *s, const imap_command *c)
{
	if (c->nargs == 0) {
		imap_tagged(s, c->tag, "BAD", "ENABLE needs capability names");
		return;
	}
	for (const imap_arg *a = c->args; a != NULL; a = a->next) {
		if (a->type != IMAP_ARG_ATOM) {
			imap_tagged(s, c->tag, "BAD", "ENABLE takes capability names (atoms)");
			return;
		}
	}
	buf reply;
	buf_init(&reply, BUF_UNBOUNDED);
	for (const imap_arg *a = c->args; a != NULL; a = a->next)
		enable_one(s, a, &reply);
	imap_untagged(s, "ENABLED%s", buf_str(&reply));
	buf_free(&reply);
	imap_tagged(s, c->tag, "OK", "ENABLE completed");
}
