/* vacation.c — RFC 5230: the vacation action's parameters (:days,
 * :subject, :from, :addresses, :mime, :handle, reason), the derived handle
 * (4.2), and sieve_vacation_should_reply, section 5's and RFC 3834 2's
 * rules for messages that never get an automatic reply.  Building and
 * sending the reply and remembering who got one are delivery's job. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mime/header.h"
#include "sieve/sieve_int.h"

#define VACATION_MIN_DAYS 1
#define VACATION_MAX_DAYS 365   /* RFC 5230 4.1 lets a site cap it; a year */
#define VACATION_DEFAULT_DAYS 7

static void set_vac(sieve_opts *o, const char *tag, sieve_arg *a)
{
	if (strcmp(tag, "days") == 0) {
		o->days = a->num;
		o->days_set = true;
	} else if (strcmp(tag, "subject") == 0) {
		o->subject = a;
	} else if (strcmp(tag, "from") == 0) {
		o->from = a;
	} else if (strcmp(tag, "addresses") == 0) {
		o->addresses = a;
	} else if (strcmp(tag, "mime") == 0) {
		o->mime = true;
	} else {
		o->handle = a;
	}
}

static const sieve_tag_def vac_tags[] = {
	{"days", 0, 'N', 10, set_vac}, {"subject", 0, 'S', 11, set_vac},
	{"from", 0, 'S', 12, set_vac}, {"addresses", 0, 'L', 13, set_vac},
	{"mime", 0, 0, 14, set_vac}, {"handle", 0, 'S', 15, set_vac},
	{NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const vacation_tags[] = {vac_tags, NULL};

static bool check_vacation(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *f = n->o.from;
	if (f != NULL && sieve_arg_constant(f) && !sieve_valid_address(f->strs[0]))
		return sieve_fail(c, f->line, f->col, "vacation :from: invalid address '%s'", f->strs[0]);
	/* an invalid :addresses item is dropped at run time, not refused */
	return true;
}

static bool run_vacation(sieve_interp *it, const sieve_node *n)
{
	const sieve_opts *o = &n->o;
	sieve_action a = {.kind = SIEVE_ACT_VACATION};
	sieve_vacation *v = &a.vac;
	uint64_t days = o->days_set ? o->days : VACATION_DEFAULT_DAYS;
	days = days < VACATION_MIN_DAYS ? VACATION_MIN_DAYS
	     : days > VACATION_MAX_DAYS ? VACATION_MAX_DAYS : days;
	v->seconds = (long)days * 86400;
	v->reason = sieve_expand(it, n->pos[0]->strs[0]);
	v->subject = o->subject ? sieve_expand(it, o->subject->strs[0]) : NULL;
	/* the subject becomes a header field: no line breaks may reach it */
	for (char *c = v->subject; c != NULL && *c != '\0'; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	v->from = o->from ? sieve_expand(it, o->from->strs[0]) : NULL;
	v->mime = o->mime;
	strlist_init(&v->addresses);
	if (o->addresses != NULL) {
		strlist given;
		sieve_expand_list(it, o->addresses, &given);
		for (size_t i = 0; i < given.n; i++) {
			char *spec = sieve_address_spec(given.items[i]);
			if (spec != NULL)
				strlist_add_owned(&v->addresses, spec);
		}
		strlist_free(&given);
	}
	if (v->from != NULL && !sieve_valid_address(v->from)) {
		sieve_rt_error(it, "vacation :from: invalid address '%s'", v->from);
		free(v->reason);
		free(v->subject);
		free(v->from);
		strlist_free(&v->addresses);
		return false;
	}
	if (o->handle != NULL)
		v->handle = sieve_expand(it, o->handle->strs[0]);
	else   /* RFC 5230 4.2: a change of the response makes a new handle; it
		* is made from the script's text before ${...} expansion, as
		* Pigeonhole does, so a reason quoting the subject does not make
		* every message a new one */
		v->handle = xasprintf("%s%s%s%s", n->pos[0]->strs[0],
				      o->subject ? o->subject->strs[0] : "<default-subject>",
				      o->from ? o->from->strs[0] : "<default-from>",
				      v->mime ? "<MIME>" : "<NO-MIME>");
	return sieve_result_add(it, &a);
}

const sieve_def sieve_defs_vacation[] = {
	{"vacation", CAP_VACATION, false, vacation_tags, "S", false, 0, 0, check_vacation,
	 run_vacation, NULL},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};

/* ---- RFC 5230 5 / RFC 3834 2 ---- */

static char *header(const sieve_message *m, const char *name)
{
	return mime_header_value(m->data, 0, m->len, name);
}

static bool local_is(const char *local, size_t n, const char *what)
{
	return strlen(what) == n && str_ascii_nieq(local, what, n);
}

/* Senders that are lists or daemons by their local part. */
static bool robot_sender(const char *from)
{
	const char *at = strrchr(from, '@');
	size_t n = at != NULL ? (size_t)(at - from) : strlen(from);
	return (n >= 6 && str_ascii_nieq(from, "owner-", 6)) ||
	       (n >= 8 && str_ascii_nieq(from + n - 8, "-request", 8)) ||
	       local_is(from, n, "mailer-daemon") || local_is(from, n, "listserv") ||
	       local_is(from, n, "majordomo");
}

static bool addr_in(const char *addr, const char *user, const strlist *addresses)
{
	if (user != NULL && str_ascii_ieq(addr, user))
		return true;
	for (size_t i = 0; addresses != NULL && i < addresses->n; i++)
		if (str_ascii_ieq(addr, addresses->items[i]))
			return true;
	return false;
}

/* One of the user's addresses in To, Cc, Bcc or Resent-* (RFC 5230 4.5). */
static bool addressed_to_user(const sieve_message *m, const char *user, const strlist *addrs)
{
	static const char *const names[] = {"to", "cc", "bcc", "resent-to", "resent-cc",
					    "resent-bcc"};
	size_t pos = 0;
	mime_field f;
	bool found = false;
	while (!found && mime_header_next(m->data, m->len, &pos, &f)) {
		for (size_t i = 0; i < 6 && !found; i++) {
			if (!mime_field_is(m->data, &f, names[i]))
				continue;
			char *v = mime_field_value(m->data, &f);
			strlist l;
			strlist_init(&l);
			sieve_address_parts(v, AP_ALL, &l);
			for (size_t k = 0; k < l.n && !found; k++)
				found = addr_in(l.items[k], user, addrs);
			strlist_free(&l);
			free(v);
		}
	}
	return found;
}

static bool header_is_one_of(const sieve_message *m, const char *name, const char *const *vals)
{
	char *v = header(m, name);
	bool r = false;
	for (size_t i = 0; v != NULL && vals[i] != NULL; i++)
		r = r || str_ascii_ieq(v, vals[i]);
	free(v);
	return r;
}

/* X-Auto-Response-Suppress (Microsoft's, common practice): a comma list
 * whose "OOF" or "All" asks for no out-of-office reply. */
static bool suppresses_oof(const sieve_message *m)
{
	char *v = header(m, "x-auto-response-suppress");
	bool r = false;
	char *save = NULL;
	for (char *tok = v != NULL ? strtok_r(v, ", \t", &save) : NULL; tok != NULL && !r;
	     tok = strtok_r(NULL, ", \t", &save))
		r = str_ascii_ieq(tok, "oof") || str_ascii_ieq(tok, "all");
	free(v);
	return r;
}

bool sieve_vacation_should_reply(const sieve_message *msg, const sieve_envelope *env,
				 const char *user, const strlist *addresses,
				 bool check_recipient, const char **why_r)
{
	static const char *const bulk[] = {"bulk", "list", "junk", NULL};
	static const char *const lists[] = {"list-id", "list-help", "list-subscribe",
		"list-unsubscribe", "list-post", "list-owner", "list-archive", NULL};
	*why_r = NULL;
	if (env->from == NULL || env->from[0] == '\0')
		*why_r = "the envelope sender is empty";
	else if (addr_in(env->from, user, addresses))
		*why_r = "the sender is the user";
	else if (robot_sender(env->from))
		*why_r = "the sender is a list or a daemon";
	char *auto_sub = header(msg, "auto-submitted");
	if (*why_r == NULL && auto_sub != NULL) {
		size_t n = strcspn(auto_sub, " \t;(");
		if (!(n == 2 && str_ascii_nieq(auto_sub, "no", 2)))
			*why_r = "the message is auto-submitted";
	}
	free(auto_sub);
	for (size_t i = 0; *why_r == NULL && lists[i] != NULL; i++) {
		char *v = header(msg, lists[i]);
		if (v != NULL)
			*why_r = "the message comes from a mailing list";
		free(v);
	}
	if (*why_r == NULL && header_is_one_of(msg, "precedence", bulk))
		*why_r = "the message has Precedence bulk, list or junk";
	if (*why_r == NULL && suppresses_oof(msg))
		*why_r = "the message asks for no automatic reply";
	if (*why_r == NULL && check_recipient && !addressed_to_user(msg, user, addresses))
		*why_r = "none of the user's addresses is in To, Cc or Bcc";
	return *why_r == NULL;
}
