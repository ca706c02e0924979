/*
 * The offload pool: routes flagged ROUTE_OFFLOAD (password hashing, ~0.2 s of
 * CPU and 64 MiB each) run on these threads while their connection is
 * suspended, so at most OFFLOAD_THREADS hashes run at once and no event
 * thread stalls on one. At most DANVAN_OFFLOAD_QUEUE more wait for a
 * thread: past that a caller is told to come back, since a queue without
 * end only makes every sign-in slower and every client time out. The pool
 * knows jobs, not connections.
 */
#include <pthread.h>
#include <stdlib.h>

#include "http/http.h"

#define OFFLOAD_THREADS 2

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct offload_job *head, *tail;
	pthread_t threads[OFFLOAD_THREADS];
	int started, quit;
	int admitted; /* reserved, queued or running */
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
	{ 0 }, 0, 0, 0 };

static void *
offload_main(void *arg)
{
	struct offload_job *job;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&pool.mu);
		while (pool.head == NULL && !pool.quit)
			pthread_cond_wait(&pool.cv, &pool.mu);
		if ((job = pool.head) == NULL) {
			pthread_mutex_unlock(&pool.mu);
			break;
		}
		if ((pool.head = job->next) == NULL)
			pool.tail = NULL;
		pthread_mutex_unlock(&pool.mu);
		/* job may be freed once it has run: it is not touched again. */
		job->run(job);
		pthread_mutex_lock(&pool.mu);
		pool.admitted--;
		pthread_mutex_unlock(&pool.mu);
	}
	return NULL;
}

void
offload_start(void)
{
	for (; pool.started < OFFLOAD_THREADS; pool.started++)
		if (pthread_create(&pool.threads[pool.started], NULL,
			offload_main, NULL) != 0)
			abort();
}

int
offload_reserve(void)
{
	int ok;

	pthread_mutex_lock(&pool.mu);
	if ((ok = pool.admitted < OFFLOAD_THREADS + cfg.offload_queue))
		pool.admitted++;
	pthread_mutex_unlock(&pool.mu);
	return ok ? 0 : -1;
}

void
offload_push(struct offload_job *job)
{
	pthread_mutex_lock(&pool.mu);
	job->next = NULL;
	if (pool.tail != NULL)
		pool.tail->next = job;
	else
		pool.head = job;
	pool.tail = job;
	pthread_cond_signal(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

void
offload_stop(void)
{
	pthread_mutex_lock(&pool.mu);
	pool.quit = 1;
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	while (pool.started > 0)
		pthread_join(pool.threads[--pool.started], NULL);
}
