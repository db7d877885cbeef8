/* mailbox.c — one Maildir folder with stable UIDs (see mailbox.h).  A sync
 * reads cur/ and new/, keeps every file that already has a UID (the first
 * of two files claiming one UID keeps it), gives the others new UIDs in
 * arrival order (the UID list is written first), and renames them into
 * cur/ with UID and CRLF size in the name. */
#include "store/mailbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strutil.h"
#include "store/folders.h"
#include "store/mdname.h"
#include "store/uidlist.h"

/* A file found by a sync. */
typedef struct found {
	const char *dir;      /* "cur" or "new" */
	char *file;
	mdname name;
	time_t mtime;
	bool needs_rename;
} found;

typedef struct scan {
	found *v;
	size_t n, cap;
} scan;

static void scan_free(scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].file);
	free(s->v);
}

/* The size with CRLF line ends: every LF not after a CR gains one byte. */
static bool crlf_size(const char *path, uint64_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char b[65536];
	uint64_t n = 0;
	char prev = 0;
	ssize_t r;
	while ((r = read(fd, b, sizeof b)) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			if (b[i] == '\n' && prev != '\r')
				n++;
			prev = b[i];
		}
		n += (uint64_t)r;
	}
	int err = errno;
	close(fd);
	errno = err;
	if (r < 0)
		return false;
	*out = n;
	return true;
}

static bool read_dir(const char *folder, const char *sub, scan *s, char **err_r)
{
	char *dir = xasprintf("%s/%s", folder, sub);
	DIR *d = opendir(dir);
	if (d == NULL) {
		*err_r = xasprintf("cannot read %s: %s", dir, strerror(errno));
		free(dir);
		return false;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		found f = {.dir = sub};
		if (!mdname_parse(e->d_name, &f.name))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
			continue; /* gone meanwhile, or not a file */
		f.mtime = st.st_mtime;
		f.file = xstrdup(e->d_name);
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->v = xrealloc(s->v, s->cap * sizeof(found));
		}
		s->v[s->n++] = f;
	}
	closedir(d);
	free(dir);
	return true;
}

static int by_uid(const void *a, const void *b)
{
	const found *x = a, *y = b;
	if (x->name.uid != y->name.uid)
		return x->name.uid < y->name.uid ? -1 : 1;
	return strcmp(x->file, y->file);
}

/* Arrival order: time, then name (delivery names start with the time). */
static int by_arrival(const void *a, const void *b)
{
	const found *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->file, y->file);
}

static int lock_folder(const char *folder)
{
	char *p = xasprintf("%s/yubin-lock", folder);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static uint32_t kw_of(const char *letters)
{
	uint32_t kw = 0;
	for (const char *p = letters; *p; p++)
		kw |= 1u << (*p - 'a');
	return kw;
}

static void kw_letters(uint32_t kw, char out[27])
{
	size_t o = 0;
	for (int k = 0; k < 26; k++)
		if (kw & (1u << k))
			out[o++] = (char)('a' + k);
	out[o] = '\0';
}

/* Add f to m's list (the array has room), taking its name; nothing when it
 * went away. */
static void append_found(mbox *m, found *f)
{
	if (f->name.uid == 0)
		return;
	m->msgs[m->n++] = (mbox_msg){.uid = f->name.uid, .file = f->file, .vsize = f->name.vsize,
	                             .internal = f->mtime, .flags = f->name.flags,
	                             .kw = kw_of(f->name.other)};
	f->file = NULL;
}

static void msgs_free(mbox *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->msgs[i].file);
	free(m->msgs);
	m->msgs = NULL;
	m->n = 0;
}

/* Give UIDs to the files without one (and to the later of two files with
 * the same UID), record the UID list, and rename into cur/. */
static bool assign(mbox *m, scan *s, uidlist *ul, bool ul_dirty, char **err_r)
{
	if (s->n > 0)
		qsort(s->v, s->n, sizeof(found), by_uid);
	found **fresh = xcalloc(s->n + 1, sizeof(found *));
	size_t nf = 0;
	for (size_t i = 0; i < s->n; i++) {
		found *f = &s->v[i];
		bool dup = f->name.uid != 0 && i > 0 && s->v[i - 1].name.uid == f->name.uid;
		if (f->name.uid == 0 || dup || f->dir[0] == 'n') {
			f->name.uid = 0;
			fresh[nf++] = f;
		} else if (f->name.uid >= ul->uidnext) {
			ul->uidnext = f->name.uid + 1; /* someone else's UID list was ahead */
			ul_dirty = true;
		}
	}
	/* new UIDs in arrival order */
	found *sorted = xcalloc(nf + 1, sizeof(found));
	for (size_t i = 0; i < nf; i++)
		sorted[i] = *fresh[i];
	qsort(sorted, nf, sizeof(found), by_arrival);
	for (size_t i = 0; i < nf; i++) {
		if (ul->uidnext == UINT32_MAX) {
			*err_r = xstrdup("the folder has used up its UIDs");
			free(sorted);
			free(fresh);
			return false;
		}
		sorted[i].name.uid = ul->uidnext++;
		sorted[i].needs_rename = true;
		ul_dirty = true;
	}
	for (size_t i = 0; i < nf; i++)
		*fresh[i] = sorted[i];
	free(sorted);
	free(fresh);
	if (ul_dirty && !uidlist_write(m->path, ul)) {
		*err_r = xasprintf("cannot write the UID list of %s: %s", m->path, strerror(errno));
		return false;
	}
	return true;
}

