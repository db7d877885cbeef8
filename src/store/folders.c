/* folders.c — an account's default folders (see folders.h). */
#include "store/folders.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"

const store_folder store_default_folders[] = {
	{"INBOX", NULL},      {"Sent", "\\Sent"}, {"Drafts", "\\Drafts"},
	{"Trash", "\\Trash"}, {"Junk", "\\Junk"}, {"Archive", "\\Archive"},
};
const int store_n_default_folders = (int)(sizeof(store_default_folders) / sizeof(store_default_folders[0]));

bool store_make_maildir(const char *dir, bool subfolder, char **err_r)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, subs[i]);
		bool ok = fs_mkdir_p(p, 0700);
		free(p);
		if (!ok) {
			*err_r = xasprintf("cannot create %s: %s", dir, strerror(errno));
			return false;
		}
	}
	if (subfolder) {
		/* Maildir++: marks a folder as part of the account above it */
		char *p = xasprintf("%s/maildirfolder", dir);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			*err_r = xasprintf("cannot create %s: %s", p, strerror(errno));
		else
			close(fd);
		free(p);
		if (fd < 0)
			return false;
	}
	return true;
}

bool store_create_account(const char *maildir, char **err_r)
{
	if (!store_make_maildir(maildir, false, err_r))
		return false;
	for (int i = 1; i < store_n_default_folders; i++) {
		char *dir = xasprintf("%s/.%s", maildir, store_default_folders[i].name);
		bool ok = store_make_maildir(dir, true, err_r);
		free(dir);
		if (!ok)
			return false;
	}
	return fs_fsync_dir(maildir);
}

char *store_folder_path(const char *maildir, const char *name)
{
	if (strcasecmp(name, "INBOX") == 0)
		return xstrdup(maildir);
	/* no empty levels, nothing that walks out of the folder */
	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL || strstr(name, "..") != NULL ||
	    name[strlen(name) - 1] == '.')
		return NULL;
	return xasprintf("%s/.%s", maildir, name);
}
