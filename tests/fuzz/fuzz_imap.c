/* fuzz_imap.c — libFuzzer target for the IMAP reader, parser and typed
 * readers: the input is fed to the reader in pieces whose sizes come from
 * its first byte; every command found is parsed, and every argument is
 * tried with each typed reader.  Checks what must always hold: split feeding
 * gives the same commands as one feed, modified UTF-7 round-trips, a
 * resolved sequence set is sorted and within range, a LIST request read
 * has a pattern.  SORT / THREAD (RFC 5256): criteria, algorithm, RETURN
 * and search keys from every position; every string argument as a
 * Subject (base subject: never longer than the decoded text, idempotent),
 * a Date, a header and a casemap key; and the arguments as a small
 * mailbox of Message-IDs and References threaded both ways, where every
 * message must appear exactly once. A VANISHED set names only
 * UIDs that are gone, above the sequence match floor and within the known
 * UIDs; the reader's limits before login (no_skip) are tried as well, and
 * every string is read as an IMAP URL (CATENATE). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/args.h"
#include "imap/date.h"
#include "imap/fetch.h"
#include "imap/imapurl.h"
#include "imap/flags.h"
#include "imap/listargs.h"
#include "imap/mailbox.h"
#include "imap/mutf7.h"
#include "imap/notify.h"
#include "imap/parse.h"
#include "imap/qresync.h"
#include "imap/reader.h"
#include "imap/search.h"
#include "imap/seqset.h"
#include "imap/casemap.h"
#include "imap/sortkey.h"
#include "imap/thread.h"
#include "mime/charset.h"
#include "imap/status.h"
#include "imap/store.h"
#include "imap/wildcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_seqset(const imap_arg *a)
{
	imap_seqset set, res;
	const char *err;
	if (!imap_seqset_parse_arg(a, &set, &err) || set.searchres) {
		imap_seqset_free(&set);
		return;
	}
	uint32_t max = (uint32_t)(a->len * 7);
	imap_seqset_resolve(&set, max, &res);
	imap_seqset_iter it;
	imap_seqset_iter_init(&it, &res);
	uint32_t n, prev = 0, count = 0;
	while (count < 1000 && imap_seqset_iter_next(&it, &n)) {
		if (n <= prev || n > max || !imap_seqset_contains(&set, n, max))
			abort();
		prev = n;
		count++;
	}
	imap_seqset_free(&res);
	imap_seqset_free(&set);
}

static void check_mailbox(const imap_arg *a)
{
	char *name;
	const char *err;
	if (imap_mailbox_parse(a, false, &name, &err)) {
		/* decode then encode gives back what was sent (INBOX aside) */
		char *enc = imap_mailbox_encode(name, false);
		if (enc == NULL || (strcmp(name, "INBOX") != 0 && strcmp(enc, a->str) != 0))
			abort();
		free(enc);
		free(name);
	}
	if (imap_mailbox_parse(a, true, &name, &err))
		free(name);
	if (imap_mailbox_parse_pattern(a, (a->len & 1) != 0, &name, &err))
		free(name);
	/* any valid UTF-8 string survives encode + decode */
	buf e, d;
	buf_init(&e, a->len * 8 + 16);
	buf_init(&d, a->len + 16);
	if (imap_mutf7_encode(a->str, a->len, &e)) {
		if (!imap_mutf7_decode(e.data ? e.data : "", e.len, &d, &err) || d.len != a->len ||
		    memcmp(buf_str(&d), a->str, a->len) != 0)
			abort();
	}
	buf_free(&e);
	buf_free(&d);
}

static void check_arg(const imap_arg *a)
{
	const char *err;
	time_t t;
	int off;
	uint32_t n;
	uint64_t n64;
	const char *s;
	size_t len;
	check_seqset(a);
	if (a->type != IMAP_ARG_LIST)
		check_mailbox(a);
	imap_date_parse_arg(a, &t);
	imap_datetime_parse_arg(a, &t, &off);
	imap_arg_number(a, &n);
	imap_arg_number64(a, &n64);
	if (imap_arg_astring(a, &s, &len)) { /* a CATENATE URL */
		imap_url u;
		if (imap_url_parse(s, len, &u, &err)) {
			if (u.mailbox == NULL || u.uid == 0 || (u.partial && u.count == 0))
				abort();
			imap_url_free(&u);
		} else if (err == NULL || u.mailbox != NULL) {
			abort();
		}
	}
	imap_arg_nstring(a, &s, &len);
	imap_flags f;
	imap_flags_init(&f);
	if (a->type == IMAP_ARG_LIST)
		imap_flags_parse_list(a, &f, &err);
	else
		imap_flags_add_arg(&f, a, &err);
	imap_flags_free(&f);
}

/* LIST / LSUB arguments from this position, each way; a request read is
 * whole (one pattern at least), and its patterns can be matched. */
