/* cmd_queue.c — `yubin queue list|show ID|delete ID`: reads the queue
 * folder directly, so it shows the true state while the server runs; the
 * list also names the quarantined (damaged) files and why. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/control.h"
#include "delivery/routestate.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "queue/qscan.h"

static char *active_path(cli_ctx *ctx, const char *id)
{
	char *root = config_path_queue(ctx->cfg);
	char *p = xasprintf("%s/active/%s", root, id);
	free(root);
	return p;
}

static void print_entry(const qenvelope *env, size_t body_len, time_t now)
{
	long age = (long)(now - env->time);
	printf("%s  age=%lds  size=%zu  from=<%s>", env->id, age, body_len, env->sender);
	if (env->attempts > 0)
		printf("  attempts=%d  next=%+lds", env->attempts, (long)(env->next_attempt - now));
	if (env->held)
		printf("  HELD");
	putchar('\n');
	for (size_t i = 0; i < env->n_rcpts; i++) {
		const qrcpt *r = &env->rcpts[i];
		const char *state = r->done ? "delivered" : r->failed ? "bounced"
		                  : r->kind == 'L' ? "local-pending"
		                  : r->last_reply ? "deferred" : "remote-queued";
		printf("    to=<%s>  %s", r->address, state);
		if (r->last_reply != NULL && !r->done)
			printf("  last=\"%s\"", r->last_reply);
		putchar('\n');
	}
}

/* Files in corrupt/: set aside by delivery, never delivered. */
static size_t list_quarantined(const char *root)
{
	strlist ids;
	strlist_init(&ids);
	qscan_ids(root, "corrupt", &ids);
	for (size_t i = 0; i < ids.n; i++) {
		char *p = xasprintf("%s/corrupt/%s", root, ids.items[i]);
		size_t len, body_len;
		char *data;
		qenvelope env;
		const char *why = qscan_read(p, &len, &data, &env, &body_len);
		if (why == NULL) {
			qenvelope_free(&env);
			why = "it reads now; move it back to active/ to deliver it";
		}
		printf("%s  QUARANTINED  size=%zu  reason=\"%s\"\n", ids.items[i], len, why);
		free(data);
		free(p);
	}
	size_t n = ids.n;
	strlist_free(&ids);
	return n;
}

static int queue_list(cli_ctx *ctx)
{
	char *root = config_path_queue(ctx->cfg);
	strlist ids;
	strlist_init(&ids);
	qscan_ids(root, "active", &ids);
	time_t now = time(NULL);
	size_t shown = 0;
	for (size_t i = 0; i < ids.n; i++) {
		char *p = active_path(ctx, ids.items[i]);
		size_t len, body_len;
		char *data;
		qenvelope env;
		const char *why = qscan_read(p, &len, &data, &env, &body_len);
		if (why == NULL) {
			print_entry(&env, body_len, now);
			qenvelope_free(&env);
			shown++;
		} else if (errno != ENOENT || data != NULL) {
			/* delivery quarantines it on its next look */
			printf("%s  DAMAGED  size=%zu  reason=\"%s\"\n", ids.items[i], len, why);
		}
		free(data);
		free(p);
	}
	size_t bad = list_quarantined(root);
	printf("%zu message%s in the queue", shown, shown == 1 ? "" : "s");
	if (bad > 0)
		printf(", %zu quarantined", bad);
	putchar('\n');
	char *route = routestate_describe(ctx->cfg);
	printf("route: %s\n", route);
	free(route);
	strlist_free(&ids);
	free(root);
	return 0;
}

static int queue_show(cli_ctx *ctx, const char *id)
{
	char *p = active_path(ctx, id);
	size_t len, body_len;
	char *data = fs_read_file(p, QSCAN_FILE_MAX, &len);
	free(p);
	if (data == NULL) {
		cli_error("no message %s in the queue", id);
		return 1;
	}
	qenvelope env;
	const char *body, *err;
	if (!qfile_parse(data, len, &env, &body, &body_len, &err)) {
		cli_error("queue file %s is damaged: %s", id, err);
		free(data);
		return 1;
	}
	print_entry(&env, body_len, time(NULL));
	printf("    client=%s helo=%s auth=%s\n\n", env.client, env.helo,
	       env.auth_user ? env.auth_user : "-");
	fwrite(body, 1, body_len, stdout);
	qenvelope_free(&env);
	free(data);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The running server deletes it (so its schedule forgets the message and
 * its log says so); without one, the file is removed here. */
static int queue_delete(cli_ctx *ctx, const char *id)
{
	char *req = xasprintf("delete %s", id);
	int rc = control_try_request(ctx->cfg, req);
	free(req);
	if (rc != -1)
		return rc;
	char *p = active_path(ctx, id);
	rc = unlink(p) == 0 ? 0 : 1;
	if (rc == 0) {
		log_event(LOG_LVL_INFO, "queue_delete", "qid=%s", id);
		printf("%s deleted\n", id);
	} else
		cli_error("cannot delete %s: %s", id, errno == ENOENT ? "no such message" : strerror(errno));
	free(p);
	return rc;
}

int cmd_queue(cli_ctx *ctx, int argc, char **argv)
{
	if (!cli_drop_privileges(ctx))
		return 1;
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return queue_list(ctx);
	if (argc == 2 && strcmp(argv[1], "flush") == 0)
		return control_request(ctx->cfg, "flush");
	if (argc == 3 && (strcmp(argv[1], "flush") == 0 || strcmp(argv[1], "hold") == 0 ||
	                  strcmp(argv[1], "release") == 0 || strcmp(argv[1], "bounce") == 0)) {
		if (!qid_valid(argv[2])) {
			cli_error("%s is not a queue id", argv[2]);
			return 1;
		}
		char *req = xasprintf("%s %s", argv[1], argv[2]);
		int rc = control_request(ctx->cfg, req);
		free(req);
		return rc;
	}
	if (argc == 3 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "delete") == 0)) {
		if (!qid_valid(argv[2])) {
			cli_error("%s is not a queue id", argv[2]);
			return 1;
		}
		return argv[1][0] == 's' ? queue_show(ctx, argv[2]) : queue_delete(ctx, argv[2]);
	}
	fprintf(stderr, "usage: yubin queue list | show ID | delete ID | flush [ID] | hold ID | release ID | bounce ID\n");
	return 2;
}
