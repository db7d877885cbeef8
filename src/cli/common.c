/* common.c — helpers every subcommand shares (see cli.h): opening the
 * account store, dropping root privileges, reading passwords. */
#include "cli/cli.h"

#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dns/resolver.h"
#include <termios.h>
#include <unistd.h>

#include "lib/fsutil.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("yubin: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

accounts *cli_open_accounts(cli_ctx *ctx)
{
	if (!fs_mkdir_p(ctx->cfg->data_dir, 0750)) {
		cli_error("cannot create %s: %s", ctx->cfg->data_dir, strerror(errno));
		return NULL;
	}
	char *path = config_path_db(ctx->cfg);
	char *err = NULL;
	accounts *acc = accounts_open(path, &ctx->cfg->domains, &err);
	if (acc == NULL) {
		cli_error("cannot open the account database %s: %s", path, err ? err : "unknown error");
		free(err);
	}
	free(path);
	return acc;
}

/* Switch for good to uid/gid (and the groups of name, when known). */
static bool become(const char *name, uid_t uid, gid_t gid)
{
	bool groups_ok = name != NULL ? initgroups(name, gid) == 0 : setgroups(0, NULL) == 0;
	if (!groups_ok || setgid(gid) != 0 || setuid(uid) != 0) {
		cli_error("cannot switch to uid %u: %s", (unsigned)uid, strerror(errno));
		return false;
	}
	if (setuid(0) == 0) {
		cli_error("dropping root privileges did not stick; refusing to go on");
		return false;
	}
	return true;
}

/* True when every folder above path lets others through (o+x), so that an
 * unprivileged user can reach path. */
static bool reachable_by_others(const char *path)
{
	char *p = xstrdup(path);
	bool ok = true;
	for (char *slash = strrchr(p, '/'); ok && slash != NULL; slash = strrchr(p, '/')) {
		*slash = '\0';
		struct stat st;
		ok = stat(*p ? p : "/", &st) == 0 && (st.st_mode & S_IXOTH);
	}
	free(p);
	return ok;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return lchown(path, chown_uid, chown_gid) == 0 ? 0 : -1;
}

/* --dev as root: run as whoever owns the dev folder; a root-owned folder
 * is handed to "nobody" first when nobody can reach it.  Otherwise stay
 * root, and say so. */
static bool drop_for_dev(cli_ctx *ctx, bool may_chown)
{
	const char *dir = ctx->cfg->data_dir;
	struct stat st;
	if (stat(dir, &st) != 0)
		return true;
	if (st.st_uid == 0 && may_chown) {
		struct passwd *nobody = getpwnam("nobody");
		if (nobody != NULL && reachable_by_others(dir)) {
			chown_uid = nobody->pw_uid;
			chown_gid = nobody->pw_gid;
			if (nftw(dir, chown_one, 16, FTW_PHYS) == 0) {
				st.st_uid = nobody->pw_uid;
				st.st_gid = nobody->pw_gid;
			}
		}
	}
	if (st.st_uid == 0) {
		if (may_chown)
			fprintf(stderr, "yubin: warning: --dev is running as root, because %s is owned by "
			        "root and other users cannot reach it; run it as a normal user instead\n", dir);
		return true;
	}
	struct passwd *pw = getpwuid(st.st_uid);
	return become(pw ? pw->pw_name : NULL, st.st_uid, st.st_gid);
}

bool cli_drop_privileges(cli_ctx *ctx)
{
	if (geteuid() != 0)
		return true;
	const config *cfg = ctx->cfg;
	if (cfg->dev)
		return drop_for_dev(ctx, ctx->serving);
	if (cfg->user == NULL) {
		cli_error("%s: started as root, but no service user is set; add user = \"yubin\"; "
		          "(an unprivileged account) to the configuration", cfg->path);
		return false;
	}
	struct passwd *pw = getpwnam(cfg->user);
	if (pw == NULL) {
		cli_error("the service user \"%s\" does not exist; create it with: "
		          "useradd --system --home-dir %s %s", cfg->user, cfg->data_dir, cfg->user);
		return false;
	}
	if (!fs_mkdir_p(cfg->data_dir, 0750) || chown(cfg->data_dir, pw->pw_uid, pw->pw_gid) != 0) {
		cli_error("cannot prepare %s for user %s: %s", cfg->data_dir, cfg->user, strerror(errno));
		return false;
	}
	return become(pw->pw_name, pw->pw_uid, pw->pw_gid);
}

static char *read_line_from(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static char *prompt_hidden(const char *prompt)
{
	FILE *tty = fopen("/dev/tty", "r+");
	if (tty == NULL)
		return NULL;
	struct termios old, noecho;
	fputs(prompt, tty);
	fflush(tty);
	bool restore = tcgetattr(fileno(tty), &old) == 0;
	if (restore) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
	}
	char *line = read_line_from(tty);
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	return line;
}

char *cli_read_password(bool from_stdin)
{
	if (from_stdin) {
		char *p = read_line_from(stdin);
		if (p == NULL)
			cli_error("no password on standard input");
		return p;
	}
	char *a = prompt_hidden("Password: ");
	if (a == NULL) {
		cli_error("no terminal to ask for a password; use --password-stdin");
		return NULL;
	}
	char *b = prompt_hidden("Again: ");
	if (b == NULL || strcmp(a, b) != 0) {
		cli_error("the passwords do not match");
		str_secure_free(a);
		str_secure_free(b);
		return NULL;
	}
	str_secure_free(b);
	return a;
}

dns_resolver *cli_open_resolver(cli_ctx *ctx, struct event_base **base_r)
{
	struct event_base *base = event_base_new();
	char *err = NULL;
	dns_resolver *r = dns_new_validating(base, ctx->cfg->dns_resolver, ctx->cfg->dns_timeout,
	                     dns_anchor_file(ctx->cfg->dns_trust_anchor, ctx->cfg->dns_resolver), &err);
	if (r == NULL) {
		cli_error("%s", err);
		free(err);
		event_base_free(base);
		return NULL;
	}
	*base_r = base;
	return r;
}

void cli_print_kv(const char *key, const char *value)
{
	if (value == NULL)
		return;
	bool plain = *value != '\0';
	for (const char *p = value; plain && *p; p++)
		plain = (unsigned char)*p > ' ' && *p != '"' && *p != '\\' && *p != 0x7f;
	printf(" %s=", key);
	if (plain) {
		fputs(value, stdout);
		return;
	}
	putchar('"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p < ' ' || *p == 0x7f)
			printf("\\x%02x", (unsigned char)*p);
		else
			putchar(*p);
	}
	putchar('"');
}
