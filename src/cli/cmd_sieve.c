/* cmd_sieve.c — `yubin sieve test SCRIPT MESSAGE [--from S] [--to R]
 * [--global-dir DIR] [--missing-folder F]...`: compile a Sieve script and
 * print what it would do with a message, one key=value line per action,
 * then the implicit keep.  Included personal scripts are NAME.sieve beside
 * SCRIPT, global ones NAME.sieve in --global-dir.  Runs without a
 * configuration; delivers nothing.  Exit 0, 1 after a runtime error (the
 * implicit keep is then shown), 2 when the script does not compile. */
#include "cli/cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fsutil.h"
#include "sieve/sieve.h"

#define SIEVE_CLI_MAX_MESSAGE (64u * 1024 * 1024)

typedef struct sieve_cli {
	char *personal_dir;
	const char *global_dir;
	strlist missing;
} sieve_cli;

static bool load_script(void *ctx, const char *name, bool global, char **text_r, size_t *len_r)
{
	sieve_cli *c = ctx;
	const char *dir = global ? c->global_dir : c->personal_dir;
	if (dir == NULL)
		return false;
	char *path = xasprintf("%s/%s.sieve", dir, name);
	*text_r = fs_read_file(path, 1024 * 1024 + 1, len_r);
	free(path);
	return *text_r != NULL;
}

static bool folder_exists(void *ctx, const char *name)
{
	sieve_cli *c = ctx;
	return !strlist_contains(&c->missing, name);
}

static void print_flags(const strlist *flags)
{
	if (flags->n == 0)
		return;
	char *j = strlist_join(flags, " ");
	cli_print_kv("flags", j);
	free(j);
}

static void print_action(const sieve_action *a)
{
	static const char *const kinds[] = {"keep", "fileinto", "redirect", "discard",
					    "reject", "ereject", "vacation"};
	printf("action=%s", kinds[a->kind]);
	const char *key = a->kind == SIEVE_ACT_FILEINTO ? "folder"
			: a->kind == SIEVE_ACT_REDIRECT ? "address" : "reason";
	cli_print_kv(key, a->target);
	print_flags(&a->flags);
	if (a->copy)
		fputs(" copy=yes", stdout);
	if (a->create)
		fputs(" create=yes", stdout);
	if (a->kind == SIEVE_ACT_VACATION) {
		printf(" seconds=%ld", a->vac.seconds);
		cli_print_kv("subject", a->vac.subject);
		cli_print_kv("from", a->vac.from);
		char *addrs = strlist_join(&a->vac.addresses, " ");
		if (a->vac.addresses.n > 0)
			cli_print_kv("addresses", addrs);
		free(addrs);
		if (a->vac.mime)
			fputs(" mime=yes", stdout);
		cli_print_kv("handle", a->vac.handle);
		cli_print_kv("reason", a->vac.reason);
	}
	putchar('\n');
}

static int test(int argc, char **argv)
{
	const char *script = NULL, *message = NULL, *from = "", *to = "";
	sieve_cli c = {0};
	strlist_init(&c.missing);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else if (strcmp(argv[i], "--global-dir") == 0 && i + 1 < argc)
			c.global_dir = argv[++i];
		else if (strcmp(argv[i], "--missing-folder") == 0 && i + 1 < argc)
			strlist_add(&c.missing, argv[++i]);
		else if (script == NULL && argv[i][0] != '-')
			script = argv[i];
		else if (message == NULL && argv[i][0] != '-')
			message = argv[i];
		else
			return (cli_error("sieve test: unexpected argument %s", argv[i]), 2);
	}
	if (script == NULL || message == NULL)
		return (cli_error("usage: yubin sieve test SCRIPT MESSAGE [--from S] [--to R] "
				  "[--global-dir DIR] [--missing-folder F]..."), 2);
	size_t slen, mlen;
	char *stext = fs_read_file(script, 1024 * 1024 + 1, &slen);
	char *mtext = stext != NULL ? fs_read_file(message, SIEVE_CLI_MAX_MESSAGE, &mlen) : NULL;
	if (mtext == NULL) {
		cli_error("cannot read %s: %s", stext == NULL ? script : message, strerror(errno));
		free(stext);
		strlist_free(&c.missing);
		return 2;
	}
	char *dircopy = xstrdup(script);
	c.personal_dir = xstrdup(dirname(dircopy));
	free(dircopy);
	sieve_loader loader = {load_script, &c};
	sieve_script *s;
	sieve_error err;
	int rc = 0;
	if (!sieve_compile(stext, slen, &loader, &s, &err)) {
		fprintf(stderr, "yubin: %s%s%u:%u: %s\n", err.script, *err.script ? ":" : "",
			err.line, err.col, err.msg);
		printf("compile=failed line=%u col=%u", err.line, err.col);
		cli_print_kv("script", *err.script ? err.script : NULL);
		cli_print_kv("error", err.msg);
		putchar('\n');
		sieve_error_free(&err);
		rc = 2;
	} else {
		sieve_message msg = {mtext, mlen};
		sieve_envelope env = {from, to, NULL};
		sieve_env e = {.mailbox_exists = folder_exists, .ctx = &c};
		sieve_result r;
		sieve_run(s, &msg, &env, &e, &r);
		for (size_t i = 0; i < r.n; i++)
			print_action(&r.actions[i]);
		printf("implicit_keep=%s", r.implicit_keep ? "yes" : "no");
		if (r.implicit_keep)
			print_flags(&r.keep_flags);
		putchar('\n');
		if (r.error != NULL) {
			printf("runtime=failed");
			cli_print_kv("error", r.error);
			putchar('\n');
			rc = 1;
		}
		sieve_result_free(&r);
		sieve_script_free(&s);
	}
	free(stext);
	free(mtext);
	free(c.personal_dir);
	strlist_free(&c.missing);
	return rc;
}

int cmd_sieve(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return test(argc - 1, argv + 1);
	cli_error("usage: yubin sieve test SCRIPT MESSAGE [--from S] [--to R] "
		  "[--global-dir DIR] [--missing-folder F]...");
	return 2;
}
