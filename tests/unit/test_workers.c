/* test_workers.c — the worker pool's two lanes: a quick job completes while
 * every general thread is held inside a slow job (an fsync, say), general
 * threads still take quick jobs when the pool has no quick-lane thread, and
 * every done function runs on the loop in the order the jobs finished. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "lib/workers.h"

typedef struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	int done;               /* slow jobs completed on the loop */
	int quick_done;         /* quick jobs completed on the loop */
	char order[8];          /* 's' or 'q' per completion, in order */
	int n_order;
	struct event_base *base;
} gate;

static void slow_work(void *arg)
{
	gate *g = arg;
	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void slow_done(void *arg)
{
	gate *g = arg;
	g->done++;
	g->order[g->n_order++] = 's';
}

static void quick_work(void *arg)
{
	(void)arg;
}

static void quick_done(void *arg)
{
	gate *g = arg;
	g->quick_done++;
	g->order[g->n_order++] = 'q';
	event_base_loopbreak(g->base);
}

static void open_gate(gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* Run the loop until a quick job completes or 5 s pass. */
static void run_until_quick(gate *g)
{
	struct timeval tv = {5, 0};
	event_base_loopexit(g->base, &tv);
	event_base_dispatch(g->base);
}

static void test_quick_lane_passes_held_general_threads(void **state)
{
	(void)state;
	gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	g.base = event_base_new();
	workers *w = workers_new(g.base, 2, 1);
	workers_submit(w, slow_work, slow_done, &g);
	workers_submit(w, slow_work, slow_done, &g);
	workers_submit(w, slow_work, slow_done, &g); /* queued behind the two */
	workers_submit_quick(w, quick_work, quick_done, &g);
	run_until_quick(&g);
	assert_int_equal(g.quick_done, 1); /* done, with both general threads held */
	assert_int_equal(g.done, 0);
	assert_int_equal(workers_pending(w), 3);
	open_gate(&g);
	workers_free(&w); /* finishes the queued slow job too */
	assert_int_equal(g.done, 3);
	event_base_free(g.base);
}

static void test_general_threads_take_quick_jobs(void **state)
{
	(void)state;
	gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .open = true};
	g.base = event_base_new();
	workers *w = workers_new(g.base, 1, 0);
	workers_submit_quick(w, quick_work, quick_done, &g);
	run_until_quick(&g);
	assert_int_equal(g.quick_done, 1);
	workers_free(&w);
	event_base_free(g.base);
}

static void test_quick_jobs_go_first(void **state)
{
	(void)state;
	/* one general thread, held: a slow and a quick job queue behind it;
	 * when it is released the quick one runs before the slow one (done
	 * functions run in the order the jobs finished) */
	gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	g.base = event_base_new();
	workers *w = workers_new(g.base, 1, 0);
	workers_submit(w, slow_work, slow_done, &g);
	workers_submit(w, slow_work, slow_done, &g);
	workers_submit_quick(w, quick_work, quick_done, &g);
	open_gate(&g);
	run_until_quick(&g);
	workers_free(&w);
	assert_int_equal(g.quick_done, 1);
	assert_int_equal(g.done, 2);
	assert_int_equal(g.n_order, 3);
	/* the thread may have held the first slow job, or not yet started */
	assert_true(memcmp(g.order, "sqs", 3) == 0 || memcmp(g.order, "qss", 3) == 0);
	event_base_free(g.base);
}

int main(void)
{
	evthread_use_pthreads();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quick_lane_passes_held_general_threads),
		cmocka_unit_test(test_general_threads_take_quick_jobs),
		cmocka_unit_test(test_quick_jobs_go_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