/* Put f in cur/ with its UID, size and flags in the name (measuring the
 * size first when the name lacks it); f->name.uid becomes 0 when the file
 * went away meanwhile. */
static void intake(mbox *m, found *f)
{
	char *from = xasprintf("%s/%s/%s", m->path, f->dir, f->file);
	if (!f->name.has_vsize) {
		if (!crlf_size(from, &f->name.vsize)) {
			free(from);
			f->name.uid = 0; /* gone meanwhile */
			return;
		}
		f->name.has_vsize = true;
		f->needs_rename = true;
	}
	char name[MDNAME_MAX + 1];
	if (f->needs_rename && mdname_format(&f->name, name)) {
		char *to = xasprintf("%s/cur/%s", m->path, name);
		if (rename(from, to) == 0) {
			free(f->file);
			f->file = xstrdup(name);
		} else {
			f->name.uid = 0; /* gone meanwhile: forget it */
		}
		free(to);
	}
	free(from);
}

bool mbox_sync(mbox *m, char **err_r)
{
	int lock = lock_folder(m->path);
	if (lock < 0) {
		*err_r = xasprintf("cannot lock %s: %s", m->path, strerror(errno));
		return false;
	}
	uidlist ul;
	bool ul_dirty = false;
	if (!uidlist_read(m->path, &ul)) {
		ul = (uidlist){.uidvalidity = uidlist_new_validity(m->path), .uidnext = 1};
		ul_dirty = true;
		if (ul.uidvalidity == 0) {
			*err_r = xasprintf("cannot give %s a UIDVALIDITY: %s", m->path, strerror(errno));
			close(lock);
			return false;
		}
	}
	scan s = {0};
	bool ok = read_dir(m->path, "cur", &s, err_r) && read_dir(m->path, "new", &s, err_r) &&
	          assign(m, &s, &ul, ul_dirty, err_r);
	for (size_t i = 0; ok && i < s.n; i++)
		intake(m, &s.v[i]);
	if (ok) {
		msgs_free(m);
		if (s.n > 0)
			qsort(s.v, s.n, sizeof(found), by_uid);
		m->msgs = xcalloc(s.n + 1, sizeof(mbox_msg));
		for (size_t i = 0; i < s.n; i++) {
			found *f = &s.v[i];
			append_found(m, f);
		}
		m->uidvalidity = ul.uidvalidity;
		m->uidnext = ul.uidnext;
	}
	scan_free(&s);
	close(lock);
	return ok;
}

bool mbox_take_new(mbox *m, bool *full_r, char **err_r)
{
	*full_r = false;
	int lock = lock_folder(m->path);
	if (lock < 0) {
		*err_r = xasprintf("cannot lock %s: %s", m->path, strerror(errno));
		return false;
	}
	uidlist ul;
	scan s = {0};
	bool ok = true;
	if (!uidlist_read(m->path, &ul) || ul.uidvalidity != m->uidvalidity) {
		*full_r = true; /* nothing done here */
	} else if (!read_dir(m->path, "new", &s, err_r)) {
		ok = false;
	} else {
		uint32_t floor = m->n > 0 ? m->msgs[m->n - 1].uid + 1 : 1;
		bool behind = ul.uidnext < floor; /* the UID list fell behind cur/ */
		if (behind)
			ul.uidnext = floor;
		if (s.n > 0)
			qsort(s.v, s.n, sizeof(found), by_arrival);
		for (size_t i = 0; i < s.n && ok; i++) {
			if (ul.uidnext == UINT32_MAX) {
				*err_r = xstrdup("the folder has used up its UIDs");
				ok = false;
				break;
			}
			s.v[i].name.uid = ul.uidnext++;
			s.v[i].needs_rename = true;
		}
		if (ok && (s.n > 0 || behind) && !uidlist_write(m->path, &ul)) {
			*err_r = xasprintf("cannot write the UID list of %s: %s", m->path, strerror(errno));
			ok = false;
		}
		m->msgs = ok ? xrealloc(m->msgs, (m->n + s.n + 1) * sizeof(mbox_msg)) : m->msgs;
		for (size_t i = 0; ok && i < s.n; i++) {
			found *f = &s.v[i];
			intake(m, f);
			append_found(m, f);
		}
		if (ok)
			m->uidnext = ul.uidnext;
	}
	scan_free(&s);
	close(lock);
	return ok;
}