static void check_list(const imap_arg *a, size_t i)
{
	imap_list_args la;
	const char *err;
	if (imap_list_args_parse(a, (i & 1) != 0, (i & 2) != 0, (i & 4) != 0, &la, &err)) {
		if (la.ref == NULL || la.patterns.n == 0)
			abort();
		for (size_t k = 0; k < la.patterns.n; k++)
			imap_wildcard_match(la.patterns.items[k], la.ref);
	} else if (err == NULL) {
		abort();
	}
	imap_list_args_free(&la);
	unsigned items;
	if (imap_status_items_parse(a, (i & 1) != 0, &items, &err) && items == 0)
		abort();
}

/* A string argument as the header material of SORT and THREAD. */
static void check_sortkeys(const imap_arg *a)
{
	const char *s;
	size_t len;
	if (!imap_arg_astring(a, &s, &len) || strlen(s) != len)
		return;
	bool reply;
	char *base = imap_base_subject(s, &reply);
	char *dec = mime_decode_header(s);
	if (strlen(base) > strlen(dec))
		abort();
	bool again_reply;
	char *again = imap_base_subject(base, &again_reply);
	free(again);
	free(dec);
	char *key = imap_casemap_key(base, strlen(base));
	free(key);
	free(base);
	imap_sent_date(s, 0);
}

/* The arguments as messages: the first string of each list its header
 * block (Message-ID, References, Subject, Date, From); threaded both
 * ways, every message must come out exactly once. */
static void check_threads(const imap_command *cmd)
{
	imap_sort_msg v[16];
	size_t n = 0;
	for (const imap_arg *a = cmd->args; a != NULL && n < 16; a = a->next) {
		const char *s;
		size_t len;
		if (!imap_arg_astring(a, &s, &len))
			continue;
		memset(&v[n], 0, sizeof v[n]);
		v[n].seq = v[n].uid = (uint32_t)n + 1;
		v[n].arrival = (time_t)len;
		imap_sort_msg_fill(&v[n], s, len);
		n++;
	}
	for (int alg = 0; alg < 2; alg++) {
		buf out;
		buf_init(&out, 1 << 16);
		if (!imap_thread_write(&out, v, n, (imap_thread_alg)alg, false))
			abort();
		unsigned seen[17] = {0};
		const char *p = buf_str(&out);
		int depth = 0;
		for (; *p; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth < 0)
				abort();
			else if (*p >= '1' && *p <= '9') {
				unsigned k = (unsigned)strtoul(p, (char **)&p, 10);
				p--;
				if (k == 0 || k > n || seen[k]++)
					abort();
			}
		}
		for (size_t k = 1; k <= n; k++)
			if (seen[k] != 1 || depth != 0)
				abort();
		buf_free(&out);
	}
	imap_sort_prog prog = {.n = 3};
	prog.c[0].key = IMAP_SORT_SUBJECT;
	prog.c[1].key = IMAP_SORT_DISPLAYFROM;
	prog.c[1].reverse = true;
	prog.c[2].key = IMAP_SORT_DATE;
	imap_sort_run(v, n, &prog);
	for (size_t k = 0; k < n; k++)
		imap_sort_msg_free(&v[k]);
}

/* SORT and THREAD's own arguments from position a. */
static void check_sort_args(const imap_arg *a)
{
	const char *err;
	imap_sort_prog prog;
	if (imap_sort_parse_criteria(a, &prog, &err) && (prog.n == 0 || prog.n > IMAP_SORT_MAX_CRITERIA))
		abort();
	imap_thread_alg alg;
	imap_thread_alg_parse(a, &alg);
	imap_search q;
	memset(&q, 0, sizeof q);
	imap_search_parse_return(a, &q, &err);
	imap_search_free(&q);
	memset(&q, 0, sizeof q);
	imap_search_parse_keys(a, &q, &err);
	imap_search_free(&q);
}

/* SELECT parameters; when QRESYNC is read, the VANISHED (EARLIER) set of a
 * small made-up folder holds only what it must. */
static void check_select_params(const imap_arg *a, size_t i)
{
	imap_select_params p;
	const char *err = NULL;
	if (a->type != IMAP_ARG_LIST)
		return;
	if (!imap_select_params_parse(a, (i & 1) == 0, &p, &err)) {
		if (err == NULL)
			abort();
	} else if (p.qresync) {
		static const uint32_t present[] = {2, 3, 5, 8, 13, 21, 34, 55};
		static const uint32_t gone[] = {1, 4, 6, 40};
		const imap_seqset *known = p.has_known ? &p.known : NULL;
		uint32_t above = imap_qresync_match_floor(&p, present, 8);
		bool exact = (i & 2) != 0;
		buf out;
		buf_init(&out, 1 << 20);
		imap_seqset set, res;
		if (imap_vanished_set(&out, gone, 4, exact, present, 8, 60, known, exact ? 0 : above)) {
			if (!imap_seqset_parse(out.data, out.len, &set, &err))
				abort();
			imap_seqset_resolve(&set, UINT32_MAX, &res);
			imap_seqset_iter it;
			imap_seqset_iter_init(&it, &res);
			uint32_t u;
			while (imap_seqset_iter_next(&it, &u)) {
				bool there = false;
				for (size_t k = 0; k < 8; k++)
					there = there || present[k] == u;
				if (there || u >= 60 || (!exact && u <= above) ||
				    (known && !imap_seqset_contains(known, u, UINT32_MAX)))
					abort();
			}
			imap_seqset_free(&res);
			imap_seqset_free(&set);
		}
		buf_free(&out);
	}
	imap_select_params_free(&p);
}

