/* cmd_mailbox.c — `yubin mailbox reindex ADDRESS`: rebuild an account's
 * index (yubin-index.db) from its Maildir alone.  Every folder is read
 * under its lock as the server reads it: UIDs stay what the file names
 * say, files without one get new ones, the flags come from the names; the
 * index then gets fresh mod-sequences (higher than any given before) and
 * its ENVELOPE / BODYSTRUCTURE cache built again.  Safe while the server
 * runs: it sees the new mod-sequences when it next looks at the folder. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "delivery/maildir.h"
#include "lib/strutil.h"
#include "store/index.h"
#include "store/mailbox.h"

static int mailbox_usage(void)
{
	fprintf(stderr, "usage: yubin mailbox reindex ADDRESS\n");
	return 2;
}

/* One folder: "" is INBOX, ".Sent" a Maildir++ subfolder. */
static bool reindex_folder(const char *root, const char *key)
{
	char *path = key[0] ? xasprintf("%s/%s", root, key) : xstrdup(root);
	char *err = NULL;
	mbox *mb = mbox_open(path, &err);
	store_index *ix = mb ? store_index_open(root, key, &err) : NULL;
	uint64_t highest = 0;
	uint32_t *gone = NULL;
	size_t n_gone = 0;
	bool ok = ix != NULL && store_index_clear(ix) &&
	          store_index_reconcile(ix, mb, &highest, &gone, &n_gone, &err);
	if (ok)
		printf("%-24s %6zu messages  UIDVALIDITY %u  UIDNEXT %u  HIGHESTMODSEQ %llu\n",
		       key[0] ? key + 1 : "INBOX", mb->n, mb->uidvalidity, mb->uidnext,
		       (unsigned long long)highest);
	else
		cli_error("%s: %s", path, err ? err : "cannot write the index");
	free(gone);
	free(err);
	store_index_close(&ix);
	mbox_free(&mb);
	free(path);
	return ok;
}

static int reindex(const char *root)
{
	struct stat st;
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_error("%s: no mailbox there", root);
		return 1;
	}
	bool ok = reindex_folder(root, "");
	DIR *d = opendir(root);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *cur = xasprintf("%s/%s/cur", root, e->d_name);
		bool folder = stat(cur, &st) == 0 && S_ISDIR(st.st_mode);
		free(cur);
		if (folder)
			ok = reindex_folder(root, e->d_name) && ok;
	}
	if (d != NULL)
		closedir(d);
	return ok ? 0 : 1;
}

int cmd_mailbox(cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "reindex") != 0)
		return mailbox_usage();
	char *address = accounts_normalize(argv[2]);
	if (address == NULL) {
		cli_error("%s is not a valid address", argv[2]);
		return 1;
	}
	if (!cli_drop_privileges(ctx)) {
		free(address);
		return 1;
	}
	char *mail = config_path_mail(ctx->cfg);
	char *root = maildir_path(mail, address);
	int rc = root ? reindex(root) : 1;
	if (root == NULL)
		cli_error("%s: not an address with a mailbox", address);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to standard output");
		rc = 1;
	}
	free(root);
	free(mail);
	free(address);
	return rc;
}
