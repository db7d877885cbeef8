/* cmd_suppress.c — `yubin suppress list [--all] | add ADDRESS [REASON] |
 * del ADDRESS | show ADDRESS`: the suppression list (api/suppress.h) from
 * the command line, in data_dir/hooks.db; a running server sees a change
 * at its next look-up.  Owns the arguments and this command's messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/event.h"
#include "api/hooksdb.h"
#include "api/suppress.h"
#include "cli/cli.h"

static int usage(void)
{
	fprintf(stderr, "usage: yubin suppress list\n"
	                "       yubin suppress show ADDRESS\n"
	                "       yubin suppress add ADDRESS [REASON]\n"
	                "       yubin suppress del ADDRESS\n");
	return 2;
}

static void print_entry(const suppress_entry *e)
{
	char t[32];
	event_time_format(e->created * 1000, t);
	printf("%s", e->address);
	cli_print_kv("source", e->source);
	cli_print_kv("created", t);
	cli_print_kv("reason", e->reason);
	cli_print_kv("qid", e->qid);
	printf("\n");
}

static int do_list(sqlite3 *db)
{
	char *after = NULL;
	for (;;) {
		suppress_entry *v;
		size_t n;
		if (suppress_list(db, after, 500, &v, &n) != SUP_OK) {
			cli_error("cannot read the suppression list: %s", sqlite3_errmsg(db));
			free(after);
			return 1;
		}
		for (size_t i = 0; i < n; i++)
			print_entry(&v[i]);
		free(after);
		after = n > 0 ? strdup(v[n - 1].address) : NULL;
		for (size_t i = 0; i < n; i++)
			suppress_entry_free(&v[i]);
		free(v);
		if (n < 500)
			break;
	}
	free(after);
	return 0;
}

/* The one place the list's statuses become messages and exit codes. */
static int report(sqlite3 *db, suppress_status s, const char *verb, const char *address)
{
	switch (s) {
	case SUP_OK:
		printf("%s %s\n", verb, address);
		return 0;
	case SUP_EXISTS:
		printf("%s is on the suppression list already\n", address);
		return 0;
	case SUP_NOT_FOUND:
		cli_error("%s is not on the suppression list", address);
		return 1;
	case SUP_INVALID:
		cli_error("\"%s\" is not an address local@domain (or the reason is over %d bytes)", address,
		          SUPPRESS_REASON_MAX);
		return 1;
	case SUP_ERROR:
		break;
	}
	cli_error("suppression list: %s", sqlite3_errmsg(db));
	return 1;
}

int cmd_suppress(cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *verb = argv[1];
	bool list = strcmp(verb, "list") == 0 && argc == 2;
	bool show = strcmp(verb, "show") == 0 && argc == 3;
	bool add = strcmp(verb, "add") == 0 && (argc == 3 || argc == 4);
	bool del = strcmp(verb, "del") == 0 && argc == 3;
	if (!list && !show && !add && !del)
		return usage();
	/* hooks.db belongs to the service user */
	if (!cli_drop_privileges(ctx))
		return 1;
	char *err = NULL;
	sqlite3 *db = hooksdb_open(ctx->cfg, &err);
	if (db == NULL) {
		cli_error("%s", err);
		free(err);
		return 1;
	}
	int rc;
	if (list) {
		rc = do_list(db);
	} else if (show) {
		suppress_entry e = {0};
		suppress_status s = suppress_get(db, argv[2], &e);
		rc = s == SUP_OK ? 0 : report(db, s, "", argv[2]);
		if (s == SUP_OK)
			print_entry(&e);
		suppress_entry_free(&e);
	} else if (add) {
		rc = report(db, suppress_add(db, argv[2], argc == 4 ? argv[3] : "manual", "manual", NULL, NULL,
		                             (int64_t)time(NULL)),
		            "added", argv[2]);
	} else {
		rc = report(db, suppress_del(db, argv[2]), "removed", argv[2]);
	}
	hooksdb_close(&db);
	return rc;
}
