/*
 * The Idempotency-Key fingerprint (http/idempotency.c). The input is
 * NUL-separated: method, path, body, then query parameters ("name=value",
 * or a bare name). The same request sent with its query in another order,
 * or its JSON body spaced and ordered otherwise, has the same fingerprint;
 * a request with another path or query does not.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define MAXQ 8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	struct query_pair q[MAXQ], rev[MAXQ];
	char *piece[3 + MAXQ], *eq, *other;
	char h1[65], h2[65];
	json_t *json, *again;
	size_t i, n, nq = 0;

	n = fuzz_split(a, data, size, piece, nitems(piece));
	for (i = 3; i < n; i++) {
		q[nq].name = piece[i];
		if ((eq = strchr(piece[i], '=')) != NULL)
			*eq++ = '\0';
		q[nq++].value = eq;
	}
	for (i = 0; i < 3; i++)
		if (piece[i] == NULL)
			piece[i] = "";
	for (i = 0; i < nq; i++)
		rev[i] = q[nq - 1 - i];
	json = json_loads(piece[2], JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    NULL);

	idempotency_fingerprint(a, piece[0], piece[1], q, nq, json, piece[2],
	    strlen(piece[2]), h1);
	FUZZ_ASSERT(strlen(h1) == 64 && strspn(h1, "0123456789abcdef") == 64);
	idempotency_fingerprint(a, piece[0], piece[1], rev, nq, json, piece[2],
	    strlen(piece[2]), h2);
	FUZZ_ASSERT(strcmp(h1, h2) == 0);
	if (json != NULL) {
		/*
		 * The same meaning in other bytes: spaced and with every
		 * non-ASCII character escaped. Not indented: an indent costs
		 * the nesting depth on every line, quadratic in the input.
		 */
		other = json_dumps(json, JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
		FUZZ_ASSERT(other != NULL);
		again = json_loads(other, JSON_DECODE_ANY, NULL);
		FUZZ_ASSERT(again != NULL);
		idempotency_fingerprint(a, piece[0], piece[1], q, nq, again,
		    other, strlen(other), h2);
		FUZZ_ASSERT(strcmp(h1, h2) == 0);
		json_decref(again);
		free(other);
	}
	idempotency_fingerprint(a, piece[0], arena_printf(a, "%s/", piece[1]),
	    q, nq, json, piece[2], strlen(piece[2]), h2);
	FUZZ_ASSERT(strcmp(h1, h2) != 0);
	if (nq > 0) {
		q[0].value = q[0].value == NULL ?
		    "" :
		    arena_printf(a, "%sx", q[0].value);
		idempotency_fingerprint(a, piece[0], piece[1], q, nq, json,
		    piece[2], strlen(piece[2]), h2);
		FUZZ_ASSERT(strcmp(h1, h2) != 0);
	}
	json_decref(json);
	arena_free(a);
	return 0;
}
