/* test_qfile.c — unit tests for queue/qfile.c (the self-validating queue
 * file) and queue/qid.c (queue ids).  The queue file must round-trip; "done"
 * records must be read back; and a torn file — the first k bytes of a valid
 * file, for every k — must be refused, except when the cut falls inside the
 * trailing "done" records.  Bodies that contain lines looking like records
 * ("end 5", "done 0", "body") must not confuse the parser.  The DSN records
 * (ret, envid, notify, orcpt) round-trip, are optional (a file written
 * before them parses with their defaults), and a malformed or repeated one
 * refuses the file.  Each parse gets
 * an exact-size heap copy of its input, so ASan catches any overread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"
#include "queue/qfile.h"
#include "queue/qid.h"

#define FILE_MAX (4u << 20)

/* A typical envelope with three recipients. */
static void make_env(qenvelope *env)
{
	memset(env, 0, sizeof(*env));
	char id[QID_LEN + 1];
	qid_new(id);
	env->id = xstrdup(id);
	env->time = 1700000000;
	env->sender = xstrdup("alice@example.org");
	env->client = xstrdup("192.0.2.7");
	env->helo = xstrdup("client.example.net");
	env->auth_user = xstrdup("alice@example.org");
	env->utf8 = true;
	qfile_new_nonce(env);
	qenvelope_add_rcpt(env, "bob@example.org", 'L');
	qenvelope_add_rcpt(env, "carol@example.net", 'R');
	qenvelope_add_rcpt(env, "dave@example.org", 'L');
}

/* Header + body + trailer + extra (done records), as one malloc'd file. */
static char *make_file(const qenvelope *env, const char *body, size_t body_len, const char *extra,
                       size_t *len_r)
{
	buf b;
	buf_init(&b, FILE_MAX);
	assert_true(qfile_format_header(env, &b));
	assert_true(buf_append(&b, body, body_len));
	qfile_sum *sum = qfile_sum_new();
	qfile_sum_update(sum, b.data, b.len);
	assert_true(qfile_format_trailer(env->nonce, body_len, sum, &b));
	qfile_sum_free(&sum);
	assert_true(buf_puts(&b, extra));
	*len_r = b.len;
	return buf_steal(&b);
}

/* Parse the first len bytes of data from an exact-size copy. */
static bool parse_copy(const char *data, size_t len, qenvelope *env, size_t *body_off_r,
                       size_t *body_len_r, const char **err_r)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	const char *body = NULL;
	*err_r = NULL;
	bool ok = qfile_parse(copy, len, env, &body, body_len_r, err_r);
	if (ok) {
		assert_true(body >= copy && body <= copy + len);
		*body_off_r = (size_t)(body - copy);
		assert_true(*body_off_r + *body_len_r <= len);
	} else {
		assert_non_null(*err_r);
		/* a refused parse leaves nothing to free */
		assert_null(env->id);
		assert_null(env->rcpts);
	}
	free(copy);
	return ok;
}

static void expect_same_env(const qenvelope *got, const qenvelope *want)
{
	assert_string_equal(got->id, want->id);
	assert_int_equal(got->time, want->time);
	assert_string_equal(got->sender, want->sender);
	assert_string_equal(got->client, want->client);
	assert_string_equal(got->helo, want->helo);
	if (want->auth_user == NULL)
		assert_null(got->auth_user);
	else
		assert_string_equal(got->auth_user, want->auth_user);
	assert_int_equal(got->utf8, want->utf8);
	assert_int_equal(got->n_rcpts, want->n_rcpts);
	for (size_t i = 0; i < want->n_rcpts; i++) {
		assert_string_equal(got->rcpts[i].address, want->rcpts[i].address);
		assert_int_equal(got->rcpts[i].kind, want->rcpts[i].kind);
		assert_int_equal(got->rcpts[i].notify, want->rcpts[i].notify);
		if (want->rcpts[i].orcpt == NULL)
			assert_null(got->rcpts[i].orcpt);
		else
			assert_string_equal(got->rcpts[i].orcpt, want->rcpts[i].orcpt);
	}
	assert_int_equal(got->ret, want->ret);
	if (want->envid == NULL)
		assert_null(got->envid);
	else
		assert_string_equal(got->envid, want->envid);
}

/* make_env with every DSN field set, values that need xtext encoding. */
static void make_env_dsn(qenvelope *env)
{
	make_env(env);
	env->ret = DSN_RET_FULL;
	env->envid = xstrdup("Q+1 =x");
	env->rcpts[0].notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE;
	env->rcpts[0].orcpt = xstrdup("rfc822;Bob+x@example.org");
	env->rcpts[1].notify = DSN_NOTIFY_NEVER;
	env->rcpts[2].orcpt = xstrdup("utf-8;d\xc3\xa4ve@example.org");
}

