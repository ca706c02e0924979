/*
 * Attachment file names: what a name may hold, and which extensions each
 * stored type goes by. A name is shown to other people (in lists, in the
 * Content-Disposition of a download, on a desktop that opens it by its
 * extension), so it may not hide characters that change how it reads nor
 * claim a type the bytes are not. Pure checks; attachments.c applies them.
 * The Content-Disposition of a download, attachment or export, is built
 * here too, with an ASCII fallback that folds Vietnamese diacritics.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "resources/resources.h"

/*
 * Unicode's format characters (general category Cf, Unicode 15): the
 * bidirectional controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C) that
 * show "gpj.exe" as "exe.jpg", the zero-width ones, the tags. Then the line
 * and paragraph separators, which break a name over lines.
 */
static const struct {
	uint32_t first, last;
} hidden[] = {
	{ 0x00ad, 0x00ad },
	{ 0x0600, 0x0605 },
	{ 0x061c, 0x061c },
	{ 0x06dd, 0x06dd },
	{ 0x070f, 0x070f },
	{ 0x0890, 0x0891 },
	{ 0x08e2, 0x08e2 },
	{ 0x180e, 0x180e },
	{ 0x200b, 0x200f },
	{ 0x2028, 0x202e },
	{ 0x2060, 0x2064 },
	{ 0x2066, 0x206f },
	{ 0xfeff, 0xfeff },
	{ 0xfff9, 0xfffb },
	{ 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd },
	{ 0x13430, 0x1343f },
	{ 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a },
	{ 0xe0001, 0xe0001 },
	{ 0xe0020, 0xe007f },
};

/* The extensions of each type the server stores (attachments.c), the
 * first one named in messages. */
static const struct {
	const char *type;
	const char *ext[2];
} extensions[] = {
	{ "application/pdf", { "pdf", NULL } },
	{ "image/jpeg", { "jpg", "jpeg" } },
	{ "image/png", { "png", NULL } },
	{ "image/webp", { "webp", NULL } },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml."
	  "document",
	    { "docx", NULL } },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    { "xlsx", NULL } },
	{ "application/msword", { "doc", NULL } },
	{ "application/vnd.ms-excel", { "xls", NULL } },
};

static int
is_hidden(uint32_t c)
{
	size_t i;

	for (i = 0; i < nitems(hidden); i++)
		if (c >= hidden[i].first && c <= hidden[i].last)
			return 1;
	return 0;
}

const char *
filename_invalid(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strlen(name);
	int32_t c;

	if (n == 0 || n > 255)
		return "must have 1 to 255 bytes";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "cannot be . or ..";
	while (*s != '\0') {
		if ((c = utf8_next(&s)) == -1)
			return "is not valid UTF-8";
		/* C0, DEL and C1 controls. */
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return "holds a control character";
		if (c == '/' || c == '\\')
			return "holds / or \\";
		if (is_hidden((uint32_t)c))
			return "holds an invisible formatting character "
			       "(such as a bidirectional control)";
	}
	return NULL;
}

const char *
filename_extension(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < nitems(extensions); i++)
		if (strcmp(extensions[i].type, type) == 0)
			return extensions[i].ext[0];
	return NULL;
}

int
filename_fits(const char *name, const char *type)
{
	const char *dot = strrchr(name, '.');
	size_t i, k;

	if (dot == NULL)
		return 0;
	for (i = 0; type != NULL && i < nitems(extensions); i++) {
		if (strcmp(extensions[i].type, type) != 0)
			continue;
		for (k = 0; k < nitems(extensions[i].ext); k++)
			if (extensions[i].ext[k] != NULL &&
			    strcasecmp(dot + 1, extensions[i].ext[k]) == 0)
				return 1;
	}
	return 0;
}

/* The Vietnamese letters with diacritics, by the ASCII letter they fold to. */
static const struct {
	char ascii;
	const char *letters; /* UTF-8 */
} folds[] = {
	{ 'a', "àáảãạăằắẳẵặâầấẩẫậ" },
	{ 'A', "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ" },
	{ 'e', "èéẻẽẹêềếểễệ" },
	{ 'E', "ÈÉẺẼẸÊỀẾỂỄỆ" },
	{ 'i', "ìíỉĩị" },
	{ 'I', "ÌÍỈĨỊ" },
	{ 'o', "òóỏõọôồốổỗộơờớởỡợ" },
	{ 'O', "ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ" },
	{ 'u', "ùúủũụưừứửữự" },
	{ 'U', "ÙÚỦŨỤƯỪỨỬỮỰ" },
	{ 'y', "ỳýỷỹỵ" },
	{ 'Y', "ỲÝỶỸỴ" },
	{ 'd', "đ" },
	{ 'D', "Đ" },
};

/* The ASCII letter code point c folds to, or '_'. */
static char
fold(int32_t c)
{
	const unsigned char *p;
	size_t i;

	for (i = 0; i < nitems(folds); i++)
		for (p = (const unsigned char *)folds[i].letters; *p != '\0';)
			if (utf8_next(&p) == c)
				return folds[i].ascii;
	return '_';
}

char *
filename_ascii(struct arena *a, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	char *out = arena_alloc(a, strlen(name) + 1), *o = out;
	int32_t c;

	while (*s != '\0') {
		if ((c = utf8_next(&s)) == -1) {
			s++; /* a stray byte: one '_' */
			c = 0x80;
		}
		if (c >= 0x300 && c <= 0x36f)
			continue; /* a combining mark (a name in NFD) */
		if (c == '"' || c == '\\')
			*o++ = '_';
		else if (c < 0x80)
			*o++ = (char)c;
		else
			*o++ = fold(c);
	}
	*o = '\0';
	return out;
}

/* Appends s percent-encoded (RFC 5987) to a new arena string. */
static char *
pct(struct arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = arena_alloc(a, strlen(s) * 3 + 1), *o = out;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("!#$&+-.^_`|~", c) != NULL)
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

const char *
filename_disposition(struct arena *a, const char *name)
{
	/* A plain-ASCII fallback name for old clients, then the real one. */
	return arena_printf(a,
	    "attachment; filename=\"%s\"; filename*=UTF-8''%s",
	    filename_ascii(a, name), pct(a, name));
}
