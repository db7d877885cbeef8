/* scripts.c — the ManageSieve commands on an account's scripts (RFC 5804
 * §2.5-2.12): arguments checked on the loop, the check and the file work
 * (store.c, check.c) on a worker, the reply back on the loop.  The session
 * reads nothing while a job runs, so replies keep their order. */
#include "managesieve/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "sieve/upload.h"
#include "store/sievestore.h"

/* Reading back a script: the largest the configuration allows. */
#define GET_MAX ((size_t)16 * 1024 * 1024)

typedef enum job_op {
	OP_HAVESPACE, OP_PUT, OP_CHECK, OP_LIST, OP_SETACTIVE, OP_GET, OP_DELETE, OP_RENAME
} job_op;

static const char *const op_names[] = {"havespace", "putscript", "checkscript", "listscripts",
                                       "setactive", "getscript", "deletescript", "renamescript"};

typedef struct job {
	msieve_session *s;
	job_op op;
	const char *dir;         /* the session's, which outlives the job */
	int max_scripts;
	char *name, *name2;      /* name2: RENAMESCRIPT's new name */
	char *text;              /* PUTSCRIPT / CHECKSCRIPT in, GETSCRIPT out */
	size_t len;
	sieve_upload_status check;
	char *msg;               /* the checker's errors or warnings */
	sievestore_status st;
	int err;                 /* errno of SIEVESTORE_ERROR */
	sievestore_script *list;
	size_t n;
} job;

static void job_free(job *j)
{
	free(j->name);
	free(j->name2);
	free(j->text);
	free(j->msg);
	sievestore_scripts_free(&j->list, j->n);
	free(j);
}

static void work(void *arg)
{
	job *j = arg;
	j->st = SIEVESTORE_OK;
	j->check = SIEVE_UPLOAD_OK;
	if (j->op == OP_PUT || j->op == OP_CHECK) {
		j->check = sieve_upload_check(j->text, j->len, &j->msg);
		if (j->check == SIEVE_UPLOAD_ERROR || j->op == OP_CHECK)
			return;
	}
	switch (j->op) {
	case OP_HAVESPACE: j->st = sievestore_havespace(j->dir, j->name, j->max_scripts); break;
	case OP_PUT: j->st = sievestore_put(j->dir, j->name, j->text, j->len, j->max_scripts); break;
	case OP_LIST: j->st = sievestore_list(j->dir, &j->list, &j->n); break;
	case OP_SETACTIVE: j->st = sievestore_activate(j->dir, j->name); break;
	case OP_GET:
		free(j->text);
		j->text = NULL;
		j->st = sievestore_get(j->dir, j->name, GET_MAX, &j->text, &j->len);
		break;
	case OP_DELETE: j->st = sievestore_delete(j->dir, j->name); break;
	case OP_RENAME: j->st = sievestore_rename(j->dir, j->name, j->name2); break;
	case OP_CHECK: break;
	}
	j->err = errno;
}

/* The reply to a check: NO with the errors, or OK (with the warnings). */
static bool check_reply(msieve_session *s, job *j, bool stored)
{
	if (j->check == SIEVE_UPLOAD_ERROR) {
		msieve_no(s, NULL, j->msg != NULL ? j->msg : "Invalid script");
		return true;
	}
	if (!stored)
		return false;
	if (j->check == SIEVE_UPLOAD_WARNINGS)
		msieve_ok(s, "WARNINGS", j->msg != NULL ? j->msg : "Script has warnings");
	else
		msieve_ok(s, NULL, j->op == OP_PUT ? "Script stored" : "Script is valid");
	return true;
}

static void list_reply(msieve_session *s, job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		msieve_put_string(s->c, j->list[i].name, strlen(j->list[i].name));
		conn_puts(s->c, j->list[i].active ? " ACTIVE\r\n" : "\r\n");
	}
	msieve_ok(s, NULL, "Listscripts completed");
}

static void store_reply(msieve_session *s, job *j)
{
	switch (j->st) {
	case SIEVESTORE_OK:
		if (j->op == OP_LIST) {
			list_reply(s, j);
		} else if (j->op == OP_GET) {
			conn_printf(s->c, "{%zu}\r\n", j->len);
			conn_write(s->c, j->text, j->len);
			conn_puts(s->c, "\r\n");
			msieve_ok(s, NULL, "Getscript completed");
		} else if (!check_reply(s, j, j->op == OP_PUT || j->op == OP_CHECK)) {
			msieve_ok(s, NULL, "Done");
		}
		break;
	case SIEVESTORE_NONEXISTENT: msieve_no(s, "NONEXISTENT", "There is no script by that name"); break;
	case SIEVESTORE_ALREADYEXISTS: msieve_no(s, "ALREADYEXISTS", "A script by that name exists already"); break;
	case SIEVESTORE_ACTIVE: msieve_no(s, "ACTIVE", "The active script cannot be deleted"); break;
	case SIEVESTORE_MAXSCRIPTS: msieve_no(s, "QUOTA/MAXSCRIPTS", "Too many scripts"); break;
	case SIEVESTORE_ERROR:
		log_event(LOG_LVL_ERROR, "managesieve_store", "sid=%s user=%s op=%s error=\"%s\"", s->sid,
		          s->account, op_names[j->op], strerror(j->err));
		msieve_no(s, "TRYLATER", "Internal error; try again later");
		break;
	}
}