/* Format, parse, compare; returns the parsed done flags as a bit mask. */
static unsigned round_trip(const qenvelope *env, const char *body, size_t body_len, const char *extra)
{
	size_t len;
	char *file = make_file(env, body, body_len, extra, &len);
	qenvelope got;
	size_t off, blen;
	const char *err;
	if (!parse_copy(file, len, &got, &off, &blen, &err))
		fail_msg("valid file refused: %s", err);
	expect_same_env(&got, env);
	assert_int_equal(blen, body_len);
	assert_memory_equal(file + off, body, body_len);
	unsigned mask = 0;
	for (size_t i = 0; i < got.n_rcpts; i++)
		if (got.rcpts[i].done)
			mask |= 1u << i;
	qenvelope_free(&got);
	free(file);
	return mask;
}

static const char body_plain[] =
	"Received: from client.example.net (client.example.net [192.0.2.7])\n"
	"\tby mx.example.org with ESMTPS id 0000000000AB; Tue, 14 Nov 2023 22:13:20 +0000\n"
	"From: alice@example.org\n"
	"To: bob@example.org\n"
	"Subject: hello\n"
	"\n"
	"Hello Bob.\n";

/* Lines that look like records, in every position. */
static const char body_tricky[] =
	"Received: by mx.example.org\n"
	"\n"
	"end 5\n"
	"done 0\n"
	"done 1\n"
	"body\n"
	"YUBIN-QUEUE 1\n"
	"rcpt L mallory@example.org\n"
	"end 0\n"
	"\n"
	"end 12\n"
	"done 2\n";

/* ---- round trips ---- */

static void test_round_trip(void **state)
{
	qenvelope env;
	make_env(&env);
	assert_int_equal(round_trip(&env, body_plain, strlen(body_plain), ""), 0);
	assert_int_equal(round_trip(&env, body_tricky, strlen(body_tricky), ""), 0);
	assert_int_equal(round_trip(&env, "", 0, ""), 0);
	assert_int_equal(round_trip(&env, "x", 1, ""), 0);                 /* no final LF */
	assert_int_equal(round_trip(&env, "\n", 1, ""), 0);
	assert_int_equal(round_trip(&env, "\n\n\n", 3, ""), 0);
	assert_int_equal(round_trip(&env, "a\0b\n\xff", 5, ""), 0);       /* binary */
	assert_int_equal(round_trip(&env, "end 0", 5, ""), 0);
	assert_int_equal(round_trip(&env, "done 0\n", 7, ""), 0);
	qenvelope_free(&env);
}

static void test_round_trip_variants(void **state)
{
	qenvelope env;
	make_env(&env);
	/* null sender, no AUTH, no SMTPUTF8, one remote recipient */
	free(env.sender);
	env.sender = xstrdup("");
	free(env.auth_user);
	env.auth_user = NULL;
	env.utf8 = false;
	env.time = 0;
	for (size_t i = 0; i < env.n_rcpts; i++)
		free(env.rcpts[i].address);
	free(env.rcpts);
	env.rcpts = NULL;
	env.n_rcpts = 0;
	qenvelope_add_rcpt(&env, "x@remote.example", 'R');
	assert_int_equal(round_trip(&env, body_plain, strlen(body_plain), ""), 0);
	/* UTF-8 and spaces in values, many recipients */
	free(env.helo);
	env.helo = xstrdup("h\xc3\xa9llo there");
	free(env.sender);
	env.sender = xstrdup("\"j d\"@\xc3\xbc.example");
	for (int i = 0; i < 200; i++) {
		char *a = xasprintf("user%d@example.org", i);
		qenvelope_add_rcpt(&env, a, i % 2 ? 'L' : 'R');
		free(a);
	}
	assert_int_equal(round_trip(&env, body_plain, strlen(body_plain), ""), 0);
	qenvelope_free(&env);
}

/* A control byte in a value becomes '?': a value can never add a record. */
static void test_values_cannot_inject_records(void **state)
{
	qenvelope env;
	make_env(&env);
	free(env.helo);
	env.helo = xstrdup("x\nrcpt L evil@example.org\nbody");
	free(env.sender);
	env.sender = xstrdup("a\r\nb\tc");
	size_t len;
	char *file = make_file(&env, body_plain, strlen(body_plain), "", &len);
	qenvelope got;
	size_t off, blen;
	const char *err;
	assert_true(parse_copy(file, len, &got, &off, &blen, &err));
	assert_string_equal(got.helo, "x?rcpt L evil@example.org?body");
	assert_string_equal(got.sender, "a??b?c");
	assert_int_equal(got.n_rcpts, 3);
	assert_int_equal(blen, strlen(body_plain));
	qenvelope_free(&got);
	free(file);
	qenvelope_free(&env);
}

