/*
 * Small helpers shared by every layer: clocks, time stamps, random ids, a
 * hash for ETags, counting UTF-8 characters, and allocation that aborts on
 * failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/core.h"

int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
time_rfc3339(char *buf, size_t cap)
{
	/* The seconds change once a second: each thread formats them once. */
	static __thread time_t last = -1;
	static __thread char secs[24];
	static __thread size_t nsecs;
	struct timespec ts;
	struct tm tm;
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last) {
		gmtime_r(&ts.tv_sec, &tm);
		nsecs = strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
		last = ts.tv_sec;
	}
	if (cap < nsecs + sizeof(".000+00:00")) {
		snprintf(buf, cap, "%s", secs);
		return;
	}
	ms = ts.tv_nsec / 1000000;
	memcpy(buf, secs, nsecs);
	memcpy(buf + nsecs, ".000+00:00", sizeof(".000+00:00"));
	buf[nsecs + 1] = (char)('0' + ms / 100);
	buf[nsecs + 2] = (char)('0' + ms / 10 % 10);
	buf[nsecs + 3] = (char)('0' + ms % 10);
}

/*
 * Request ids need to be unique, not secret: a per-thread xorshift generator
 * seeded from getrandom() saves a system call per request.
 */
static void
fast_random(unsigned char *out, size_t n)
{
	static __thread uint64_t state;
	size_t i;

	if (state == 0) {
		if (getrandom(&state, sizeof(state), 0) !=
		    (ssize_t)sizeof(state))
			abort();
		state |= 1; /* xorshift never leaves zero */
	}
	for (i = 0; i < n; i++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		out[i] = (unsigned char)(state >> 24);
	}
}

void
hex_encode(char *out, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[s[i] >> 4];
		out[2 * i + 1] = hex[s[i] & 0xf];
	}
	out[2 * n] = '\0';
}

void
random_hex(char *buf, size_t n)
{
	unsigned char raw[64];

	if (n > sizeof(raw))
		abort();
	fast_random(raw, n);
	hex_encode(buf, raw, n);
}

uint64_t
hash_fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fputs("danvan: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL) {
		fputs("danvan: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fputs("danvan: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

int32_t
utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c, min;
	int n, i;

	if (p[0] < 0x80) {
		*s = p + 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0)
		n = 1, c = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 2, c = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 3, c = p[0] & 0x07, min = 0x10000;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*s = p + n + 1;
	return (int32_t)c;
}
