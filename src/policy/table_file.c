/* table_file.c — the "file" list backend: one entry per line, blank lines
 * and # comments (a whole line, or after a blank) ignored.  The file is
 * looked at (stat) at most once a second; when its identity, size or
 * modification time changed, it is read whole into a new set that replaces
 * the old one only if every line was good.  A file that disappears, cannot
 * be read or has a bad line leaves the list as it was and is logged once
 * per change of the file.  At start-up (and `yubin config check`) the file
 * must exist and be good: a misspelt path would otherwise block nothing. */
#include "policy/table.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"

/* A line holds one entry and maybe a comment. */
#define FILE_LINE_MAX 4096

typedef struct file_state {
	char *name, *path;
	tableset *set;
	time_t last_check;
	struct stat seen;     /* the version last read (good or not) */
	bool missing;         /* the last stat failed (logged once) */
} file_state;

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The entry of one line, cut in place (NULL for none). */
static char *line_entry(char *line)
{
	for (char *p = line; *p; p++)
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	char *end = line + strlen(line);
	while (end > line && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	return *line != '\0' ? line : NULL;
}

/* Read path into a new set; problems as "path:line: list NAME: sentence"
 * in errs.  st_r: the version read. */
static tableset *file_load(const char *name, const char *path, struct stat *st_r, strlist *errs)
{
	FILE *f = fopen(path, "r");
	if (f == NULL || fstat(fileno(f), st_r) != 0) {
		strlist_add_owned(errs, xasprintf("%s: list %s: %s", path, name, strerror(errno)));
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	tableset *s = tableset_new();
	char line[FILE_LINE_MAX + 2];
	unsigned long lineno = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			strlist_add_owned(errs, xasprintf("%s:%lu: list %s: the line is longer than %d bytes", path,
			                                  lineno, name, FILE_LINE_MAX));
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		char *entry = line_entry(line);
		char *why = NULL;
		if (entry != NULL && !tableset_add(s, entry, &why)) {
			strlist_add_owned(errs, xasprintf("%s:%lu: list %s: %s", path, lineno, name, why));
			free(why);
		}
		if (errs->n >= 20)
			break; /* enough to fix first */
	}
	if (ferror(f))
		strlist_add_owned(errs, xasprintf("%s: list %s: %s", path, name, strerror(errno)));
	fclose(f);
	if (errs->n > 0) {
		tableset_free(&s);
		return NULL;
	}
	tableset_seal(s);
	return s;
}

static void *file_open(const table_config *cfg, strlist *errors)
{
	if (cfg->path == NULL || *cfg->path == '\0') {
		table_config_error(errors, cfg, "a file list needs path = \"...\"");
		return NULL;
	}
	if (access(cfg->path, R_OK) != 0) {
		table_config_error(errors, cfg, "cannot read %s: %s (an empty file makes an empty list)", cfg->path,
		                   strerror(errno));
		return NULL;
	}
	strlist errs;
	strlist_init(&errs);
	struct stat st;
	tableset *s = file_load(cfg->name, cfg->path, &st, &errs);
	for (size_t i = 0; i < errs.n; i++)
		strlist_add(errors, errs.items[i]);
	strlist_free(&errs);
	if (s == NULL)
		return NULL;
	file_state *fs = xcalloc(1, sizeof(*fs));
	fs->name = xstrdup(cfg->name);
	fs->path = xstrdup(cfg->path);
	fs->set = s;
	fs->seen = st;
	fs->last_check = time(NULL);
	return fs;
}

static const tableset *file_current(void *state, time_t now)
{
	file_state *fs = state;
	if (now == fs->last_check)
		return fs->set;
	fs->last_check = now;
	struct stat st;
	if (stat(fs->path, &st) != 0) {
		if (!fs->missing) /* once, not every second */
			table_log_problem(fs->name, fs->path, strerror(errno));
		fs->missing = true;
		return fs->set;
	}
	fs->missing = false;
	if (same_version(&st, &fs->seen))
		return fs->set;
	strlist errs;
	strlist_init(&errs);
	/* read once per version: a bad version is logged once */
	tableset *s = file_load(fs->name, fs->path, &fs->seen, &errs);
	if (s == NULL) {
		table_log_problem(fs->name, fs->path, errs.n > 0 ? errs.items[0] : "unreadable");
	} else {
		tableset_free(&fs->set);
		fs->set = s;
		log_event(LOG_LVL_INFO, "policy_list", "list=%s source=%s action=reloaded entries=%zu", fs->name,
		          fs->path, tableset_entries(s)->n);
	}
	strlist_free(&errs);
	return fs->set;
}

/* Whether line holds entry (normalised as tableset_check does). */
static bool line_is(const char *line, const char *entry)
{
	char copy[FILE_LINE_MAX + 2];
	snprintf(copy, sizeof copy, "%s", line);
	char *e = line_entry(copy), *norm = NULL, *why = NULL;
	bool is = e != NULL && tableset_check(e, &norm, &why) && strcmp(norm, entry) == 0;
	free(norm);
	free(why);
	return is;
}

/* Write text to path through a temporary file in the same folder, synced
 * and renamed into place, with the old file's mode. */
static bool replace_file(const char *path, const char *text, size_t len, mode_t mode, char **err_r)
{
	char *tmp = xasprintf("%s.yubin-tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	bool ok = fd >= 0 && fchmod(fd, mode & 07777) == 0;
	for (size_t off = 0; ok && off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		ok = n > 0;
		off += ok ? (size_t)n : 0;
	}
	ok = ok && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = false;
	ok = ok && rename(tmp, path) == 0;
	if (!ok) {
		*err_r = xasprintf("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

/* Append the entry, or drop every line that holds it; comments stay. */
static bool file_edit(void *state, bool add, const char *entry, bool *changed_r, char **err_r)
{
	file_state *fs = state;
	FILE *f = fopen(fs->path, "r");
	struct stat st;
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		*err_r = xasprintf("cannot read %s: %s", fs->path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return false;
	}
	buf out;
	buf_init(&out, BUF_UNBOUNDED);
	char line[FILE_LINE_MAX + 2];
	bool found = false, newline = true;
	while (fgets(line, sizeof line, f) != NULL) {
		bool is = line_is(line, entry);
		found = found || is;
		if (!(is && !add))
			BUF_PUTS(&out, line);
		newline = line[strlen(line) - 1] == '\n';
	}
	bool ok = !ferror(f);
	fclose(f);
	if (!ok) {
		*err_r = xasprintf("cannot read %s", fs->path);
	} else if (add != found) {
		if (add)
			BUF_PRINTF(&out, "%s%s\n", newline ? "" : "\n", entry);
		ok = replace_file(fs->path, buf_str(&out), out.len, st.st_mode, err_r);
		*changed_r = ok;
	}
	buf_free(&out);
	return ok;
}

static void file_close(void *state)
{
	file_state *fs = state;
	tableset_free(&fs->set);
	free(fs->name);
	free(fs->path);
	free(fs);
}

const table_backend table_backend_file = {
	.type = "file",
	.open = file_open,
	.current = file_current,
	.edit = file_edit,
	.close = file_close,
};
