/*
 * Structured logs: one JSON object per line. The access log goes to stdout,
 * everything else to stderr. Each line is written with one write(2) so lines
 * from different threads never interleave. Request bodies and credentials are
 * never passed here.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

#define LINE_MAX_BYTES 2048

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

void
log_access(const char *id, const char *method, const char *route, int status,
    size_t bytes, int64_t us)
{
	char line[LINE_MAX_BYTES], ts[40];
	size_t n;

	time_rfc3339(ts, sizeof(ts));
	n = (size_t)snprintf(line, sizeof(line),
	    "{\"time\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"id\":\"",
	    ts);
	n = log_escape(line, n, 256, id);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"method\":\"");
	n = log_escape(line, n, n + 32, method);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"route\":\"");
	n = log_escape(line, n, n + 512, route);
	n += (size_t)snprintf(line + n, sizeof(line) - n,
	    "\",\"status\":%d,\"bytes\":%zu,\"us\":%lld}\n", status, bytes,
	    (long long)us);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (write(STDOUT_FILENO, line, n) < 0)
		return;
}