static void test_format_layout(void **state)
{
	qenvelope env;
	memset(&env, 0, sizeof(env));
	env.id = xstrdup("0123456789BC");
	env.time = 42;
	env.sender = xstrdup("a@b.example");
	env.client = xstrdup("::1");
	env.helo = xstrdup("h");
	qenvelope_add_rcpt(&env, "c@d.example", 'L');
	size_t len;
	char *file = make_file(&env, "hi\n", 3, "", &len);
	/* the checksum is SHA-256 of everything before "end" (sha256sum agrees) */
	assert_string_equal(file,
	                    "YUBIN-QUEUE 2\n"
	                    "id 0123456789BC\n"
	                    "time 42\n"
	                    "from a@b.example\n"
	                    "client ::1\n"
	                    "helo h\n"
	                    "auth -\n"
	                    "utf8 0\n"
	                    "rcpt L c@d.example\n"
	                    "body\n"
	                    "hi\n"
	                    "\n"
	                    "end 3 bfe11c87cba57fd328be38006c781772b70679ce07807aa5b9ff104b8d207d74\n");
	free(file);
	qenvelope_free(&env);
	assert_null(env.id);
}

/* The DSN records: where they are, how they are encoded, and that they
 * read back (latin and UTF-8 values, characters that xtext escapes). */
static void test_dsn_records(void **state)
{
	qenvelope env;
	make_env_dsn(&env);
	size_t len;
	char *file = make_file(&env, body_plain, strlen(body_plain), "", &len);
	assert_non_null(strstr(file, "rcpt L dave@example.org\n"
	                             "ret FULL\n"
	                             "envid Q+2B1+20+3Dx\n"
	                             "notify 0 SUCCESS,FAILURE\n"
	                             "orcpt 0 rfc822;Bob+2Bx@example.org\n"
	                             "notify 1 NEVER\n"
	                             "orcpt 2 utf-8;d+C3+A4ve@example.org\n"
	                             "body\n"));
	free(file);
	assert_int_equal(round_trip(&env, body_plain, strlen(body_plain), "done 1\n"), 2);
	assert_int_equal(round_trip(&env, body_tricky, strlen(body_tricky), ""), 0);
	env.ret = DSN_RET_HDRS;
	free(env.envid);
	env.envid = NULL;
	assert_int_equal(round_trip(&env, "", 0, ""), 0);
	qenvelope_free(&env);
}

/* A file written before the DSN records existed: parsed, with the defaults
 * (no RET, no ENVID, no NOTIFY, no ORCPT), which mean the old behaviour. */
static void test_file_without_dsn_records(void **state)
{
	static const char old[] =
		"YUBIN-QUEUE 1\nid 0123456789BC\ntime 1700000000\nfrom a@b.example\nclient ::1\n"
		"helo h\nauth -\nutf8 0\nnonce 0123456789abcdef\nrcpt L c@d.example\n"
		"rcpt R e@f.example\nbody\nhi\n\nend 3 0123456789abcdef\ndone 0\n";
	qenvelope got;
	size_t off, blen;
	const char *err;
	if (!parse_copy(old, strlen(old), &got, &off, &blen, &err))
		fail_msg("old file refused: %s", err);
	assert_int_equal(got.ret, DSN_RET_UNSET);
	assert_null(got.envid);
	assert_int_equal(got.n_rcpts, 2);
	for (size_t i = 0; i < got.n_rcpts; i++) {
		assert_int_equal(got.rcpts[i].notify, 0);
		assert_null(got.rcpts[i].orcpt);
	}
	assert_true(got.rcpts[0].done);
	assert_int_equal(blen, 3);
	qenvelope_free(&got);
}

