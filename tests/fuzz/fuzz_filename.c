/*
 * Attachment file names (resources/filename.c): the check of a name a
 * client sends, the extension it must have for its type, and the
 * Content-Disposition a download of it carries. A name that passes is
 * UTF-8 without / \ or controls, and its header is printable ASCII whose
 * filename* decodes back to the name.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "resources/resources.h"

static const char *const types[] = { "application/pdf", "image/jpeg",
	"image/png", "image/webp", "application/msword", "text/html", NULL };

static int
unhex(int c)
{
	return isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void
disposition(struct arena *a, const char *name)
{
	const char *h = filename_disposition(a, name), *q, *p;
	char *back, *o;

	for (p = h; *p != '\0'; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
	FUZZ_ASSERT(strncmp(h, "attachment; filename=\"", 22) == 0);
	/* The quoted fallback ends at the first quote: no quote or
	 * backslash inside it. */
	q = strchr(h + 22, '"');
	FUZZ_ASSERT(q != NULL && strncmp(q, "\"; filename*=UTF-8''", 20) == 0);
	FUZZ_ASSERT(memchr(h + 22, '\\', (size_t)(q - h - 22)) == NULL);
	/* One ASCII character per character of the name at most (accents
	 * folded, combining marks dropped). */
	FUZZ_ASSERT((size_t)(q - h - 22) <= utf8_chars(name));
	back = o = arena_alloc(a, strlen(q) + 1);
	for (p = q + 20; *p != '\0'; p++) {
		FUZZ_ASSERT(isalnum((unsigned char)*p) ||
		    strchr("!#$&+-.^_`|~%", *p) != NULL);
		if (*p == '%') {
			FUZZ_ASSERT(isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2]));
			*o++ = (char)(unhex(p[1]) << 4 | unhex(p[2]));
			p += 2;
		} else
			*o++ = *p;
	}
	*o = '\0';
	FUZZ_ASSERT(strcmp(back, name) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	char *name = fuzz_str(a, data, size);
	const char *why = filename_invalid(name), *ext, *dot;
	size_t i, n = strlen(name);

	if (why == NULL) {
		FUZZ_ASSERT(n >= 1 && n <= 255 && fuzz_utf8(name));
		FUZZ_ASSERT(strpbrk(name, "/\\\r\n\t") == NULL);
		FUZZ_ASSERT(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
		disposition(a, name);
	}
	for (i = 0; types[i] != NULL; i++) {
		ext = filename_extension(types[i]);
		if (!filename_fits(name, types[i]))
			continue;
		FUZZ_ASSERT(ext != NULL && (dot = strrchr(name, '.')) != NULL);
		FUZZ_ASSERT(strcasecmp(dot + 1, ext) == 0 ||
		    (strcmp(types[i], "image/jpeg") == 0 &&
			strcasecmp(dot + 1, "jpeg") == 0));
	}
	arena_free(a);
	return 0;
}