static void done(void *arg)
{
	job *j = arg;
	msieve_session *s = j->s;
	if (!conn_is_closing(s->c)) {
		if (!check_reply(s, j, false))
			store_reply(s, j);
		log_event(LOG_LVL_INFO, "managesieve", "sid=%s user=%s op=%s result=%s", s->sid, s->account,
		          op_names[j->op],
		          j->check == SIEVE_UPLOAD_ERROR ? "invalid" : j->st == SIEVESTORE_OK ? "ok" : "no");
	}
	job_free(j);
	conn_resume(s->c);
}

static job *job_new(msieve_session *s, job_op op)
{
	job *j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->op = op;
	j->dir = s->dir;
	j->max_scripts = s->srv->cfg->managesieve.max_scripts;
	return j;
}

static void run(msieve_session *s, job *j)
{
	conn_pause(s->c);
	workers_submit(s->srv->wk, work, done, j);
}

/* The script argument; false after a NO. */
static bool script_arg(msieve_session *s, const msieve_arg *a, job *j)
{
	if (a->type != MSIEVE_ARG_STRING) {
		msieve_bad(s, "A script is a string");
		return false;
	}
	if (a->len > (size_t)s->srv->cfg->managesieve.max_script_size) {
		msieve_no(s, "QUOTA/MAXSIZE", "Script is larger than the server allows");
		return false;
	}
	j->text = xmalloc(a->len + 1);
	memcpy(j->text, a->str, a->len);
	j->text[a->len] = '\0';
	j->len = a->len;
	return true;
}

void msieve_cmd_havespace(msieve_session *s, msieve_cmd *cmd)
{
	char *name = msieve_name_arg(s, &cmd->args[0]);
	if (name == NULL)
		return;
	if (cmd->args[1].type != MSIEVE_ARG_NUMBER) {
		free(name);
		msieve_bad(s, "HAVESPACE needs a name and a size");
		return;
	}
	if (cmd->args[1].num > (uint32_t)s->srv->cfg->managesieve.max_script_size) {
		free(name);
		msieve_no(s, "QUOTA/MAXSIZE", "Script is larger than the server allows");
		return;
	}
	job *j = job_new(s, OP_HAVESPACE);
	j->name = name;
	run(s, j);
}

void msieve_cmd_putscript(msieve_session *s, msieve_cmd *cmd)
{
	char *name = msieve_name_arg(s, &cmd->args[0]);
	if (name == NULL)
		return;
	job *j = job_new(s, OP_PUT);
	j->name = name;
	if (!script_arg(s, &cmd->args[1], j)) {
		job_free(j);
		return;
	}
	run(s, j);
}

void msieve_cmd_checkscript(msieve_session *s, msieve_cmd *cmd)
{
	job *j = job_new(s, OP_CHECK);
	if (!script_arg(s, &cmd->args[0], j)) {
		job_free(j);
		return;
	}
	run(s, j);
}

void msieve_cmd_listscripts(msieve_session *s, msieve_cmd *cmd)
{
	run(s, job_new(s, OP_LIST));
}

void msieve_cmd_setactive(msieve_session *s, msieve_cmd *cmd)
{
	const msieve_arg *a = &cmd->args[0];
	char *name = NULL;
	if (a->type != MSIEVE_ARG_STRING || a->len > 0) {
		name = msieve_name_arg(s, a);
		if (name == NULL)
			return;
	}
	job *j = job_new(s, OP_SETACTIVE);
	j->name = name; /* NULL: SETACTIVE "" deactivates */
	run(s, j);
}

static void one_name(msieve_session *s, msieve_cmd *cmd, job_op op)
{
	char *name = msieve_name_arg(s, &cmd->args[0]);
	if (name == NULL)
		return;
	job *j = job_new(s, op);
	j->name = name;
	run(s, j);
}

void msieve_cmd_getscript(msieve_session *s, msieve_cmd *cmd)
{
	one_name(s, cmd, OP_GET);
}

void msieve_cmd_deletescript(msieve_session *s, msieve_cmd *cmd)
{
	one_name(s, cmd, OP_DELETE);
}

void msieve_cmd_renamescript(msieve_session *s, msieve_cmd *cmd)
{
	char *from = msieve_name_arg(s, &cmd->args[0]);
	if (from == NULL)
		return;
	char *to = msieve_name_arg(s, &cmd->args[1]);
	if (to == NULL) {
		free(from);
		return;
	}
	job *j = job_new(s, OP_RENAME);
	j->name = from;
	j->name2 = to;
	run(s, j);
}