/* A malformed, misplaced or repeated DSN record is a damaged file. */
static void test_bad_dsn_records(void **state)
{
	static const char *const recs[] = {
		"ret BODY\n", "ret \n", "ret FULL\nret FULL\n", "ret FULL\nret HDRS\n",
		"envid \n", "envid a b\n", "envid a=b\n", "envid a+0\n", "envid a+00\n", "envid a\nenvid a\n",
		"notify 0\n", "notify 0 \n", "notify 0 SOMETIMES\n", "notify 0 NEVER,SUCCESS\n",
		"notify 1 NEVER\n", "notify x NEVER\n", "notify 0 NEVER\nnotify 0 NEVER\n",
		"orcpt 0 x400;a\n", "orcpt 0 rfc822;\n", "orcpt 0 rfc822\n", "orcpt 0 RFC822;a\n",
		"orcpt 0 rfc822;a=b\n", "orcpt 1 rfc822;a\n", "orcpt 0 rfc822;a\norcpt 0 rfc822;a\n",
		"orcpt 0 rfc822;a+00\n",
	};
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
		char *text = xasprintf("YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\n%sbody\nx\n\nend 2\n",
		                       recs[i]);
		qenvelope got;
		size_t off, blen;
		const char *err;
		if (parse_copy(text, strlen(text), &got, &off, &blen, &err)) {
			qenvelope_free(&got);
			fail_msg("record \"%s\": accepted", recs[i]);
		}
		assert_string_equal(err, "unknown header record");
		free(text);
	}
	/* before the recipient it names: refused too */
	static const char early[] =
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nnotify 0 NEVER\nrcpt L c@d\nbody\nx\n\nend 2\n";
	qenvelope got;
	size_t off, blen;
	const char *err;
	assert_false(parse_copy(early, strlen(early), &got, &off, &blen, &err));
	/* and the same records, well formed, are accepted */
	static const char good[] = "YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nret HDRS\n"
	                           "envid a+2Bb\nnotify 0 DELAY\norcpt 0 rfc822;x+2By\nbody\nx\n\nend 2\n";
	assert_true(parse_copy(good, strlen(good), &got, &off, &blen, &err));
	assert_int_equal(got.ret, DSN_RET_HDRS);
	assert_string_equal(got.envid, "a+b");
	assert_int_equal(got.rcpts[0].notify, DSN_NOTIFY_DELAY);
	assert_string_equal(got.rcpts[0].orcpt, "rfc822;x+y");
	qenvelope_free(&got);
}

static void test_format_respects_buffer_max(void **state)
{
	qenvelope env;
	make_env(&env);
	buf b;
	buf_init(&b, 20);
	assert_false(qfile_format_header(&env, &b));
	assert_true(b.len <= 20);
	buf_free(&b);
	buf_init(&b, 5);
	qfile_sum *sum = qfile_sum_new();
	assert_false(qfile_format_trailer(env.nonce, 123456, sum, &b));
	qfile_sum_free(&sum);
	buf_free(&b);
	qenvelope_free(&env);
}

/* ---- done records ---- */

/* Remote delivery state: fail / defer / next / warned, latest wins, and
 * what qfile_format_state writes reads back. */
static void test_state_records(void **state)
{
	qenvelope env;
	make_env(&env);
	buf extra;
	buf_init(&extra, 4096);
	assert_true(qfile_format_state(&extra, "defer", 2, "451 4.4.1 first\r\ninjected 9", NULL));
	assert_true(buf_puts(&extra, "next 1700000100 1\n"));
	assert_true(qfile_format_state(&extra, "defer", 2, "452 4.2.2 mailbox full", NULL));
	assert_true(qfile_format_state(&extra, "fail", 1, "5.1.1", "550 5.1.1 no such user"));
	assert_true(buf_puts(&extra, "warned\nnext 1700000500 2\njunk\n"));
	size_t len;
	char *file = make_file(&env, body_plain, strlen(body_plain), buf_str(&extra), &len);
	qenvelope got;
	size_t off, blen;
	const char *err;
	assert_true(parse_copy(file, len, &got, &off, &blen, &err));
	assert_true(got.rcpts[1].failed);
	assert_string_equal(got.rcpts[1].status, "5.1.1");
	assert_string_equal(got.rcpts[1].last_reply, "550 5.1.1 no such user");
	assert_false(got.rcpts[2].failed);
	assert_string_equal(got.rcpts[2].last_reply, "452 4.2.2 mailbox full"); /* the latest */
	assert_int_equal(got.next_attempt, 1700000500);
	assert_int_equal(got.attempts, 2);
	assert_true(got.warned);
	assert_true(got.junk); /* DMARC quarantine: local copies to the Junk folder */
	assert_false(env.junk);
	assert_null(got.rcpts[0].last_reply);
	/* a CR/LF in a remote reply did not become a record of its own */
	assert_null(strstr(file, "\ninjected"));
	qenvelope_free(&got);
	free(file);
	buf_free(&extra);
	qenvelope_free(&env);
}

