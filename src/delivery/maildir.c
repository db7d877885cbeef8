/* maildir.c — Maildir writing (see maildir.h).  The order of operations is
 * the durability contract: data fsynced before the link, new/ fsynced before
 * we report success (the caller then drops its queue copy). */
#include "delivery/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fsutil.h"
#include "lib/strutil.h"

static void put_escaped(buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c == '%' || c < 0x20 || (i == 0 && c == '.'))
			BUF_PRINTF(b, "%%%02X", c);
		else
			BUF_PUTC(b, (char)c);
	}
}

char *maildir_path(const char *mail_root, const char *address)
{
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return NULL;
	buf b;
	buf_init(&b, BUF_UNBOUNDED);
	BUF_PUTS(&b, mail_root);
	BUF_PUTC(&b, '/');
	put_escaped(&b, at + 1, strlen(at + 1));
	BUF_PUTC(&b, '/');
	put_escaped(&b, address, (size_t)(at - address));
	return buf_steal(&b);
}

bool maildir_create(const char *path)
{
	static const char *const subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", path, subs[i]);
		bool ok = fs_mkdir_p(p, 0700);
		free(p);
		if (!ok)
			return false;
	}
	return true;
}

maildir_status maildir_deliver(const char *path, const char *name, const char *prefix,
                               size_t prefix_len, const char *body, size_t body_len,
                               const char **err_r)
{
	return maildir_deliver_as(path, name, NULL, prefix, prefix_len, body, body_len, err_r);
}

maildir_status maildir_deliver_as(const char *path, const char *name, const char *cur_name, const char *prefix,
                                  size_t prefix_len, const char *body, size_t body_len, const char **err_r)
{
	char *tmp = xasprintf("%s/tmp/%s", path, name);
	char *dst = cur_name ? xasprintf("%s/cur/%s", path, cur_name) : xasprintf("%s/new/%s", path, name);
	char *newdir = xasprintf("%s/%s", path, cur_name ? "cur" : "new");
	maildir_status st = MD_ERROR;
	struct stat sb;
	if (stat(dst, &sb) == 0 && (size_t)sb.st_size == prefix_len + body_len) {
		st = MD_ALREADY; /* an earlier attempt got this far */
		goto out;
	}
	*err_r = "create";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && maildir_create(path))
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	*err_r = "write";
	bool ok = fs_write_all(fd, prefix, prefix_len) && fs_write_all(fd, body, body_len);
	/* Into new/ before the flush, so that one journal commit carries both
	 * the data and the name (see queue/commit.c); readers see the whole
	 * file from the page cache.  If power fails before the flush, the queue
	 * still holds the message and a torn file here has the wrong size, so
	 * the next attempt replaces it. */
	if (ok) {
		*err_r = "rename";
		ok = rename(tmp, dst) == 0;
	}
	if (ok) {
		*err_r = "fsync";
		ok = fsync(fd) == 0;
	}
	int saved = errno;
	if (close(fd) != 0 && ok) {
		*err_r = "close";
		ok = false;
		saved = errno;
	}
	if (ok) {
		*err_r = cur_name ? "fsync cur/" : "fsync new/";
		ok = fs_fsync_dir(newdir);
		saved = errno;
	}
	if (!ok) {
		unlink(tmp);
		errno = saved;
		goto out;
	}
	st = MD_OK;
out:
	free(tmp);
	free(dst);
	free(newdir);
	return st;
}

bool maildir_in_new(const char *path, const char *name, size_t size)
{
	char *dst = xasprintf("%s/new/%s", path, name);
	struct stat sb;
	bool found = stat(dst, &sb) == 0 && (size_t)sb.st_size == size;
	free(dst);
	return found;
}

static bool dir_has(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return false;
	size_t n = strlen(name);
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL)
		found = strncmp(e->d_name, name, n) == 0 &&
		        (e->d_name[n] == '\0' || e->d_name[n] == ':' || e->d_name[n] == ',');
	closedir(d);
	return found;
}

bool maildir_has(const char *path, const char *name)
{
	/* new/ is checked by maildir_deliver itself, with the size; a file in
	 * cur/ was seen whole by a mail reader. */
	char *c = xasprintf("%s/cur", path);
	bool found = dir_has(c, name);
	free(c);
	return found;
}

bool maildir_exists(const char *path)
{
	char *cur = xasprintf("%s/cur", path);
	struct stat st;
	bool ok = stat(cur, &st) == 0 && S_ISDIR(st.st_mode);
	free(cur);
	return ok;
}
