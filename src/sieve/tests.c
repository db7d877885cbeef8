/* tests.c — the tests of RFC 5228 section 5: address, allof, anyof,
 * envelope, exists, false, header, not, size, true; with RFC 5260's :index
 * and :last on header and address.  Each collects the values to compare
 * and hands them to compare.c. */
#include <string.h>

#include "mime/crlf.h"
#include "sieve/sieve_int.h"

/* The values of one header field name, or only the :index-th occurrence. */
static void header_values(sieve_interp *it, const sieve_opts *o, const char *name,
			  bool decoded, strlist *out)
{
	strlist all;
	strlist_init(&all);
	sieve_msg_header_values(it, name, decoded, &all);
	if (o->index == 0) {
		for (size_t i = 0; i < all.n; i++)
			strlist_add(out, all.items[i]);
	} else if (o->index <= all.n) {
		size_t i = o->last ? all.n - (size_t)o->index : (size_t)o->index - 1;
		strlist_add(out, all.items[i]);
	}
	strlist_free(&all);
}

static int finish(sieve_interp *it, const sieve_opts *o, strlist *values, const sieve_arg *keys_arg)
{
	strlist keys;
	strlist_init(&keys);
	sieve_expand_list(it, keys_arg, &keys);
	bool r = sieve_match_values(it, o, values, &keys);
	strlist_free(&keys);
	strlist_free(values);
	return r;
}

static int test_header(sieve_interp *it, const sieve_node *n)
{
	strlist names, values;
	strlist_init(&names);
	strlist_init(&values);
	sieve_expand_list(it, n->pos[0], &names);
	for (size_t i = 0; i < names.n; i++)
		header_values(it, &n->o, names.items[i], true, &values);
	strlist_free(&names);
	return finish(it, &n->o, &values, n->pos[1]);
}

/* RFC 5228 5.1: the address test only looks at fields that hold addresses
 * (at least From, To, Cc, Bcc, Sender, Resent-From and Resent-To; SHOULD
 * any other address-list field). */
static bool address_field(const char *name)
{
	static const char *const fields[] = {"from", "sender", "to", "cc", "bcc", "reply-to",
		"resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc",
		"resent-reply-to", "return-path", "delivered-to", "disposition-notification-to",
		"errors-to", "mail-followup-to", "mail-reply-to", "original-recipient",
		"x-original-to", "envelope-to", "return-receipt-to", NULL};
	for (size_t i = 0; fields[i] != NULL; i++)
		if (str_ascii_ieq(name, fields[i]))
			return true;
	return false;
}

static bool check_address(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	for (size_t i = 0; i < a->nstrs; i++)
		if (strstr(a->strs[i], "${") == NULL && !address_field(a->strs[i]))
			return sieve_fail(c, a->slines[i], a->scols[i],
					  "header '%s' holds no addresses: not allowed for the address test",
					  a->strs[i]);
	return true;
}

static int test_address(sieve_interp *it, const sieve_node *n)
{
	strlist names, values;
	strlist_init(&names);
	strlist_init(&values);
	sieve_expand_list(it, n->pos[0], &names);
	for (size_t i = 0; i < names.n; i++) {
		if (!address_field(names.items[i]))
			continue;
		strlist raw;
		strlist_init(&raw);
		header_values(it, &n->o, names.items[i], false, &raw);
		for (size_t k = 0; k < raw.n; k++)
			sieve_address_parts(raw.items[k], n->o.addrpart, &values);
		strlist_free(&raw);
	}
	strlist_free(&names);
	return finish(it, &n->o, &values, n->pos[1]);
}

static int test_envelope(sieve_interp *it, const sieve_node *n)
{
	strlist parts, values;
	strlist_init(&parts);
	strlist_init(&values);
	sieve_expand_list(it, n->pos[0], &parts);
	for (size_t i = 0; i < parts.n; i++) {
		const char *p = parts.items[i];
		const char *addr = str_ascii_ieq(p, "from") ? it->env->from
				 : str_ascii_ieq(p, "to") ? it->env->to
				 : str_ascii_ieq(p, "auth") ? it->env->auth : NULL;
		char *v;
		if (addr != NULL && sieve_addr_part(addr, n->o.addrpart, &v))
			strlist_add_owned(&values, v);
	}
	strlist_free(&parts);
	return finish(it, &n->o, &values, n->pos[1]);
}