static void test_done_records(void **state)
{
	static const struct {
		const char *extra;
		unsigned mask;
	} cases[] = {
		{"", 0},
		{"done 0\n", 1},
		{"done 1\n", 2},
		{"done 2\n", 4},
		{"done 0\ndone 2\n", 5},
		{"done 2\ndone 0\ndone 1\n", 7},
		{"done 1\ndone 1\n", 2},               /* repeated */
		{"done 99\n", 0},                      /* out of range: ignored */
		{"done 0\ndone 3\n", 1},
		/* a torn last line (no newline) is ignored */
		{"done 1", 0},
		{"done ", 0},
		{"d", 0},
		{"done 0\ndone 2", 1},
		{"done 0\ndo", 1},
		{"done 0\n\0\0\0\0", 1},               /* zero-filled tail after a crash */
	};
	qenvelope env;
	make_env(&env);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* strings with NULs: append by hand */
		size_t len;
		char *file = make_file(&env, body_plain, strlen(body_plain), "", &len);
		size_t xl = strlen(cases[i].extra);
		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			xl = 11;
		file = realloc(file, len + xl);
		memcpy(file + len, cases[i].extra, xl);
		len += xl;
		qenvelope got;
		size_t off, blen;
		const char *err;
		if (!parse_copy(file, len, &got, &off, &blen, &err))
			fail_msg("case %zu: refused: %s", i, err);
		assert_int_equal(blen, strlen(body_plain));
		unsigned mask = 0;
		for (size_t k = 0; k < got.n_rcpts; k++)
			if (got.rcpts[k].done)
				mask |= 1u << k;
		if (mask != cases[i].mask)
			fail_msg("case %zu: done mask %u, want %u", i, mask, cases[i].mask);
		qenvelope_free(&got);
		free(file);
	}
	qenvelope_free(&env);
}

/* A done record whose index is not a number must not mark anybody done: a
 * recipient marked done by mistake is a lost message.  (Such a line appears
 * when a torn "done 12" is followed by a new "done 0\n" append, giving
 * "done 1done 0\n".)  Refusing the file or ignoring the record are both
 * acceptable; marking recipient 0 or 1 is not. */
static void test_malformed_done_records(void **state)
{
	static const char *const extras[] = {
		"done \n", "done x\n", "done 1done 0\n", "done 0x1\n", "done 1 2\n", "done -0\n",
		"done 0 \n", "done +1\n", "done  1\n",
	};
	qenvelope env;
	make_env(&env);
	size_t bad = 0;
	for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		size_t len;
		char *file = make_file(&env, body_plain, strlen(body_plain), extras[i], &len);
		qenvelope got;
		size_t off, blen;
		const char *err;
		if (parse_copy(file, len, &got, &off, &blen, &err)) {
			for (size_t k = 0; k < got.n_rcpts; k++)
				if (got.rcpts[k].done) {
					print_error("extra \"%.*s\\n\": recipient %zu marked done\n",
					            (int)strlen(extras[i]) - 1, extras[i], k);
					bad++;
				}
			qenvelope_free(&got);
		}
		free(file);
	}
	qenvelope_free(&env);
	assert_int_equal(bad, 0);
}

/* ---- torn files ---- */

/* Cut a valid file (with done records "extra") at every offset k < len.
 * Cuts before the end of the "end" record must be refused; cuts inside the
 * done records are accepted with the done records that are complete. */
static size_t check_every_cut(const qenvelope *env, const char *body, size_t body_len, const char *extra)
{
	size_t len;
	char *file = make_file(env, body, body_len, extra, &len);
	size_t base = len - strlen(extra);
	size_t wrong = 0;
	for (size_t k = 0; k < len; k++) {
		qenvelope got;
		size_t off, blen;
		const char *err;
		bool ok = parse_copy(file, k, &got, &off, &blen, &err);
		if (k < base) {
			if (ok) {
				if (wrong++ < 5)
					print_error("cut at %zu of %zu (end record ends at %zu): accepted, body %zu bytes\n",
					            k, len, base, blen);
				qenvelope_free(&got);
			}
			continue;
		}
		if (!ok)
			fail_msg("cut at %zu (inside the done records): refused: %s", k, err);
		assert_int_equal(blen, body_len);
		assert_memory_equal(file + off, body, body_len);
		/* which recipients must be done: the complete lines before k */
		unsigned want = 0;
		for (const char *p = extra; *p;) {
			const char *nl = strchr(p, '\n');
			if (nl == NULL || (size_t)(nl + 1 - extra) > k - base)
				break;
			want |= 1u << atoi(p + 5);
			p = nl + 1;
		}
		unsigned mask = 0;
		for (size_t r = 0; r < got.n_rcpts; r++)
			if (got.rcpts[r].done)
				mask |= 1u << r;
		if (mask != want)
			fail_msg("cut at %zu: done mask %u, want %u", k, mask, want);
		qenvelope_free(&got);
	}
	free(file);
	if (wrong > 0)
		print_error("%zu torn cut(s) accepted\n", wrong);
	return wrong;
}

static void test_every_cut_plain(void **state)
{
	qenvelope env;
	make_env(&env);
	assert_int_equal(check_every_cut(&env, body_plain, strlen(body_plain), ""), 0);
	assert_int_equal(check_every_cut(&env, body_plain, strlen(body_plain), "done 0\ndone 2\ndone 1\n"), 0);
	assert_int_equal(check_every_cut(&env, "", 0, "done 1\n"), 0);
	assert_int_equal(check_every_cut(&env, "x", 1, ""), 0);
	assert_int_equal(check_every_cut(&env, "\n", 1, "done 0\n"), 0);
	qenvelope_free(&env);
}

