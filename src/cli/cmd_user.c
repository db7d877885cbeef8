/* cmd_user.c — `yubin user add | passwd | del | list`: the virtual users of
 * the account store (`yubin user sendas` is cmd_sendas.c, `yubin user
 * quota` cmd_userquota.c, `yubin user apppass` cmd_apppass.c).  Owns
 * argument parsing, where a password comes from
 * (terminal prompt, --password-stdin, or an imported --hash) and this
 * command's messages.  A plain password lives only between reading and
 * hashing, is never printed, and is wiped with str_secure_free. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "cli/cli.h"
#include "delivery/maildir.h"
#include "store/folders.h"

/* The parsed arguments that follow the verb. */
typedef struct user_args {
	const char *address;
	bool from_stdin;         /* --password-stdin */
	const char *hash;        /* --hash HASH */
	const config *cfg;
} user_args;

typedef struct user_verb {
	const char *name;
	const char *args;        /* for the usage line */
	bool address;            /* takes ADDRESS */
	bool password;           /* takes --password-stdin / --hash */
	int (*run)(accounts *acc, const user_args *a);
} user_verb;

static int user_add(accounts *acc, const user_args *a);
static int user_passwd(accounts *acc, const user_args *a);
static int user_del(accounts *acc, const user_args *a);
static int user_list(accounts *acc, const user_args *a);

static const user_verb user_verbs[] = {
	{ "add", " ADDRESS [--password-stdin | --hash HASH]", true, true, user_add },
	{ "passwd", " ADDRESS [--password-stdin | --hash HASH]", true, true, user_passwd },
	{ "del", " ADDRESS", true, false, user_del },
	{ "list", "", false, false, user_list },
};
#define USER_NVERBS (sizeof(user_verbs) / sizeof(user_verbs[0]))

static int user_usage(void)
{
	for (size_t i = 0; i < USER_NVERBS; i++)
		fprintf(stderr, "%s yubin user %s%s\n", i == 0 ? "usage:" : "      ",
			user_verbs[i].name, user_verbs[i].args);
	fprintf(stderr, "       yubin user sendas add|del USER ADDRESS | list USER\n");
	fprintf(stderr, "       yubin user quota ADDRESS [--storage N[K|M|G]|none|default] [--messages N|none|default]\n");
	fprintf(stderr, "       yubin user apppass add|revoke ADDRESS NAME | list ADDRESS\n");
	return 2;
}

/* One option or operand; false on a usage error. */
static bool user_parse_one(const user_verb *v, int argc, char **argv, int *i,
			   bool *operands, user_args *a_r)
{
	const char *s = argv[*i];
	if (*operands || s[0] != '-' || s[1] == '\0') {
		if (a_r->address != NULL || !v->address)
			return false;
		a_r->address = s;
		return true;
	}
	if (strcmp(s, "--") == 0) {
		*operands = true;
		return true;
	}
	if (!v->password || a_r->from_stdin || a_r->hash != NULL)
		return false;
	if (strcmp(s, "--password-stdin") == 0) {
		a_r->from_stdin = true;
	} else if (strncmp(s, "--hash=", 7) == 0) {
		a_r->hash = s + 7;
	} else if (strcmp(s, "--hash") == 0 && *i + 1 < argc) {
		a_r->hash = argv[++*i];
	} else {
		return false;
	}
	return true;
}

/* argv[0] is the first argument after the verb. */
static bool user_parse(const user_verb *v, int argc, char **argv, user_args *a_r)
{
	bool operands = false;
	*a_r = (user_args){ 0 };
	for (int i = 0; i < argc; i++)
		if (!user_parse_one(v, argc, argv, &i, &operands, a_r))
			return false;
	return v->address == (a_r->address != NULL);
}

static int user_fail(accounts *acc, accounts_status s, const char *address)
{
	switch (s) {
	case ACC_EXISTS:
		cli_error("user %s already exists", address);
		break;
	case ACC_NOT_FOUND:
		cli_error("no user %s", address);
		break;
	case ACC_INVALID:
		cli_error("%s is not a valid address", address);
		break;
	case ACC_NO_DOMAIN:
		cli_error("%s is not in a local domain (add the domain first with "
			  "\"yubin domain add\")", address);
		break;
	case ACC_ERROR:
		cli_error("account database error: %s", accounts_last_error(acc));
		break;
	default:
		cli_error("cannot change user %s", address);
		break;
	}
	return 1;
}

/* The hash to store: the imported one, or a new one of a password read from
 * the terminal or stdin.  malloc'd, or NULL after printing why. */
static char *user_obtain_hash(const user_args *a)
{
	if (a->hash != NULL)
		return xstrdup(a->hash);
	char *plain = cli_read_password(a->from_stdin);
	if (plain == NULL)
		return NULL;
	char *hash = NULL;
	if (plain[0] == '\0')
		cli_error("an empty password is not allowed");
	else if ((hash = password_hash(plain)) == NULL)
		cli_error("cannot hash the password");
	str_secure_free(plain);
	return hash;
}

