/*
 * The failure record: why a piece of work (an HTTP request, a command, the
 * seeder) failed. The first failure recorded wins; its strings live in the
 * arena of the work that failed. HTTP renders it as a problem document, the
 * command line logs it. Kore keeps the error on its pgsql object and
 * PostgreSQL on its ErrorData in the same way.
 */
#include <stdio.h>

#include "core/core.h"

int
failure_vset(struct failure *f, struct arena *a, int status, const char *code,
    const char *fmt, va_list ap)
{
	const char *vi;
	va_list again;

	if (f->status != 0)
		return -1;
	f->status = status;
	f->code = code;
	if (f->vi && (vi = lang_vi(fmt)) != NULL) {
		va_copy(again, ap);
		f->detail_vi = arena_vprintf(a, vi, again);
		va_end(again);
	}
	f->detail = arena_vprintf(a, fmt, ap);
	return -1;
}

int
failure_set(struct failure *f, struct arena *a, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failure_vset(f, a, status, code, fmt, ap);
	va_end(ap);
	return -1;
}

void
failure_vfield(struct failure *f, struct arena *a, const char *field,
    const char *code, const char *fmt, va_list ap)
{
	struct field_error *e = arena_zalloc(a, sizeof(*e));
	const char *vi;
	va_list again;

	e->field = arena_strdup(a, field);
	e->code = code;
	if (f->vi && (vi = lang_vi(fmt)) != NULL) {
		va_copy(again, ap);
		e->message_vi = arena_vprintf(a, vi, again);
		va_end(again);
	}
	e->message = arena_vprintf(a, fmt, ap);
	if (f->last != NULL)
		f->last->next = e;
	else
		f->fields = e;
	f->last = e;
}

void
failure_field(struct failure *f, struct arena *a, const char *field,
    const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failure_vfield(f, a, field, code, fmt, ap);
	va_end(ap);
}

void
failure_header(struct failure *f, const char *name, const char *value)
{
	f->header = name;
	f->header_value = value;
}

void
failure_clear(struct failure *f)
{
	*f = (struct failure){ .vi = f->vi };
}

const char *
failure_text(struct arena *a, const struct failure *f)
{
	const struct field_error *e;
	char *s = arena_printf(a, "%s: %s", f->code ? f->code : "internal",
	    f->detail ? f->detail : "failed");

	for (e = f->fields; e != NULL; e = e->next)
		s = arena_printf(a, "%s; %s: %s", s, e->field, e->message);
	return s;
}
