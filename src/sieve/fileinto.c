/* fileinto.c — fileinto (RFC 5228 4.1) with :copy (RFC 3894), :create and
 * the mailboxexists test (RFC 5490 3), and :flags (RFC 5232).  A folder
 * that does not exist without :create is a runtime error, as is a name
 * that is empty, not UTF-8 or holds a control character. */
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "sieve/sieve_int.h"

static bool exists(sieve_interp *it, const char *name)
{
	const sieve_env *e = it->environment;
	return str_ascii_ieq(name, "INBOX") || e->mailbox_exists == NULL ||
	       e->mailbox_exists(e->ctx, name);
}

/* A folder name IMAP can carry: UTF-8 without control characters. */
static bool valid_name(const char *s)
{
	for (const char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return *s != '\0' && imap_utf8_valid(s, strlen(s));
}

static bool run_fileinto(sieve_interp *it, const sieve_node *n)
{
	char *name = sieve_expand(it, n->pos[0]->strs[0]);
	if (!valid_name(name)) {
		sieve_rt_error(it, "fileinto: invalid folder name '%s'", name);
		free(name);
		return false;
	}
	if (!n->o.create && !exists(it, name)) {
		sieve_rt_error(it, "fileinto: folder '%s' does not exist", name);
		free(name);
		return false;
	}
	sieve_action a = {.kind = SIEVE_ACT_FILEINTO, .target = name, .copy = n->o.copy,
			  .create = n->o.create};
	strlist_init(&a.flags);
	sieve_action_flags(it, n, &a.flags);
	return sieve_result_add(it, &a);
}

static bool check_fileinto(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	if (sieve_arg_constant(a) && !valid_name(a->strs[0]))
		return sieve_fail(c, a->line, a->col, "fileinto: invalid folder name '%s'", a->strs[0]);
	return true;
}

static int test_mailboxexists(sieve_interp *it, const sieve_node *n)
{
	strlist names;
	sieve_expand_list(it, n->pos[0], &names);
	bool all = true;
	for (size_t i = 0; i < names.n && all; i++)
		all = valid_name(names.items[i]) && exists(it, names.items[i]);
	strlist_free(&names);
	return all;
}

static void set_create(sieve_opts *o, const char *tag, sieve_arg *a) { o->create = true; }
static const sieve_tag_def create_tag[] = {
	{"create", CAP_MAILBOX, 0, 8, set_create}, {NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const fileinto_tags[] = {sieve_tags_copy, create_tag,
	sieve_tags_flags, NULL};

const sieve_def sieve_defs_fileinto[] = {
	{"fileinto", CAP_FILEINTO, false, fileinto_tags, "S", false, 0, 0, check_fileinto,
	 run_fileinto, NULL},
	{"mailboxexists", CAP_MAILBOX, true, NULL, "L", false, 0, 0, NULL, NULL,
	 test_mailboxexists},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