/* A body with record-like lines, none placed to match a prefix length. */
/* The DSN records are header records: a cut inside them is refused. */
static void test_every_cut_dsn_records(void **state)
{
	qenvelope env;
	make_env_dsn(&env);
	assert_int_equal(check_every_cut(&env, body_plain, strlen(body_plain), ""), 0);
	assert_int_equal(check_every_cut(&env, body_plain, strlen(body_plain), "done 2\ndone 0\n"), 0);
	qenvelope_free(&env);
}

static void test_every_cut_tricky_body(void **state)
{
	qenvelope env;
	make_env(&env);
	assert_int_equal(check_every_cut(&env, body_tricky, strlen(body_tricky), ""), 0);
	assert_int_equal(check_every_cut(&env, body_tricky, strlen(body_tricky), "done 2\ndone 0\n"), 0);
	qenvelope_free(&env);
}

/* A message whose body contains, after its first n bytes, exactly the
 * trailer that a body of n bytes would have ("\nend n\n"), then a "done"
 * line.  The sender controls the body, so a file torn right after that line
 * must still be refused: otherwise the queue delivers a truncated message
 * and may mark recipients done that were never delivered. */
static void test_every_cut_forged_trailer(void **state)
{
	qenvelope env;
	make_env(&env);
	buf b;
	buf_init(&b, FILE_MAX);
	assert_true(buf_puts(&b, body_plain));
	size_t n = b.len;
	assert_true(buf_printf(&b, "\nend %zu\ndone 0\ndone 1\ndone 2\nThe rest of the message.\n", n));
	size_t wrong = check_every_cut(&env, b.data, b.len, "");
	buf_free(&b);
	qenvelope_free(&env);
	assert_int_equal(wrong, 0);
}

/* ---- malformed files ---- */

static void test_refused_files(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{"", "not a yubin queue file"},
		{"YUBIN-QUEUE 3\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n", "not a yubin queue file"},
		/* version 2 needs the checksum; version 1 knows none */
		{"YUBIN-QUEUE 2\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2 "
		 "0000000000000000000000000000000000000000000000000000000000000000\n", "end record missing or wrong"},
		{"yubin-queue 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n", "not a yubin queue file"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\n", "header records are cut off"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbod", "header records are cut off"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nfoo bar\nrcpt L c@d\nbody\nx\n\nend 2\n", "unknown header record"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt X c@d\nbody\nx\n\nend 2\n", "unknown header record"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L\nbody\nx\n\nend 2\n", "unknown header record"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\n\nrcpt L c@d\nbody\nx\n\nend 2\n", "unknown header record"},
		{"YUBIN-QUEUE 1\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n", "id, from or rcpt record missing"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nrcpt L c@d\nbody\nx\n\nend 2\n", "id, from or rcpt record missing"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nbody\nx\n\nend 2\n", "id, from or rcpt record missing"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 1\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 3\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 0\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2x\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend \n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\nend 2\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\ngarbage\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\ndone 0\nx\ndone 0\n", "end record missing or wrong"},
		{"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nEND 2\n", "end record missing or wrong"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		qenvelope got;
		size_t off, blen;
		const char *err;
		if (parse_copy(cases[i].text, strlen(cases[i].text), &got, &off, &blen, &err)) {
			qenvelope_free(&got);
			fail_msg("case %zu: accepted", i);
		}
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: error \"%s\", want \"%s\"", i, err, cases[i].err);
	}
	/* the base that the cases above break is valid */
	static const char base[] = "YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n";
	qenvelope env0;
	size_t off0, blen0;
	const char *err0;
	assert_true(parse_copy(base, strlen(base), &env0, &off0, &blen0, &err0));
	assert_int_equal(blen0, 2);
	assert_memory_equal(base + off0, "x\n", 2);
	qenvelope_free(&env0);
	/* the smallest valid file for comparison */
	static const char ok[] = "YUBIN-QUEUE 1\nid 0123456789BC\nfrom \nrcpt L c@d\nbody\n\nend 0\n";
	qenvelope got;
	size_t off, blen;
	const char *err;
	assert_true(parse_copy(ok, strlen(ok), &got, &off, &blen, &err));
	assert_string_equal(got.sender, "");
	assert_int_equal(blen, 0);
	assert_null(got.auth_user);
	assert_null(got.client);
	qenvelope_free(&got);
}

/* ---- the checksum ---- */

/* Every single byte before the end record, changed (one bit or replaced by
 * 'x'), makes the file refused; a changed byte of the message itself is
 * named a checksum mismatch.  Delivery-state records after the end record
 * are outside the checksum and still read. */
