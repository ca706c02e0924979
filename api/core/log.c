/*
 * Structured logs: one JSON object per line. The access log goes to stdout,
 * everything else to stderr. Each line is written with one write(2) so lines
 * from different threads never interleave. While the server runs, access
 * lines are gathered in one buffer and written together: when it is full,
 * every ACCESS_FLUSH_MS and at the stop, so a line waits at most that long.
 * Request bodies and credentials are never passed here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

#define LINE_MAX_BYTES 2048
#define ACCESS_BUF_BYTES 65536
#define ACCESS_FLUSH_MS 100

/* The access lines not yet written; batching is on while the flusher runs. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t flusher;
	int batching, stop;
	size_t len;
	char buf[ACCESS_BUF_BYTES];
} alog = { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* Writes all of buf; a line that cannot be written is dropped, as before. */
static void
write_all(int fd, const char *buf, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, buf, n)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

/* Writes what the buffer holds; called with alog.mu held. */
static void
flush_locked(void)
{
	write_all(STDOUT_FILENO, alog.buf, alog.len);
	alog.len = 0;
}

static void *
flusher(void *arg)
{
	struct timespec at;

	(void)arg;
	pthread_mutex_lock(&alog.mu);
	while (!alog.stop) {
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_nsec += ACCESS_FLUSH_MS * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&alog.wake, &alog.mu, &at);
		flush_locked();
	}
	pthread_mutex_unlock(&alog.mu);
	return NULL;
}

void
log_access_start(void)
{
	pthread_mutex_lock(&alog.mu);
	alog.stop = 0;
	alog.batching = pthread_create(&alog.flusher, NULL, flusher, NULL) == 0;
	pthread_mutex_unlock(&alog.mu);
}

void
log_access_stop(void)
{
	int joined;

	pthread_mutex_lock(&alog.mu);
	joined = alog.batching;
	alog.batching = 0;
	alog.stop = 1;
	pthread_cond_signal(&alog.wake);
	pthread_mutex_unlock(&alog.mu);
	if (joined)
		pthread_join(alog.flusher, NULL);
	pthread_mutex_lock(&alog.mu);
	flush_locked();
	pthread_mutex_unlock(&alog.mu);
}

/* One access line, into the batch while batching, else written now. */
static void
access_line(const char *line, size_t n)
{
	pthread_mutex_lock(&alog.mu);
	if (alog.len + n > sizeof(alog.buf))
		flush_locked();
	memcpy(alog.buf + alog.len, line, n);
	alog.len += n;
	if (!alog.batching)
		flush_locked();
	pthread_mutex_unlock(&alog.mu);
}

size_t
log_escape(char *buf, size_t len, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0' && len + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			buf[len++] = '\\';
			buf[len++] = (char)*p;
		} else if (*p < 0x20) {
			memcpy(buf + len, "\\u00", 4);
			buf[len + 4] = hex[*p >> 4];
			buf[len + 5] = hex[*p & 0xf];
			len += 6;
		} else
			buf[len++] = (char)*p;
	}
	buf[len] = '\0';
	return len;
}

static void
emit(int fd, const char *level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES], msg[LINE_MAX_BYTES / 2], ts[40];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	time_rfc3339(ts, sizeof(ts));
	n = (size_t)snprintf(line, sizeof(line),
	    "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, level);
	n = log_escape(line, n, sizeof(line) - 3, msg);
	line[n++] = '"';
	line[n++] = '}';
	line[n++] = '\n';
	if (write(fd, line, n) < 0)
		return;
}

#define LOGFN(name, fd, level)                                                 \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		emit(fd, level, fmt, ap);                                      \
		va_end(ap);                                                    \
	}
LOGFN(log_info, STDERR_FILENO, "info")
LOGFN(log_warn, STDERR_FILENO, "warn")
LOGFN(log_error, STDERR_FILENO, "error")

/* Appends the decimal digits of v at buf + n; returns the new length. */
static size_t
append_int(char *buf, size_t n, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
				       (unsigned long long)v;
	char digits[24];
	size_t k = 0;

	do {
		digits[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[n++] = '-';
	while (k > 0)
		buf[n++] = digits[--k];
	return n;
}

/* Appends a string literal; its length is known when compiled. */
#define APPEND(buf, n, lit)                                                    \
	(memcpy((buf) + (n), (lit), sizeof(lit) - 1), (n) + sizeof(lit) - 1)

/*
 * Built by hand, not with snprintf, which was a tenth of the instructions
 * of a /healthz request. The caps of the escaped fields keep the line well
 * inside LINE_MAX_BYTES.
 */
void
log_access(const char *id, const char *method, const char *route, int status,
    size_t bytes, int64_t us)
{
	char line[LINE_MAX_BYTES];
	size_t n;

	n = APPEND(line, 0, "{\"time\":\"");
	time_rfc3339(line + n, 40);
	n += strlen(line + n);
	n = APPEND(line, n,
	    "\",\"level\":\"info\",\"msg\":\"request\",\"id\":\"");
	n = log_escape(line, n, 256, id);
	n = APPEND(line, n, "\",\"method\":\"");
	n = log_escape(line, n, n + 32, method);
	n = APPEND(line, n, "\",\"route\":\"");
	n = log_escape(line, n, n + 512, route);
	n = APPEND(line, n, "\",\"status\":");
	n = append_int(line, n, status);
	n = APPEND(line, n, ",\"bytes\":");
	n = append_int(line, n, (long long)bytes);
	n = APPEND(line, n, ",\"us\":");
	n = append_int(line, n, (long long)us);
	n = APPEND(line, n, "}\n");
	access_line(line, n);
}
