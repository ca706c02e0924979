/*
 * What the libFuzzer targets share: a request with its own arena, as the
 * server makes one, the settings every target starts from, and the input
 * cut into NUL-terminated pieces. Each target is one fuzz_<name>.c.
 */
#ifndef DANVAN_FUZZ_H
#define DANVAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

/* Stops the process with a message (a finding) when cond is false. */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond);                  \
	} while (0)

/* The JWT key the settings load with; the token target signs with it. */
#define FUZZ_SECRET "fuzz-secret-0123456789abcdef0123456789"

/* libFuzzer's entry points: fuzz.c has the first, which loads the default
 * settings with FUZZ_SECRET and then calls the target's fuzz_init (if it
 * has one); each target has the second. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_init(void);

/* fuzz.c */
/* A zeroed request on a new arena; free it with fuzz_req_free. */
struct req *fuzz_req(void);
void fuzz_req_free(struct req *);
/* Cuts size bytes at data into at most max pieces at each NUL byte (the
 * last piece takes the rest), copied NUL-terminated into a; returns how
 * many, and pieces past them are set to NULL. */
size_t fuzz_split(struct arena *a, const uint8_t *data, size_t size, char **out,
    size_t max);
/* The bytes at data as a NUL-terminated string in a (cut at a NUL). */
char *fuzz_str(struct arena *a, const uint8_t *data, size_t size);
/* True when s holds well-formed UTF-8 (jansson's judgement). */
int fuzz_utf8(const char *s);
__attribute__((noreturn)) void fuzz_fail(const char *file, int line,
    const char *what);

#endif
