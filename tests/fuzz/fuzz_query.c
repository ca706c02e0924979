/*
 * Query parameters as the server decodes them: the page (limit and the
 * page cursor), filters of every type checked by the field table
 * (validate.c), and fields= with the trimming it asks for (shape.c). The
 * input is NUL-separated: limit, cursor, fields, a JSON body to trim, then
 * one value per filter.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "resources/resources.h"

static const char *const statuses[] = { "draft", "issued", "closed", NULL };

static const struct field filters[] = {
	{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "year", F_INT, 0, 0, 0, 1900, 2999, NULL },
	{ "due_before", F_DATE, 0, 0, 0, 0, 0, NULL },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, statuses },
	{ "late", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "q", F_STRING, 0, 0, 0, 1, 100, NULL },
	{ "code", F_CODE, 0, 0, 0, 1, 32, NULL },
	{ "since", F_TIME, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

#define FIRST_FILTER 4

static void
page(struct req *r, const char *limit, const char *cursor)
{
	struct page pg;
	size_t i;

	if (page_parse(r, limit, cursor, &pg) == -1) {
		FUZZ_ASSERT(r->fail.status == 400);
		return;
	}
	FUZZ_ASSERT(pg.limit >= 1 && pg.limit <= PAGE_MAX);
	FUZZ_ASSERT(atoi(pg.fetch) == pg.limit + 1);
	if (limit == NULL)
		FUZZ_ASSERT(pg.limit == PAGE_DEFAULT);
	if (cursor == NULL) {
		FUZZ_ASSERT(pg.cursor == NULL);
		return;
	}
	/* A cursor reaches SQL only as an even run of hex digits. */
	for (i = 0; isxdigit((unsigned char)pg.cursor[i]); i++)
		;
	FUZZ_ASSERT(pg.cursor[i] == '\0' && i > 0 && i % 2 == 0 && i <= 512);
}

static void
fields(struct req *r, const char *f, const char *body)
{
	json_t *doc;
	size_t len;
	char *out;

	if (!shape_fields_valid(f))
		return;
	if ((out = shape_fields_trim(r->arena, body, strlen(body), f, &len)) ==
	    NULL)
		return;
	FUZZ_ASSERT(strlen(out) == len);
	doc = json_loadb(out, len, 0, NULL);
	FUZZ_ASSERT(json_is_object(doc));
	json_decref(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *piece[FIRST_FILTER + nitems(filters) - 1];
	struct req *r = fuzz_req();
	size_t i, n;

	n = fuzz_split(r->arena, data, size, piece, nitems(piece));
	/* An empty first piece stands for an absent limit. */
	page(r, piece[0] != NULL && piece[0][0] != '\0' ? piece[0] : NULL,
	    n > 1 ? piece[1] : NULL);
	req_clear_failure(r);
	if (n > 2)
		fields(r, piece[2], n > 3 ? piece[3] : "{}");
	for (i = 0; filters[i].name != NULL; i++) {
		if (piece[FIRST_FILTER + i] == NULL)
			continue;
		if (query_value(r, &filters[i], piece[FIRST_FILTER + i]) == 0)
			FUZZ_ASSERT(fuzz_utf8(piece[FIRST_FILTER + i]));
	}
	fuzz_req_free(r);
	return 0;
}
