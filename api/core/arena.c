/*
 * Per-request memory arena: allocate freely, free everything at once when the
 * request ends. Library objects (PGresult, json_t) are handed over with
 * arena_defer so handlers carry no cleanup code.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define CHUNK_SIZE 8192
#define ALIGN 16

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(ALIGN) unsigned char data[];
};

struct defer {
	struct defer *next;
	void (*fn)(void *);
	void *p;
};

struct arena {
	struct chunk *chunks;
	struct defer *defers;
};

/*
 * Each thread keeps the last arena it freed, emptied, with one chunk: a
 * CHUNK_SIZE malloc is a large one, and glibc consolidated its fast bins for
 * each, on every request. Not in an AddressSanitizer build, which would no
 * longer see a request's memory used after its end.
 */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void
free_chunks(struct chunk *c)
{
	struct chunk *cn;

	for (; c != NULL; c = cn) {
		cn = c->next;
		free(c);
	}
}

static void
spare_drop(void *p)
{
	struct arena *a = p;

	free_chunks(a->chunks);
	free(a);
}

static void
spare_init(void)
{
	if (pthread_key_create(&spare_key, spare_drop) != 0)
		abort();
}

struct arena *
arena_new(void)
{
	struct arena *a;

	if (!SANITIZED) {
		pthread_once(&spare_once, spare_init);
		if ((a = pthread_getspecific(spare_key)) != NULL) {
			pthread_setspecific(spare_key, NULL);
			return a;
		}
	}
	return xcalloc(1, sizeof(struct arena));
}

void
arena_free(struct arena *a)
{
	struct chunk *keep, **cp;
	struct defer *d, *dn;

	if (a == NULL)
		return;
	for (d = a->defers; d != NULL; d = dn) {
		dn = d->next;
		d->fn(d->p);
	}
	if (SANITIZED || pthread_getspecific(spare_key) != NULL) {
		spare_drop(a);
		return;
	}
	/* The spare keeps one chunk of the usual size; the others go. */
	for (cp = &a->chunks; *cp != NULL && (*cp)->cap != CHUNK_SIZE;
	     cp = &(*cp)->next)
		;
	if ((keep = *cp) != NULL) {
		*cp = keep->next;
		keep->next = NULL;
		keep->used = 0;
	}
	free_chunks(a->chunks);
	a->chunks = keep;
	a->defers = NULL;
	pthread_setspecific(spare_key, a);
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->chunks;
	size_t cap;
	void *p;

	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (n == 0)
		n = ALIGN;
	if (c == NULL || c->cap - c->used < n) {
		cap = n > CHUNK_SIZE / 2 ? n : CHUNK_SIZE;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		/* A large block gets its own chunk behind the current one. */
		if (cap != CHUNK_SIZE && a->chunks != NULL) {
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

void *
arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	char *p;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct defer *d = arena_alloc(a, sizeof(*d));

	d->fn = fn;
	d->p = p;
	d->next = a->defers;
	a->defers = d;
}