/* Checks done before asking for a password, so that nobody types one for
 * nothing: a local domain, and whether the user exists (want_exists). */
static accounts_status user_precheck(accounts *acc, const char *address, bool want_exists)
{
	if (!accounts_domain_is_local(acc, strchr(address, '@') + 1))
		return want_exists ? ACC_NOT_FOUND : ACC_NO_DOMAIN;
	char *old = NULL;
	accounts_status s = accounts_user_get_hash(acc, address, &old);
	str_secure_free(old);
	if (s == ACC_OK)
		return want_exists ? ACC_OK : ACC_EXISTS;
	if (s == ACC_NOT_FOUND)
		return want_exists ? ACC_NOT_FOUND : ACC_OK;
	return s;
}

/* add and passwd: check, obtain a hash, store it. */
static int user_set(accounts *acc, const user_args *a, bool adding)
{
	accounts_status s = user_precheck(acc, a->address, !adding);
	if (s != ACC_OK)
		return user_fail(acc, s, a->address);
	char *hash = user_obtain_hash(a);
	if (hash == NULL)
		return 1;
	s = adding ? accounts_user_add(acc, a->address, hash)
		   : accounts_user_set_hash(acc, a->address, hash);
	str_secure_free(hash);
	if (s != ACC_OK)
		return user_fail(acc, s, a->address);
	printf(adding ? "added user %s\n" : "changed the password of user %s\n", a->address);
	return 0;
}

static int user_add(accounts *acc, const user_args *a)
{
	int rc = user_set(acc, a, true);
	if (rc != 0)
		return rc;
	/* the mailbox and its folders, so that mail programs find them */
	char *root = config_path_mail(a->cfg);
	char *maildir = maildir_path(root, a->address);
	char *err = NULL;
	if (maildir == NULL || !store_create_account(maildir, &err)) {
		cli_error("user added, but %s", err ? err : "its mailbox path is not valid");
		rc = 1;
	}
	free(err);
	free(maildir);
	free(root);
	return rc;
}

static int user_passwd(accounts *acc, const user_args *a)
{
	return user_set(acc, a, false);
}

static int user_del(accounts *acc, const user_args *a)
{
	accounts_status s = accounts_user_del(acc, a->address);
	if (s != ACC_OK)
		return user_fail(acc, s, a->address);
	printf("deleted user %s\n", a->address);
	return 0;
}

static int user_list(accounts *acc, const user_args *a)
{
	strlist l;
	strlist_init(&l);
	accounts_status s = accounts_user_list(acc, &l);
	for (size_t i = 0; s == ACC_OK && i < l.n; i++) {
		accounts_quota q;
		char line[128];
		s = accounts_quota_get(acc, l.items[i], &q);
		if (s == ACC_OK) {
			cli_user_quota_line(a->cfg, &q, line, sizeof line);
			printf("%s  %s\n", l.items[i], line);
		} else if (s == ACC_NOT_FOUND) { /* deleted meanwhile */
			s = ACC_OK;
		}
	}
	strlist_free(&l);
	return s == ACC_OK ? 0 : user_fail(acc, s, "list");
}

static const user_verb *user_find(const char *name)
{
	for (size_t i = 0; i < USER_NVERBS; i++)
		if (strcmp(user_verbs[i].name, name) == 0)
			return &user_verbs[i];
	return NULL;
}

/* Everything that can be checked without the database: a well-formed
 * address (normalised into *norm_r) and a supported imported hash. */
static int user_check_args(user_args *a, char **norm_r)
{
	*norm_r = NULL;
	if (a->address != NULL && (*norm_r = accounts_normalize(a->address)) == NULL) {
		cli_error("%s is not a valid address", a->address);
		return 1;
	}
	if (a->hash != NULL && !password_hash_supported(a->hash)) {
		cli_error("the --hash value is not a supported crypt hash "
			  "($y$ yescrypt, $6$ SHA-512 or $2b$ bcrypt)");
		return 1;
	}
	if (*norm_r != NULL)
		a->address = *norm_r;
	return 0;
}

static int user_run(cli_ctx *ctx, const user_verb *v, const user_args *a)
{
	if (!cli_drop_privileges(ctx))
		return 1;
	accounts *acc = cli_open_accounts(ctx);
	if (acc == NULL)
		return 1;
	int rc = v->run(acc, a);
	accounts_close(&acc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	return rc;
}

int cmd_user(cli_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sendas") == 0)
		return cmd_user_sendas(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "quota") == 0)
		return cmd_user_quota(ctx, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "apppass") == 0)
		return cmd_user_apppass(ctx, argc - 1, argv + 1);
	const user_verb *v = argc >= 2 ? user_find(argv[1]) : NULL;
	user_args a;
	if (v == NULL || !user_parse(v, argc - 2, argv + 2, &a))
		return user_usage();
	a.cfg = ctx->cfg;
	char *norm;
	int rc = user_check_args(&a, &norm);
	if (rc == 0)
		rc = user_run(ctx, v, &a);
	free(norm);
	return rc;
}