static void test_checksum_every_byte(void **state)
{
	qenvelope env;
	make_env_dsn(&env);
	size_t len;
	char *file = make_file(&env, body_plain, strlen(body_plain), "done 0\n", &len);
	const char *end_rec = strstr(file, "\nend ");
	assert_non_null(end_rec);
	size_t covered = (size_t)(end_rec + 1 - file), accepted = 0, mismatches = 0;
	const char *body = strstr(file, "\nbody\n") + 6;
	for (size_t i = 0; i < covered; i++) {
		for (int how = 0; how < 2; how++) {
			char was = file[i];
			file[i] = how == 0 ? (char)(was ^ 0x01) : (was == 'x' ? 'y' : 'x');
			qenvelope got;
			size_t off, blen;
			const char *err;
			if (parse_copy(file, len, &got, &off, &blen, &err)) {
				print_error("byte %zu changed (%d) and accepted\n", i, how);
				accepted++;
				qenvelope_free(&got);
			} else if (file + i >= body && file + i < end_rec && strstr(err, "checksum mismatch")) {
				mismatches++; /* the message, not the "\n" that opens the trailer */
			} else if (file + i >= body && file + i < end_rec) {
				print_error("byte %zu of the message: error \"%s\"\n", i, err);
			}
			file[i] = was;
		}
	}
	assert_int_equal(accepted, 0);
	assert_int_equal(mismatches, 2 * (size_t)(end_rec - body));
	/* unchanged, it reads, with the done record after the end record */
	assert_int_equal(round_trip(&env, body_plain, strlen(body_plain), "done 0\n"), 1);
	free(file);
	qenvelope_free(&env);
}

/* A version 1 file (written before checksums): with and without a nonce,
 * with state records, it reads; turned into version 2 it is refused. */
static void test_version1_files(void **state)
{
	static const char v1[] =
		"YUBIN-QUEUE 1\nid 0123456789BC\ntime 1700000000\nfrom a@b.example\nnonce 0123456789abcdef\n"
		"rcpt L c@d.example\nrcpt R e@f.example\nbody\nhello\n\nend 6 0123456789abcdef\ndone 0\n"
		"defer 1 451 4.4.1 later\nnext 1700000600 1\n";
	qenvelope got;
	size_t off, blen;
	const char *err;
	assert_true(parse_copy(v1, strlen(v1), &got, &off, &blen, &err));
	assert_int_equal(blen, 6);
	assert_memory_equal(v1 + off, "hello\n", 6);
	assert_string_equal(got.nonce, "0123456789abcdef");
	assert_true(got.rcpts[0].done);
	assert_string_equal(got.rcpts[1].last_reply, "451 4.4.1 later");
	assert_int_equal(got.attempts, 1);
	qenvelope_free(&got);
	/* a version 1 file has no checksum to catch a changed byte: it still reads */
	char *changed = xstrdup(v1);
	changed[strstr(changed, "hello") - changed] = 'j';
	assert_true(parse_copy(changed, strlen(changed), &got, &off, &blen, &err));
	qenvelope_free(&got);
	/* the same file claiming version 2 lacks the checksum */
	changed[12] = '2';
	assert_false(parse_copy(changed, strlen(changed), &got, &off, &blen, &err));
	assert_non_null(strstr(err, "end record missing or wrong"));
	free(changed);
}

/* A record given twice is a damaged file (and must not leak the first). */
static void test_duplicate_header_records(void **state)
{
	static const char *const files[] = {
		"YUBIN-QUEUE 1\nid 0123456789BC\nid 0123456789BD\nfrom a@b\nrcpt L c@d\nbody\nx\n\nend 2\n",
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nfrom e@f\nrcpt L c@d\nbody\nx\n\nend 2\n",
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nhelo x\nhelo y\nrcpt L c@d\nbody\nx\n\nend 2\n",
	};
	size_t accepted = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		qenvelope got;
		size_t off, blen;
		const char *err;
		if (parse_copy(files[i], strlen(files[i]), &got, &off, &blen, &err)) {
			print_error("file %zu with a repeated record accepted\n", i);
			accepted++;
			qenvelope_free(&got);
		}
	}
	assert_int_equal(accepted, 0);
}

/* The REQUIRETLS tag (RFC 8689 4.1): written only when set, read back,
 * absent in older files (false), and a repeated one is a damaged file. */
