/*
 * Helpers of the fuzz targets (fuzz.h): the settings, a request, and the
 * input in pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* What a target needs beyond the settings; most need nothing. */
__attribute__((weak)) void
fuzz_init(void)
{
}

/* Once, before the first input: the settings, then the target's own. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("DANVAN_CONFIG");
	setenv("DANVAN_JWT_SECRET", FUZZ_SECRET, 1);
	setenv("DANVAN_JWT_KID", "k1", 1);
	unsetenv("DANVAN_JWT_ALG");
	unsetenv("DANVAN_JWT_SECRET_FILE");
	if (config_load() == -1) {
		fprintf(stderr, "fuzz: the settings do not load\n");
		exit(1);
	}
	fuzz_init();
	return 0;
}

struct req *
fuzz_req(void)
{
	struct req *r = xcalloc(1, sizeof(*r));

	r->arena = arena_new();
	r->route_index = -1;
	snprintf(r->id, sizeof(r->id), "fuzz");
	return r;
}

void
fuzz_req_free(struct req *r)
{
	arena_free(r->arena);
	free(r);
}

size_t
fuzz_split(struct arena *a, const uint8_t *data, size_t size, char **out,
    size_t max)
{
	const uint8_t *nul;
	size_t n = 0, len;

	while (n < max && (size > 0 || n == 0)) {
		nul = n + 1 < max ? memchr(data, 0, size) : NULL;
		len = nul ? (size_t)(nul - data) : size;
		out[n++] = arena_strndup(a, (const char *)data, len);
		if (nul == NULL)
			break;
		data += len + 1;
		size -= len + 1;
	}
	for (len = n; len < max; len++)
		out[len] = NULL;
	return n;
}

char *
fuzz_str(struct arena *a, const uint8_t *data, size_t size)
{
	return arena_strndup(a, (const char *)data, size);
}

int
fuzz_utf8(const char *s)
{
	json_t *v = json_string(s);

	json_decref(v);
	return v != NULL;
}

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}