/* NOTIFY's arguments from this position: a set read obeys RFC 5465's rules. */
static bool fuzz_name(void *ctx, const imap_arg *a, char **name_r, const char **error_r)
{
	(void)ctx;
	return imap_mailbox_parse(a, true, name_r, error_r);
}

static void check_notify(const imap_arg *a)
{
	imap_notify_set set;
	const char *err = NULL;
	imap_notify_status st = imap_notify_parse(a, fuzz_name, NULL, &set, &err);
	if (st != IMAP_NOTIFY_OK && err == NULL)
		abort();
	for (size_t i = 0; st == IMAP_NOTIFY_OK && i < set.n; i++) {
		unsigned e = set.groups[i].events;
		bool pair = (e & IMAP_NOTIFY_MESSAGE_NEW) != 0, other = (e & IMAP_NOTIFY_MESSAGE_EXPUNGE) != 0;
		if (pair != other || ((e & IMAP_NOTIFY_FLAG_CHANGE) && !pair))
			abort();
		imap_notify_for_mailbox(&set, "INBOX", (i & 1) != 0);
		imap_notify_for_mailbox(&set, "a.b", true);
	}
	imap_notify_for_selected(&set);
	imap_notify_set_free(&set);
}

/* Every typed reader on every argument position. */
static void check_command(const imap_command *cmd)
{
	const char *err;
	size_t i = 0;
	for (const imap_arg *a = cmd->args; a != NULL; a = a->next) {
		check_arg(a);
		if (a->type == IMAP_ARG_LIST)
			for (const imap_arg *c = a->child; c != NULL; c = c->next)
				check_arg(c);
		imap_fetch fe;
		imap_fetch_parse(a, &fe, &err);
		imap_fetch_free(&fe);
		imap_search se;
		imap_search_parse(a, &se, &err);
		imap_search_free(&se);
		imap_store st;
		imap_store_parse(a, &st, &err);
		imap_store_free(&st);
		check_select_params(a, i);
		check_notify(a);
		check_list(a, i++);
		check_sort_args(a);
		check_sortkeys(a);
	}
	check_threads(cmd);
}

static void parse_one(const char *c, size_t n, bool utf8)
{
	imap_command cmd;
	const char *err;
	imap_parse_opts o = {.utf8 = utf8};
	if (imap_command_parse(c, n, &o, &cmd, &err))
		check_command(&cmd);
	else if (err == NULL || err[0] == '\0')
		abort();
	imap_command_free(&cmd);
}

/* Feed all of data with piece sizes from step; returns a digest of events. */
static uint64_t run_reader(const uint8_t *data, size_t size, size_t step, bool parse, bool no_skip)
{
	imap_reader_limits lim = {.max_line = 200, .max_literal = 300, .max_nonsync = 40,
	                          .max_command = 600, .no_skip = no_skip};
	imap_reader *r = imap_reader_new(&lim);
	uint64_t digest = 0;
	size_t pos = 0;
	while (pos < size) {
		size_t chunk = size - pos < step ? size - pos : step;
		size_t used = 0;
		while (used < chunk) {
			imap_read_status st;
			size_t u = imap_reader_feed(r, data + pos + used, chunk - used, &st);
			used += u;
			if (st != IMAP_READ_MORE)
				digest = digest * 31 + (uint64_t)st;
			if (st == IMAP_READ_CLOSED)
				goto out;
			if (st == IMAP_READ_COMMAND) {
				size_t n;
				const char *c = imap_reader_command(r, &n);
				digest = digest * 31 + n;
				if (parse)
					parse_one(c, n, (n & 1) != 0);
			}
			if (u == 0 && st == IMAP_READ_MORE)
				abort(); /* no progress */
		}
		pos += chunk;
	}
out:
	imap_reader_destroy(&r);
	return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)(data[0] % 17) + 1;
	bool no_skip = (data[0] & 0x80) != 0; /* the limits before login */
	data++;
	size--;
	uint64_t whole = run_reader(data, size, size + 1, true, no_skip);
	if (run_reader(data, size, step, false, no_skip) != whole)
		abort(); /* split feeding must not change what is found */
	/* the whole input as one command, too (the parser must stand alone) */
	parse_one((const char *)data, size, true);
	return 0;
}
