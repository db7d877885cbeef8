/* workers.c — thread pool with completion back to the libevent loop (see
 * workers.h).  Completion is signalled through a pipe; the loop drains every
 * finished job at once. */
#include "lib/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/strutil.h"

typedef struct job {
	struct job *next;
	workers_fn *work;
	workers_fn *done;
	void *arg;
} job;

typedef struct lane {
	job *head, *tail;
} lane;

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* general threads: a job in either lane */
	pthread_cond_t quick_cond;  /* quick-lane threads: a quick job */
	lane todo, quick;
	job *finished;          /* LIFO of completed jobs */
	bool stopping;
	int n_threads, n_quick;
	int idle_quick;         /* quick-lane threads waiting for a job */
	pthread_t *threads;     /* the general ones, then the quick-lane ones */
	int pipe_r, pipe_w;
	struct event *ev;
	unsigned pending;       /* loop thread only */
};

static job *lane_pop(lane *l)
{
	job *j = l->head;
	if (j != NULL) {
		l->head = j->next;
		if (l->head == NULL)
			l->tail = NULL;
	}
	return j;
}

static void lane_push(lane *l, job *j)
{
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

/* One thread's loop: a general thread takes quick jobs first, then the
 * others; a quick-lane thread takes only quick jobs.  Under w->lock. */
static void run_jobs(workers *w, bool quick_only)
{
	pthread_cond_t *cond = quick_only ? &w->quick_cond : &w->cond;
	for (;;) {
		while (w->quick.head == NULL && (quick_only || w->todo.head == NULL) && !w->stopping) {
			w->idle_quick += quick_only;
			pthread_cond_wait(cond, &w->lock);
			w->idle_quick -= quick_only;
		}
		job *j = lane_pop(&w->quick);
		if (j == NULL && !quick_only)
			j = lane_pop(&w->todo);
		if (j == NULL)
			break; /* stopping and nothing left this thread may take */
		pthread_mutex_unlock(&w->lock);
		j->work(j->arg);
		pthread_mutex_lock(&w->lock);
		bool was_empty = w->finished == NULL;
		j->next = w->finished;
		w->finished = j;
		if (was_empty) {
			char c = 1;
			while (write(w->pipe_w, &c, 1) < 0 && errno == EINTR)
				;
		}
	}
}

static void *general_main(void *p)
{
	workers *w = p;
	pthread_mutex_lock(&w->lock);
	run_jobs(w, false);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void *quick_main(void *p)
{
	workers *w = p;
	pthread_mutex_lock(&w->lock);
	run_jobs(w, true);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Run the done functions of every finished job, oldest first. */
static void drain_finished(workers *w)
{
	char tmp[64];
	while (read(w->pipe_r, tmp, sizeof tmp) > 0)
		;
	pthread_mutex_lock(&w->lock);
	job *list = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->lock);
	job *rev = NULL;
	while (list != NULL) {
		job *n = list->next;
		list->next = rev;
		rev = list;
		list = n;
	}
	while (rev != NULL) {
		job *n = rev->next;
		w->pending--;
		if (rev->done != NULL)
			rev->done(rev->arg);
		free(rev);
		rev = n;
	}
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	drain_finished(arg);
}

workers *workers_new(struct event_base *base, int n, int n_quick)
{
	workers *w = xcalloc(1, sizeof(*w));
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		abort();
	w->pipe_r = fds[0];
	w->pipe_w = fds[1];
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->quick_cond, NULL);
	w->ev = event_new(base, w->pipe_r, EV_READ | EV_PERSIST, on_pipe, w);
	event_add(w->ev, NULL);
	w->n_threads = n;
	w->n_quick = n_quick;
	w->threads = xcalloc((size_t)(n + n_quick), sizeof(pthread_t));
	for (int i = 0; i < n + n_quick; i++)
		if (pthread_create(&w->threads[i], NULL, i < n ? general_main : quick_main, w) != 0)
			abort();
	return w;
}

static void submit(workers *w, bool quick, workers_fn *work, workers_fn *done, void *arg)
{
	if (w->stopping) {
		/* during shutdown the threads are gone: finish the job here */
		work(arg);
		if (done != NULL)
			done(arg);
		return;
	}
	job *j = xmalloc(sizeof(*j));
	*j = (job){.next = NULL, .work = work, .done = done, .arg = arg};
	w->pending++;
	pthread_mutex_lock(&w->lock);
	lane_push(quick ? &w->quick : &w->todo, j);
	/* a quick job wakes an idle quick-lane thread if there is one, else a
	 * general thread (one wake-up a job: a thread woken for nothing is a
	 * context switch on every message) */
	pthread_cond_signal(quick && w->idle_quick > 0 ? &w->quick_cond : &w->cond);
	pthread_mutex_unlock(&w->lock);
}

void workers_submit(workers *w, workers_fn *work, workers_fn *done, void *arg)
{
	submit(w, false, work, done, arg);
}

void workers_submit_quick(workers *w, workers_fn *work, workers_fn *done, void *arg)
{
	submit(w, true, work, done, arg);
}

unsigned workers_pending(const workers *w)
{
	return w->pending;
}

void workers_free(workers **wp)
{
	workers *w = *wp;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	pthread_cond_broadcast(&w->quick_cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->n_threads + w->n_quick; i++)
		pthread_join(w->threads[i], NULL);
	drain_finished(w);
	event_free(w->ev);
	close(w->pipe_r);
	close(w->pipe_w);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->quick_cond);
	free(w->threads);
	free(w);
	*wp = NULL;
}