static void test_requiretls_record(void **state)
{
	qenvelope env;
	make_env(&env);
	size_t len;
	char *file = make_file(&env, body_plain, strlen(body_plain), "", &len);
	assert_null(strstr(file, "requiretls"));
	qenvelope got;
	size_t off, blen;
	const char *err;
	assert_true(parse_copy(file, len, &got, &off, &blen, &err));
	assert_false(got.requiretls);
	qenvelope_free(&got);
	free(file);

	env.requiretls = true;
	file = make_file(&env, body_plain, strlen(body_plain), "done 0\n", &len);
	assert_non_null(strstr(file, "\nrequiretls\nbody\n"));
	if (!parse_copy(file, len, &got, &off, &blen, &err))
		fail_msg("refused: %s", err);
	assert_true(got.requiretls);
	assert_true(got.rcpts[0].done);
	assert_int_equal(blen, strlen(body_plain));
	qenvelope_free(&got);
	free(file);
	qenvelope_free(&env);

	static const char *const bad[] = {
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrequiretls\nrequiretls\nrcpt R c@d\nbody\nx\n\nend 2\n",
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrequiretls 1\nrcpt R c@d\nbody\nx\n\nend 2\n",
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrequiretlsx\nrcpt R c@d\nbody\nx\n\nend 2\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_copy(bad[i], strlen(bad[i]), &got, &off, &blen, &err)) {
			qenvelope_free(&got);
			fail_msg("bad file %zu accepted", i);
		}
	}
	static const char v1[] =
		"YUBIN-QUEUE 1\nid 0123456789BC\nfrom a@b\nrequiretls\nrcpt R c@d\nbody\nx\n\nend 2\n";
	assert_true(parse_copy(v1, strlen(v1), &got, &off, &blen, &err));
	assert_true(got.requiretls);
	qenvelope_free(&got);
}

/* ---- queue ids ---- */

static void test_qid_unique_monotonic(void **state)
{
	enum { N = 100000 };
	char (*ids)[QID_LEN + 1] = malloc(N * sizeof(*ids));
	assert_non_null(ids);
	for (size_t i = 0; i < N; i++) {
		qid_new(ids[i]);
		assert_int_equal(strlen(ids[i]), QID_LEN);
		assert_true(qid_valid(ids[i]));
		/* strictly increasing as strings: sortable by arrival */
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			fail_msg("id %zu \"%s\" not after \"%s\"", i, ids[i], ids[i - 1]);
	}
	free(ids);
}

#define THREADS 4
#define PER_THREAD 25000

static void *qid_thread(void *arg)
{
	char (*ids)[QID_LEN + 1] = arg;
	for (size_t i = 0; i < PER_THREAD; i++)
		qid_new(ids[i]);
	return NULL;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Unique across threads too. */
static void test_qid_threads(void **state)
{
	char (*ids)[QID_LEN + 1] = malloc(THREADS * PER_THREAD * sizeof(*ids));
	assert_non_null(ids);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, qid_thread, ids + t * PER_THREAD), 0);
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	qsort(ids, THREADS * PER_THREAD, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < THREADS * PER_THREAD; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			fail_msg("duplicate id \"%s\"", ids[i]);
	free(ids);
}

static void test_qid_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{"0123456789BC", true},
		{"ZZZZZZZZZZZZ", true},
		{"000000000000", true},
		{"", false},
		{"0123456789B", false},       /* 11 */
		{"0123456789BCD", false},     /* 13 */
		{"0123456789bc", false},      /* lower case */
		{"0123456789AB", false},      /* vowel not in the alphabet */
		{"0123456789EB", false},
		{"0123456789YB", false},
		{"01234567../", false},
		{"../../etc/pa", false},
		{"0123456789B ", false},
		{"0123456789B\n", false},
		{"0123456789B-", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (qid_valid(cases[i].s) != cases[i].ok)
			fail_msg("case %zu \"%s\": want %d", i, cases[i].s, cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_variants),
		cmocka_unit_test(test_values_cannot_inject_records),
		cmocka_unit_test(test_format_layout),
		cmocka_unit_test(test_format_respects_buffer_max),
		cmocka_unit_test(test_dsn_records),
		cmocka_unit_test(test_requiretls_record),
		cmocka_unit_test(test_file_without_dsn_records),
		cmocka_unit_test(test_bad_dsn_records),
		cmocka_unit_test(test_every_cut_dsn_records),
		cmocka_unit_test(test_done_records),
		cmocka_unit_test(test_state_records),
		cmocka_unit_test(test_malformed_done_records),
		cmocka_unit_test(test_every_cut_plain),
		cmocka_unit_test(test_every_cut_tricky_body),
		cmocka_unit_test(test_every_cut_forged_trailer),
		cmocka_unit_test(test_refused_files),
		cmocka_unit_test(test_duplicate_header_records),
		cmocka_unit_test(test_checksum_every_byte),
		cmocka_unit_test(test_version1_files),
		cmocka_unit_test(test_qid_unique_monotonic),
		cmocka_unit_test(test_qid_threads),
		cmocka_unit_test(test_qid_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