mbox *mbox_open(const char *path, char **err_r)
{
	if (!store_make_maildir(path, false, err_r))
		return NULL;
	mbox *m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(path);
	if (!mbox_sync(m, err_r))
		mbox_free(&m);
	return m;
}

void mbox_free(mbox **mp)
{
	mbox *m = *mp;
	if (m == NULL)
		return;
	msgs_free(m);
	free(m->path);
	free(m);
	*mp = NULL;
}

long mbox_find(const mbox *m, uint32_t uid)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->msgs[mid].uid == uid)
			return (long)mid;
		if (m->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

char *mbox_msg_path(const mbox *m, size_t i)
{
	return xasprintf("%s/cur/%s", m->path, m->msgs[i].file);
}

bool mbox_expunge(mbox *m, const uint32_t *uids, size_t n, char **err_r)
{
	bool ok = true;
	for (size_t k = 0; k < n; k++) {
		long i = mbox_find(m, uids[k]);
		if (i < 0)
			continue;
		char *p = mbox_msg_path(m, (size_t)i);
		if (unlink(p) != 0 && errno != ENOENT) {
			if (ok)
				*err_r = xasprintf("cannot remove %s: %s", p, strerror(errno));
			ok = false;
			free(p);
			continue;
		}
		free(p);
		free(m->msgs[i].file);
		memmove(&m->msgs[i], &m->msgs[i + 1], (m->n - (size_t)i - 1) * sizeof(mbox_msg));
		m->n--;
	}
	char *cur = xasprintf("%s/cur", m->path);
	fs_fsync_dir(cur);
	free(cur);
	return ok;
}

/* The name in folder/cur of the file once called name now (malloc'd), or
 * NULL: the same base and UID, whatever the flags. */
static char *locate_name(const char *folder, const char *name)
{
	mdname want;
	if (!mdname_parse(name, &want))
		return NULL;
	char *cur = xasprintf("%s/cur", folder);
	DIR *d = opendir(cur);
	free(cur);
	if (d == NULL)
		return NULL;
	char *hit = NULL;
	struct dirent *e;
	while (hit == NULL && (e = readdir(d)) != NULL) {
		mdname n;
		if (mdname_parse(e->d_name, &n) && n.uid == want.uid && strcmp(n.base, want.base) == 0)
			hit = xstrdup(e->d_name);
	}
	closedir(d);
	return hit;
}

char *mbox_file_locate(const char *folder, const char *name)
{
	char *path = xasprintf("%s/cur/%s", folder, name);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	char *now = locate_name(folder, name);
	path = now ? xasprintf("%s/cur/%s", folder, now) : NULL;
	free(now);
	return path;
}

char *mbox_locate(const mbox *m, size_t i)
{
	return mbox_file_locate(m->path, m->msgs[i].file);
}

char *mbox_read(const mbox *m, size_t i, size_t max, size_t *len_r)
{
	char *path = mbox_msg_path(m, i);
	char *data = fs_read_file(path, max, len_r);
	free(path);
	if (data == NULL && errno == ENOENT && (path = mbox_locate(m, i)) != NULL) {
		data = fs_read_file(path, max, len_r);
		free(path);
	}
	return data;
}

bool mbox_relocate(mbox *m, size_t i)
{
	char *name = locate_name(m->path, m->msgs[i].file);
	if (name == NULL)
		return false;
	mdname n;
	mdname_parse(name, &n);
	free(m->msgs[i].file);
	m->msgs[i].file = name;
	m->msgs[i].flags = n.flags;
	m->msgs[i].kw = kw_of(n.other);
	return true;
}

bool mbox_set_flags(mbox *m, size_t i, unsigned flags, uint32_t kw, char **err_r)
{
	mdname n;
	char name[MDNAME_MAX + 1];
	if (!mdname_parse(m->msgs[i].file, &n)) {
		*err_r = xstrdup("not a message file name");
		return false;
	}
	n.flags = flags;
	kw_letters(kw, n.other);
	if (!mdname_format(&n, name)) {
		*err_r = xstrdup("file name too long");
		return false;
	}
	if (strcmp(name, m->msgs[i].file) == 0)
		return true;
	char *from = mbox_msg_path(m, i);
	char *to = xasprintf("%s/cur/%s", m->path, name);
	bool ok = rename(from, to) == 0;
	if (!ok && errno == ENOENT && mbox_relocate(m, i)) {
		/* another session renamed it (its flags): once more, from there */
		free(from);
		from = mbox_msg_path(m, i);
		ok = rename(from, to) == 0;
	}
	if (ok) {
		free(m->msgs[i].file);
		m->msgs[i].file = xstrdup(name);
		m->msgs[i].flags = flags;
		m->msgs[i].kw = kw;
	} else {
		*err_r = xasprintf("cannot rename %s: %s", from, strerror(errno));
	}
	free(from);
	free(to);
	return ok;
}
