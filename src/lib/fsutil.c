/* fsutil.c — checked file-system helpers (see fsutil.h). */
#include "lib/fsutil.h"

#include "lib/strutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fs_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

bool fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	int saved = errno;
	if (close(fd) != 0 && ok)
		return false;
	errno = saved;
	return ok;
}

bool fs_mkdir_p(const char *path, mode_t mode)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 1);
	if (tmp == NULL)
		return false;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
				free(tmp);
				return false;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(tmp);
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	return true;
}

char *fs_read_file(const char *path, size_t max, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size > max) {
		if (errno == 0)
			errno = EFBIG;
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *data = malloc(cap);
	if (data == NULL) {
		close(fd);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1) {
				free(data);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			char *p = realloc(data, cap);
			if (p == NULL) {
				free(data);
				close(fd);
				return NULL;
			}
			data = p;
		}
		ssize_t r = read(fd, data + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(data);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	data[len] = '\0';
	if (len_r != NULL)
		*len_r = len;
	return data;
}

bool fs_replace_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *tmp = xasprintf("%s/%s.tmp", dir, name);
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fs_write_all(fd, data, len) && fsync(fd) == 0;
	int err = errno;
	if (fd >= 0)
		close(fd);
	ok = ok && rename(tmp, path) == 0 && fs_fsync_dir(dir);
	if (!ok)
		err = errno;
	free(tmp);
	free(path);
	errno = err;
	return ok;
}
