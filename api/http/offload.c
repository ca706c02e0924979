/*
 * Offload pools: threads that run requests while their connection is
 * suspended, so that no event thread waits on them. Two of them, in
 * server.c: the blocking pool runs every handler that waits on the database
 * (each thread owns its connections, see api/db); the hashing pool runs
 * the routes flagged ROUTE_OFFLOAD (password hashing, ~0.2 s of CPU and
 * 64 MiB each), at most two at once, with at most DANVAN_OFFLOAD_QUEUE more
 * waiting: past that a caller is told to come back, since a queue without
 * end only makes every sign-in slower and every client time out. A pool
 * knows jobs, not connections.
 */
#include <pthread.h>
#include <stdlib.h>

#include "http/http.h"

static void *
offload_main(void *arg)
{
	struct offload_pool *pool = arg;
	struct offload_job *job;

	db_thread_start();
	for (;;) {
		pthread_mutex_lock(&pool->mu);
		while (pool->head == NULL && !pool->quit)
			pthread_cond_wait(&pool->cv, &pool->mu);
		if ((job = pool->head) == NULL) {
			pthread_mutex_unlock(&pool->mu);
			break;
		}
		if ((pool->head = job->next) == NULL)
			pool->tail = NULL;
		pthread_mutex_unlock(&pool->mu);
		/* job may be freed once it has run: it is not touched again. */
		job->run(job);
		pthread_mutex_lock(&pool->mu);
		pool->admitted--;
		pthread_mutex_unlock(&pool->mu);
	}
	return NULL;
}

void
offload_start(struct offload_pool *pool, int nthreads, int limit)
{
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->limit = limit;
	pool->threads = xcalloc((size_t)nthreads, sizeof(*pool->threads));
	for (; pool->started < nthreads; pool->started++)
		if (pthread_create(&pool->threads[pool->started], NULL,
			offload_main, pool) != 0)
			abort();
}

int
offload_reserve(struct offload_pool *pool)
{
	int ok;

	pthread_mutex_lock(&pool->mu);
	if ((ok = pool->limit == 0 || pool->admitted < pool->limit))
		pool->admitted++;
	pthread_mutex_unlock(&pool->mu);
	return ok ? 0 : -1;
}

void
offload_push(struct offload_pool *pool, struct offload_job *job)
{
	pthread_mutex_lock(&pool->mu);
	job->next = NULL;
	if (pool->tail != NULL)
		pool->tail->next = job;
	else
		pool->head = job;
	pool->tail = job;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}

void
offload_stop(struct offload_pool *pool)
{
	if (pool->threads == NULL)
		return;
	pthread_mutex_lock(&pool->mu);
	pool->quit = 1;
	pthread_cond_broadcast(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
	while (pool->started > 0)
		pthread_join(pool->threads[--pool->started], NULL);
	free(pool->threads);
	pool->threads = NULL;
}
