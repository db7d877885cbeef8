/* test_smtpc_hold.c — an idle connection taken out of the pool and held
 * while DANE's look-ups run (smtpc_conn_hold, outbound.c on_grant): the
 * server saying goodbye meanwhile closes it quietly, without calling back
 * into the pool entry it left (freed when it was taken: under ASan a
 * use-after-free without the hold), and the next job on it finds it stale.
 * The server is a script on the far end of a bufferevent pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/connpool.h"
#include "delivery/smtpc.h"

static struct event_base *base;
static bool in_data;
static int jobs_done;

/* The server's side: a reply to every command. */
static void server_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	char *line;
	size_t n;
	while ((line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_CRLF)) != NULL) {
		const char *reply = NULL;
		if (in_data) {
			if (strcmp(line, ".") == 0) {
				in_data = false;
				reply = "250 2.0.0 queued\r\n";
			}
		} else if (strncmp(line, "EHLO", 4) == 0) {
			reply = "250 server\r\n";
		} else if (strncmp(line, "DATA", 4) == 0) {
			in_data = true;
			reply = "354 go on\r\n";
		} else if (strncmp(line, "QUIT", 4) == 0) {
			reply = "221 bye\r\n";
		} else {
			reply = "250 ok\r\n";
		}
		if (reply != NULL)
			bufferevent_write(bev, reply, strlen(reply));
		free(line);
	}
}

static void job_done(smtpc_job *job)
{
	(void)job;
	jobs_done++;
}

static void turns(int n)
{
	for (int i = 0; i < n; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static const char *const rcpts[] = {"bob@remote.test"};

static void job_init(smtpc_job *j)
{
	memset(j, 0, sizeof(*j));
	j->base = base;
	j->keep = true;
	j->helo = "client.test";
	j->mx_host = "mx.remote.test";
	j->sender = "alice@local.test";
	j->rcpts = rcpts;
	j->n_rcpts = 1;
	j->body = "Subject: x\n\nhello\n";
	j->body_len = strlen(j->body);
	j->connect_timeout = j->command_timeout = j->data_timeout = 5;
	j->done = job_done;
}

static void granted(void *arg, smtpc_conn *idle)
{
	(void)arg;
	(void)idle;
	fail_msg("not expected to wait");
}

static void test_held_connection_closed_by_server(void **state)
{
	(void)state;
	base = event_base_new();
	struct bufferevent *pair[2];
	assert_int_equal(bufferevent_pair_new(base, 0, pair), 0);
	bufferevent_setcb(pair[1], server_read, NULL, NULL, NULL);
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	bufferevent_write(pair[1], "220 server ready\r\n", 18);

	connpool *cp = connpool_new(base, 10, 10);
	smtpc_conn *idle = NULL;
	assert_true(connpool_acquire(cp, "remote.test", granted, NULL, &idle));
	assert_null(idle);
	smtpc_job job;
	job_init(&job);
	job.given_bev = pair[0];
	smtpc_start(&job);
	turns(50);
	assert_int_equal(jobs_done, 1);
	assert_int_equal(job.codes[0], 250);
	smtpc_conn *conn = job.kept;
	assert_non_null(conn);
	job.kept = NULL;
	smtpc_job_clear(&job);
	connpool_release(cp, "remote.test", conn); /* parked, idle */

	assert_true(connpool_acquire(cp, "remote.test", granted, NULL, &idle));
	assert_ptr_equal(idle, conn);
	smtpc_conn_hold(idle);
	/* the server gives up on it while the look-ups run */
	bufferevent_write(pair[1], "421 4.4.2 idle too long\r\n", 25);
	turns(20);
	bufferevent_free(pair[1]);
	turns(20);

	smtpc_job again;
	job_init(&again);
	again.reuse = idle;
	smtpc_start(&again);
	turns(20);
	assert_int_equal(jobs_done, 2);
	assert_true(again.stale);
	assert_null(again.kept);
	smtpc_job_clear(&again); /* the job freed the dead connection */
	connpool_release(cp, "remote.test", NULL);
	turns(20);
	connpool_free(&cp);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_connection_closed_by_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
