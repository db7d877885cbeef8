/* devmode.c — the zero-config development instance (see devmode.h). */
#include "cli/devmode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "auth/password.h"
#include "auth/sasl.h"
#include "delivery/maildir.h"
#include "lib/fsutil.h"
#include "net/roles.h"
#include "store/folders.h"
#include "tls/fingerprint.h"
#include "tls/tls.h"

/* The dev instance listens on every role's usual port plus DEV_PORT_OFFSET
 * (10025, 10587 and 12525, 10465, ...), on loopback only. */
#define DEV_PORT_OFFSET 10000

static void add_listener(config *cfg, listener_role role, int port)
{
	config_listener *l = &cfg->listeners[cfg->n_listeners++];
	l->role = role;
	l->port = DEV_PORT_OFFSET + port;
	l->address = xstrdup("127.0.0.1");
}

config *devmode_config(void)
{
	const char *dir = getenv("YUBIN_DEV_DIR");
	if (dir == NULL || *dir == '\0')
		dir = "yubin-dev";
	if (!fs_mkdir_p(dir, 0700)) {
		fprintf(stderr, "yubin: cannot create the dev folder %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	char abs[PATH_MAX];
	if (realpath(dir, abs) == NULL) {
		fprintf(stderr, "yubin: cannot resolve %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	config *cfg = config_new_defaults();
	cfg->dev = true;
	cfg->path = xstrdup("(--dev)");
	free(cfg->hostname);
	cfg->hostname = xstrdup("localhost");
	free(cfg->data_dir);
	cfg->data_dir = xstrdup(abs);
	cfg->tls_cert = xasprintf("%s/tls/cert.pem", abs);
	cfg->tls_key = xasprintf("%s/tls/key.pem", abs);
	strlist_add(&cfg->domains, DEV_DOMAIN);
	cfg->listeners = xcalloc(2 * ROLE_COUNT, sizeof(config_listener));
	for (int r = 0; r < ROLE_COUNT; r++) {
		const server_role *sr = server_role_get((listener_role)r);
		add_listener(cfg, sr->role, sr->default_port);
		if (sr->alt_port != 0)
			add_listener(cfg, sr->role, sr->alt_port);
	}
	cfg->auth.fail_delay_ms = 100;
	return cfg;
}

bool devmode_prepare_tls(const config *cfg)
{
	if (access(cfg->tls_cert, R_OK) == 0 && access(cfg->tls_key, R_OK) == 0)
		return true;
	char *dir = xasprintf("%s/tls", cfg->data_dir);
	bool ok = fs_mkdir_p(dir, 0700);
	free(dir);
	char *err = NULL;
	if (ok)
		ok = tls_make_self_signed(cfg->tls_cert, cfg->tls_key, cfg->hostname, &err);
	if (!ok) {
		fprintf(stderr, "yubin: cannot make the dev certificate: %s\n", err ? err : strerror(errno));
		free(err);
	}
	return ok;
}

static char *random_password(void)
{
	unsigned char raw[12];
	if (RAND_bytes(raw, sizeof raw) != 1)
		return NULL;
	char *p = sasl_b64_encode(raw, sizeof raw);
	for (char *c = p; *c; c++)
		if (*c == '+' || *c == '/')
			*c = 'x';
	return p;
}

/* The demo account's Maildir with the default folders (Sent, Drafts,
 * Trash, Junk, Archive), as `user add` makes them; made where missing on
 * every start, so a dev folder from an older version gets them too. */
static bool demo_mailbox(const config *cfg)
{
	char *root = config_path_mail(cfg);
	char *maildir = maildir_path(root, DEV_USER);
	char *err = NULL;
	bool ok = maildir != NULL && store_create_account(maildir, &err);
	if (!ok)
		fprintf(stderr, "yubin: cannot make the demo mailbox: %s\n",
		        err ? err : "its path is not valid");
	free(err);
	free(maildir);
	free(root);
	return ok;
}

char *devmode_demo_account(const config *cfg, accounts *acc)
{
	if (!demo_mailbox(cfg))
		return NULL;
	char *path = xasprintf("%s/demo-password", cfg->data_dir);
	char *pw = fs_read_file(path, 1024, NULL);
	if (pw != NULL) {
		pw[strcspn(pw, "\n")] = '\0';
		free(path);
		return pw;
	}
	pw = random_password();
	char *hash = pw ? password_hash(pw) : NULL;
	bool ok = hash != NULL && accounts_user_add(acc, DEV_USER, hash) != ACC_ERROR;
	free(hash);
	if (ok) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		ok = fd >= 0 && fs_write_all(fd, pw, strlen(pw)) && fs_write_all(fd, "\n", 1);
		if (fd >= 0 && close(fd) != 0)
			ok = false;
	}
	free(path);
	if (!ok) {
		free(pw);
		return NULL;
	}
	return pw;
}

void devmode_banner(const config *cfg, const char *password)
{
	printf("\n"
	       "yubin is running in development mode (data in %s)\n"
	       "  smtp         127.0.0.1:10025  mail from other servers (no AUTH)\n"
	       "  submission   127.0.0.1:10587  STARTTLS + AUTH  (also 127.0.0.1:12525)\n"
	       "  submissions  127.0.0.1:10465  implicit TLS + AUTH\n"
	       "  pop3         127.0.0.1:10110  STLS, then USER/PASS or AUTH\n"
	       "  pop3s        127.0.0.1:10995  implicit TLS\n"
	       "  imap         127.0.0.1:10143  STARTTLS, then LOGIN or AUTHENTICATE\n"
	       "  imaps        127.0.0.1:10993  implicit TLS\n"
	       "  https        127.0.0.1:10443  the HTTP API and dashboard (also 127.0.0.1:18443)\n"
	       "  managesieve  127.0.0.1:14190  Sieve filters (RFC 5804): STARTTLS, then AUTHENTICATE\n"
	       "  demo account: %s password: %s\n\n"
	       "Send yourself a test message:\n"
	       "  swaks --server 127.0.0.1:10587 --tls --auth PLAIN --auth-user %s \\\n"
	       "        --auth-password '%s' --from %s --to %s\n"
	       "It lands in %s/mail/%s/demo/new/; read it with\n"
	       "  curl -k --user %s:'%s' pop3s://127.0.0.1:10995/1\n"
	       "The certificate is self-signed (%s);\n",
	       cfg->data_dir, DEV_USER, password, DEV_USER, password, DEV_USER, DEV_USER,
	       cfg->data_dir, DEV_DOMAIN, DEV_USER, password, cfg->tls_cert);
	tls_cert_info info;
	char *err = NULL;
	if (tls_cert_info_read(cfg->tls_cert, &info, &err)) {
		printf("  its SHA-256 fingerprint is %s\n"
		       "(`yubin --dev tls fingerprint` prints it again).  Stop with Ctrl-C.\n\n",
		       info.sha256);
		tls_cert_info_free(&info);
	} else {
		printf("  %s.  Stop with Ctrl-C.\n\n", err);
		free(err);
	}
	fflush(stdout);
}
