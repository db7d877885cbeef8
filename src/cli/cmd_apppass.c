/* cmd_apppass.c — `yubin user apppass add ADDRESS NAME | list ADDRESS |
 * revoke ADDRESS NAME`: the app passwords of an account (auth/selfdb.h),
 * separate passwords for one mail program or device each, accepted by
 * SMTP AUTH, IMAP and POP3 but not by the dashboard.  add generates the
 * password and prints it once; only its hash is kept.  Owns the arguments
 * and the messages of this command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "auth/selfdb.h"
#include "cli/cli.h"

typedef struct apppass_verb {
	const char *name;
	bool takes_name;           /* NAME after ADDRESS */
	int (*run)(accounts *acc, selfdb *db, const char *user, const char *name);
} apppass_verb;

static int apppass_fail(accounts_status s, const char *user, const char *name)
{
	switch (s) {
	case ACC_EXISTS:
		cli_error("%s already has an app password named \"%s\": revoke it first", user, name ? name : "");
		break;
	case ACC_NOT_FOUND:
		if (name != NULL)
			cli_error("%s has no app password named \"%s\"", user, name);
		else
			cli_error("no user %s", user);
		break;
	case ACC_INVALID:
		cli_error("\"%s\" is not a valid name: 1 to %d printable ASCII characters, no space at either end",
		          name != NULL ? name : "", SELFDB_NAME_MAX);
		break;
	case ACC_LIMIT:
		cli_error("%s already has %d app passwords: revoke one first", user, SELFDB_APPPASS_MAX);
		break;
	default:
		cli_error("account database error");
		break;
	}
	return 1;
}

/* The user exists (ACC_OK) or not. */
static accounts_status apppass_user(accounts *acc, const char *user)
{
	char *hash = NULL;
	accounts_status s = accounts_user_get_hash(acc, user, &hash);
	str_secure_free(hash);
	return s;
}

static int apppass_add(accounts *acc, selfdb *db, const char *user, const char *name)
{
	accounts_status s = apppass_user(acc, user);
	if (s != ACC_OK)
		return apppass_fail(s, user, NULL);
	if (!selfdb_name_valid(name))
		return apppass_fail(ACC_INVALID, user, name);
	char shown[SELFDB_APPPASS_SHOWN + 1], norm[SELFDB_APPPASS_LEN + 1];
	if (!selfdb_apppass_generate(shown) || !selfdb_apppass_normalize(shown, norm)) {
		cli_error("no random bytes to be had");
		return 1;
	}
	char *hash = password_hash(norm);
	s = hash != NULL ? selfdb_apppass_add(db, user, name, norm, hash, time(NULL)) : ACC_ERROR;
	str_secure_free(hash);
	explicit_bzero(norm, sizeof norm);
	if (s == ACC_OK)
		printf("app password \"%s\" for %s: %s\n(it is not shown again; spaces and dashes may be left out)\n",
		       name, user, shown);
	explicit_bzero(shown, sizeof shown);
	return s == ACC_OK ? 0 : apppass_fail(s, user, name);
}

static void print_time(const char *label, long long t)
{
	char s[32] = "never";
	time_t tt = (time_t)t;
	struct tm tm;
	if (t > 0 && gmtime_r(&tt, &tm) != NULL)
		strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf(" %s=%s", label, s);
}

static int apppass_list(accounts *acc, selfdb *db, const char *user, const char *name)
{
	(void)name;
	accounts_status s = apppass_user(acc, user);
	selfdb_apppass *list = NULL;
	size_t n = 0;
	if (s == ACC_OK)
		s = selfdb_apppass_list(db, user, &list, &n);
	for (size_t i = 0; s == ACC_OK && i < n; i++) {
		printf("name=\"%s\"", list[i].name);
		print_time("created", list[i].created);
		print_time("last_used", list[i].last_used);
		printf("\n");
	}
	selfdb_apppass_list_free(list, n);
	return s == ACC_OK ? 0 : apppass_fail(s, user, NULL);
}

static int apppass_revoke(accounts *acc, selfdb *db, const char *user, const char *name)
{
	accounts_status s = apppass_user(acc, user);
	if (s == ACC_OK)
		s = selfdb_apppass_revoke(db, user, name);
	else
		name = NULL;
	if (s != ACC_OK)
		return apppass_fail(s, user, name);
	printf("revoked app password \"%s\" of %s\n", name, user);
	return 0;
}

static const apppass_verb apppass_verbs[] = {
	{"add", true, apppass_add},
	{"list", false, apppass_list},
	{"revoke", true, apppass_revoke},
};

static int apppass_usage(void)
{
	fprintf(stderr, "usage: yubin user apppass add ADDRESS NAME\n"
	                "       yubin user apppass list ADDRESS\n"
	                "       yubin user apppass revoke ADDRESS NAME\n");
	return 2;
}

/* argv[0] is "apppass". */
int cmd_user_apppass(cli_ctx *ctx, int argc, char **argv)
{
	const apppass_verb *v = NULL;
	for (size_t i = 0; argc >= 2 && i < sizeof(apppass_verbs) / sizeof(apppass_verbs[0]); i++)
		if (strcmp(argv[1], apppass_verbs[i].name) == 0)
			v = &apppass_verbs[i];
	if (v == NULL || argc != (v->takes_name ? 4 : 3))
		return apppass_usage();
	char *user = accounts_normalize(argv[2]);
	if (user == NULL) {
		cli_error("%s is not a valid address", argv[2]);
		return 1;
	}
	int rc = 1;
	accounts *acc = NULL;
	selfdb *db = NULL;
	char *path = config_path_db(ctx->cfg), *err = NULL;
	if (cli_drop_privileges(ctx) && (acc = cli_open_accounts(ctx)) != NULL &&
	    (db = selfdb_open(path, &err)) != NULL)
		rc = v->run(acc, db, user, v->takes_name ? argv[3] : NULL);
	else if (err != NULL)
		cli_error("%s", err);
	selfdb_close(&db);
	accounts_close(&acc);
	free(err);
	free(path);
	free(user);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	return rc;
}
