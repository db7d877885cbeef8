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

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	job *todo_head, *todo_tail;
	job *finished;          /* LIFO of completed jobs */
	bool stopping;
	int n_threads;
	pthread_t *threads;
	int pipe_r, pipe_w;
	struct event *ev;
	unsigned pending;       /* loop thread only */
};

static void *worker_main(void *p)
{
	workers *w = p;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->todo_head == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		job *j = w->todo_head;
		if (j == NULL)
			break; /* stopping and nothing left */
		w->todo_head = j->next;
		if (w->todo_head == NULL)
			w->todo_tail = NULL;
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

workers *workers_new(struct event_base *base, int n)
{
	workers *w = xcalloc(1, sizeof(*w));
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		abort();
	w->pipe_r = fds[0];
	w->pipe_w = fds[1];
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->ev = event_new(base, w->pipe_r, EV_READ | EV_PERSIST, on_pipe, w);
	event_add(w->ev, NULL);
	w->n_threads = n;
	w->threads = xcalloc((size_t)n, sizeof(pthread_t));
	for (int i = 0; i < n; i++)
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			abort();
	return w;
}

void workers_submit(workers *w, workers_fn *work, workers_fn *done, void *arg)
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
	if (w->todo_tail)
		w->todo_tail->next = j;
	else
		w->todo_head = j;
	w->todo_tail = j;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
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
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	drain_finished(w);
	event_free(w->ev);
	close(w->pipe_r);
	close(w->pipe_w);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->threads);
	free(w);
	*wp = NULL;
}
