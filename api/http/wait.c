/*
 * Requests that wait for a change (the change feed's wait=): their
 * connections are suspended, so they hold no worker thread, and one thread
 * wakes them when the database sends a NOTIFY on the feed's channel, or
 * when their time is up. At most DANVAN_MAX_WAITERS wait at once. The
 * thread knows entries, not connections: server.c resumes them.
 */
#include <pthread.h>
#include <stdlib.h>

#include "http/http.h"

#define CHANNEL "danvan_changes"
/* The longest the thread sleeps: how late a time-out may be answered. */
#define TICK_MS 100

static struct {
	pthread_mutex_t mu;
	struct wait_entry *head;
	pthread_t thread;
	int started, quit;
	int admitted; /* reserved: waiting, or running between two waits */
	long generation;
} w = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, 0, 0, 0 };

static void
unlink_entry(struct wait_entry *e)
{
	struct wait_entry **pp;

	for (pp = &w.head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->next = NULL;
}

/* Wakes the entries that are due (all of them when all is set); w.mu held. */
static void
wake(int all)
{
	struct wait_entry *e, *next;
	int64_t now = mono_us();

	for (e = w.head; e != NULL; e = next) {
		next = e->next;
		if (all || e->until <= now) {
			unlink_entry(e);
			e->wake(e);
		}
	}
}

static void *
wait_main(void *arg)
{
	int rc, quit;

	(void)arg;
	for (;;) {
		rc = db_listen_wait(TICK_MS);
		pthread_mutex_lock(&w.mu);
		if (rc == 1)
			w.generation++;
		wake(rc == 1);
		quit = w.quit;
		pthread_mutex_unlock(&w.mu);
		if (quit)
			break;
	}
	return NULL;
}

void
wait_start(void)
{
	if (w.started)
		return;
	/* A listener that cannot connect now retries on its own. */
	(void)db_listen_start(CHANNEL);
	if (pthread_create(&w.thread, NULL, wait_main, NULL) != 0)
		abort();
	w.started = 1;
}

long
wait_generation(void)
{
	long g;

	pthread_mutex_lock(&w.mu);
	g = w.generation;
	pthread_mutex_unlock(&w.mu);
	return g;
}

int
wait_reserve(void)
{
	int ok;

	pthread_mutex_lock(&w.mu);
	if ((ok = !w.quit && w.admitted < cfg.max_waiters))
		w.admitted++;
	pthread_mutex_unlock(&w.mu);
	return ok ? 0 : -1;
}

int
wait_count(void)
{
	int n;

	pthread_mutex_lock(&w.mu);
	n = w.admitted;
	pthread_mutex_unlock(&w.mu);
	return n;
}

void
wait_release(void)
{
	pthread_mutex_lock(&w.mu);
	w.admitted--;
	pthread_mutex_unlock(&w.mu);
}

int
wait_add(struct wait_entry *e, long generation)
{
	int ok;

	pthread_mutex_lock(&w.mu);
	if ((ok = !w.quit && generation == w.generation)) {
		e->next = w.head;
		w.head = e;
	}
	pthread_mutex_unlock(&w.mu);
	return ok ? 0 : -1;
}

void
wait_stop(void)
{
	if (!w.started)
		return;
	pthread_mutex_lock(&w.mu);
	w.quit = 1;
	pthread_mutex_unlock(&w.mu);
	pthread_join(w.thread, NULL);
	pthread_mutex_lock(&w.mu);
	wake(1);
	pthread_mutex_unlock(&w.mu);
	db_listen_stop();
	w.started = 0;
}