static bool check_envelope(sieve_compiler *c, sieve_node *n)
{
	const sieve_arg *a = n->pos[0];
	for (size_t i = 0; i < a->nstrs; i++) {
		const char *p = a->strs[i];
		if (strstr(p, "${") == NULL && !str_ascii_ieq(p, "from") && !str_ascii_ieq(p, "to") &&
		    !str_ascii_ieq(p, "auth"))
			return sieve_fail(c, a->line, a->col, "unknown envelope part '%s'", p);
	}
	return true;
}

static int test_exists(sieve_interp *it, const sieve_node *n)
{
	strlist names;
	strlist_init(&names);
	sieve_expand_list(it, n->pos[0], &names);
	sieve_msg_headers(it);
	bool all = true;
	for (size_t i = 0; i < names.n && all; i++) {
		bool found = false;
		for (size_t h = 0; h < it->nhdrs && !found; h++)
			found = str_ascii_ieq(it->hdrs[h].name, names.items[i]);
		all = found;
	}
	strlist_free(&names);
	return all;
}

static void set_size(sieve_opts *o, const char *tag, sieve_arg *a)
{
	if (strcmp(tag, "over") == 0)
		o->over = true;
	else
		o->under = true;
}
static const sieve_tag_def size_tags[] = {
	{"over", 0, 0, 6, set_size}, {"under", 0, 0, 6, set_size}, {NULL, 0, 0, 0, NULL}};

static bool check_size(sieve_compiler *c, sieve_node *n)
{
	if (!n->o.over && !n->o.under)
		return sieve_fail(c, n->line, n->col, "size needs :over or :under");
	return true;
}

/* The size in octets as the message travels and as IMAP's RFC822.SIZE shows
 * it: with CRLF line ends, whatever the stored form (Pigeonhole's sieve-test
 * counts the file's bytes as they are). */
static int test_size(sieve_interp *it, const sieve_node *n)
{
	uint64_t size = mime_crlf_size(it->msg->data, 0, it->msg->len);
	uint64_t limit = n->pos[0]->num;
	return n->o.over ? size > limit : size < limit;
}

static int test_allof(sieve_interp *it, const sieve_node *n)
{
	for (size_t i = 0; i < n->ntests; i++) {
		int r = sieve_eval_test(it, n->tests[i]);
		if (r != 1)
			return r;
	}
	return 1;
}

static int test_anyof(sieve_interp *it, const sieve_node *n)
{
	for (size_t i = 0; i < n->ntests; i++) {
		int r = sieve_eval_test(it, n->tests[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

static int test_not(sieve_interp *it, const sieve_node *n)
{
	int r = sieve_eval_test(it, n->tests[0]);
	return r < 0 ? r : !r;
}

static int test_true(sieve_interp *it, const sieve_node *n) { return 1; }
static int test_false(sieve_interp *it, const sieve_node *n) { return 0; }

static const sieve_tag_def *const addr_tags[] = {sieve_tags_cmp, sieve_tags_match,
	sieve_tags_addr, sieve_tags_index, NULL};
static const sieve_tag_def *const hdr_tags[] = {sieve_tags_cmp, sieve_tags_match,
	sieve_tags_index, NULL};
static const sieve_tag_def *const env_tags[] = {sieve_tags_cmp, sieve_tags_match,
	sieve_tags_addr, NULL};
static const sieve_tag_def *const size_tag_list[] = {size_tags, NULL};

const sieve_def sieve_defs_tests[] = {
	{"address", 0, true, addr_tags, "LL", false, 0, 0, check_address, NULL, test_address},
	{"header", 0, true, hdr_tags, "LL", false, 0, 0, NULL, NULL, test_header},
	{"envelope", CAP_ENVELOPE, true, env_tags, "LL", false, 0, 0, check_envelope, NULL,
	 test_envelope},
	{"exists", 0, true, NULL, "L", false, 0, 0, NULL, NULL, test_exists},
	{"size", 0, true, size_tag_list, "N", false, 0, 0, check_size, NULL, test_size},
	{"allof", 0, true, NULL, "", false, 2, 0, NULL, NULL, test_allof},
	{"anyof", 0, true, NULL, "", false, 2, 0, NULL, NULL, test_anyof},
	{"not", 0, true, NULL, "", false, 1, 0, NULL, NULL, test_not},
	{"true", 0, true, NULL, "", false, 0, 0, NULL, NULL, test_true},
	{"false", 0, true, NULL, "", false, 0, 0, NULL, NULL, test_false},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
