/* Attachment file names without a database: what a name may hold, and the
 * extension that fits each stored type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "resources/resources.h"

#define PNG "image/png"
#define JPEG "image/jpeg"
#define DOCX                                                                   \
	"application/vnd.openxmlformats-officedocument.wordprocessingml."      \
	"document"

/* name with the UTF-8 of code point c in the middle. */
static const char *
with(uint32_t c)
{
	static char buf[32];
	char u[5] = { 0 };

	if (c < 0x80)
		u[0] = (char)c;
	else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
	}
	snprintf(buf, sizeof(buf), "anh%sgpj.png", u);
	return buf;
}

static void
test_ordinary_names(void **state)
{
	static const char *const good[] = { "a.pdf", "Ảnh hiện trường.png",
		"Biên bản họp dân thôn 1 – lần 2.pdf",
		"báo cáo (bản cuối) [v2] "
		"100%.pdf",
		"😀 日本.pdf", "IMG_0001.JPG", ".pdf", "a..b.pdf",
		/* Combining marks (Mn) and emoji variation selectors stay. */
		"Nguye\xcc\x82\xcc\x83n.pdf", "\xe2\x9d\xa4\xef\xb8\x8f.png",
		NULL };
	const char *const *p;
	char max[256];

	(void)state;
	for (p = good; *p != NULL; p++)
		if (filename_invalid(*p) != NULL)
			fail_msg("%s refused: %s", *p, filename_invalid(*p));
	memset(max, 'a', 255);
	max[255] = '\0';
	assert_null(filename_invalid(max));
}

static void
test_malformed_names(void **state)
{
	static const char *const bad[] = { "", ".", "..", "a/b.pdf", "a\\b.pdf",
		"a\tb.pdf", "a\nb.pdf", "a\x1b[31m.pdf", "a\x7f.pdf",
		"bien\xc2\x85"
		"ban.pdf",
		"a\xc2\x9b"
		"31m.pdf",
		"bi\xean.pdf", "\xc0\xaf.pdf", "\xed\xa0\x80.pdf",
		"\xf4\x90\x80\x80.pdf", "\xe1\xba", "a\xf0\x9f\x98", NULL };
	const char *const *p;
	char big[257];

	(void)state;
	for (p = bad; *p != NULL; p++)
		if (filename_invalid(*p) == NULL)
			fail_msg("%s taken", *p);
	memset(big, 'a', 256);
	big[256] = '\0';
	assert_non_null(filename_invalid(big));
}

static void
test_format_characters(void **state)
{
	/* Every code point of Unicode's category Cf, as Python's
	 * unicodedata lists them, and the line and paragraph separators. */
	static const uint32_t cf[][2] = {
		{ 0x00ad, 0x00ad },
		{ 0x0600, 0x0605 },
		{ 0x061c, 0x061c },
		{ 0x06dd, 0x06dd },
		{ 0x070f, 0x070f },
		{ 0x0890, 0x0891 },
		{ 0x08e2, 0x08e2 },
		{ 0x180e, 0x180e },
		{ 0x200b, 0x200f },
		{ 0x2028, 0x2029 },
		{ 0x202a, 0x202e },
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
	/* Their neighbours are ordinary characters. */
	static const uint32_t fine[] = { 0x00ac, 0x00ae, 0x0606, 0x061b, 0x200a,
		0x2010, 0x2027, 0x2030, 0x205f, 0x2065, 0x2070, 0xfefe, 0xff00,
		0xfff8, 0xfffc, 0x1d172, 0x1d17b, 0xe0000, 0xe0080, 0xe0100 };
	size_t i;
	uint32_t c;

	(void)state;
	for (i = 0; i < nitems(cf); i++)
		for (c = cf[i][0]; c <= cf[i][1]; c++)
			if (filename_invalid(with(c)) == NULL)
				fail_msg("U+%04X taken", c);
	for (i = 0; i < nitems(fine); i++)
		if (filename_invalid(with(fine[i])) != NULL)
			fail_msg("U+%04X refused", fine[i]);
	/* The right-to-left override that shows "gpj.exe" as "exe.jpg". */
	assert_string_equal(filename_invalid("anh\xe2\x80\xaegpj.exe"),
	    "holds an invisible formatting character (such as a "
	    "bidirectional control)");
}

static void
test_extension_fits_type(void **state)
{
	(void)state;
	assert_true(filename_fits("a.png", PNG));
	assert_true(filename_fits("a.PNG", PNG));
	assert_true(filename_fits("ảnh.tar.png", PNG));
	assert_true(filename_fits("a.jpg", JPEG));
	assert_true(filename_fits("a.JPEG", JPEG));
	assert_true(filename_fits("a.docx", DOCX));
	assert_true(filename_fits("a.pdf", "application/pdf"));
	assert_true(filename_fits("a.xls", "application/vnd.ms-excel"));
	assert_false(filename_fits("a.png.exe", PNG));
	assert_false(filename_fits("a.jpg", PNG));
	assert_false(filename_fits("png", PNG));
	assert_false(filename_fits("a.png ", PNG));
	assert_false(filename_fits("a.", PNG));
	assert_false(filename_fits("a.doc", DOCX));
	assert_false(filename_fits("a.png", "text/html"));
	assert_false(filename_fits("a.png", NULL));
	assert_string_equal(filename_extension(JPEG), "jpg");
	assert_string_equal(filename_extension(DOCX), "docx");
	assert_null(filename_extension("text/html"));
}

static void
test_ascii_fallback(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(filename_ascii(a, "Ảnh hội nghị đối thoại.png"),
	    "Anh hoi nghi doi thoai.png");
	assert_string_equal(filename_ascii(a, "ĐẠI HỘI ĐOÀN KẾT ỨNG XỬ.pdf"),
	    "DAI HOI DOAN KET UNG XU.pdf");
	assert_string_equal(filename_ascii(a, "Dân vận khéo – ý kiến.docx"),
	    "Dan van kheo _ y kien.docx");
	/* The same name in NFD: the combining marks go. */
	assert_string_equal(filename_ascii(a,
				"Da\xcc\x82n va\xcc\xa3\xcc\x82n.pdf"),
	    "Dan van.pdf");
	/* One '_' per character, not per byte; quotes cannot end the value. */
	assert_string_equal(filename_ascii(a, "日本\"a\\b.png"), "___a_b.png");
	assert_string_equal(filename_ascii(a, "plain-name_1.pdf"),
	    "plain-name_1.pdf");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_names),
		cmocka_unit_test(test_malformed_names),
		cmocka_unit_test(test_format_characters),
		cmocka_unit_test(test_extension_fits_type),
		cmocka_unit_test(test_ascii_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
