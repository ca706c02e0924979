/*
 * Tabular exports: a JSON document whose rows are an array of objects,
 * answered as that JSON, as CSV (RFC 4180, UTF-8 with a BOM) or as XLSX
 * (libxlsxwriter), as format= or Accept asks. The ranking and every report
 * answer through reply_table, so formats, file names, the ETag and 304 are
 * written once.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "resources/resources.h"

/* clang-format off */
#define XLSX_TYPE                                                              \
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
/* clang-format on */
/* The creation time written in every workbook (2000-01-01): fixed, so the
 * same data gives the same bytes under the same strong ETag. */
#define XLSX_CREATED 946684800
/* Column widths in characters, for text of this many characters. */
#define WIDTH_MIN 6
#define WIDTH_MAX 60

enum format { FORMAT_JSON, FORMAT_CSV, FORMAT_XLSX };

/* Each format, in the order of export_formats: its format= name, the
 * media type Accept names, the Content-Type sent. In preference order when
 * Accept weighs them equal. */
static const struct {
	const char *name, *media, *ctype;
} formats[] = {
	[FORMAT_JSON] = { "json", "application/json", "application/json" },
	[FORMAT_CSV] = { "csv", "text/csv", "text/csv; charset=utf-8" },
	[FORMAT_XLSX] = { "xlsx", XLSX_TYPE, XLSX_TYPE },
};
static const struct field format_field = { .name = "format",
	.type = F_ENUM,
	.values = export_formats };

/* The format asked for: format= wins, else the best Accept weight (JSON
 * when Accept names none of them, as on every other route); -1 with 400
 * invalid_query for an unknown format= value. */
static int
negotiate(struct req *r)
{
	const char *v = req_query(r, "format"),
		   *accept = req_header(r, "Accept");
	int i, q, best = FORMAT_JSON, best_q = 0;

	if (v != NULL) {
		if (query_value(r, &format_field, v) == -1)
			return req_fail(r, 400, "invalid_query",
			    "format must be json, csv or xlsx");
		for (i = 0; strcmp(export_formats[i], v) != 0; i++)
			;
		return i;
	}
	for (i = 0; i < (int)nitems(formats); i++)
		if ((q = shape_accept_weight(accept, formats[i].media)) >
		    best_q) {
			best_q = q;
			best = i;
		}
	return best;
}

/* A cell as text (the CSV field, the width of an XLSX column): NULL for
 * null or absent; strings as they are, numbers as JSON writes them. */
static const char *
cell_text(struct arena *a, const json_t *v)
{
	char *s;

	switch (v == NULL ? JSON_NULL : json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		return arena_printf(a, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	case JSON_REAL:
		return arena_printf(a, "%.15g", json_real_value(v));
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return NULL;
	default:
		s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
		arena_defer(a, free, s);
		return s;
	}
}

/* Appends one CSV field: quoted when it holds a comma, a quote or a line
 * break; text that a spreadsheet would read as a formula gets a leading
 * apostrophe. */
static void
csv_field(FILE *f, const char *s, enum column_type type)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		putc('"', f);
	if (type == COLUMN_TEXT && *s != '\0' && strchr("=+-@\t\r", *s) != NULL)
		putc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	if (quote)
		putc('"', f);
}

char *
export_csv(struct arena *a, const json_t *rows, const struct column *cols,
    size_t ncols, size_t *len)
{
	const char *s;
	char *buf, *out;
	size_t i, c;
	FILE *f;

	if ((f = open_memstream(&buf, len)) == NULL)
		abort();
	fputs("\xef\xbb\xbf", f);
	for (c = 0; c < ncols; c++) {
		if (c > 0)
			putc(',', f);
		csv_field(f, cols[c].name, COLUMN_INTEGER);
	}
	fputs("\r\n", f);
	for (i = 0; i < json_array_size(rows); i++) {
		for (c = 0; c < ncols; c++) {
			if (c > 0)
				putc(',', f);
			s = cell_text(a,
			    json_object_get(json_array_get(rows, i),
				cols[c].name));
			if (s != NULL)
				csv_field(f, s, cols[c].type);
		}
		fputs("\r\n", f);
	}
	if (fclose(f) != 0)
		abort();
	out = arena_alloc(a, *len + 1);
	memcpy(out, buf, *len + 1);
	free(buf);
	return out;
}

size_t
export_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	uint32_t c;

	/* Characters, not bytes; combining marks (a decomposed "ế") take no
	 * room of their own. The text is valid UTF-8 (jansson checks it). */
	while (*p != '\0') {
		if (*p < 0x80)
			c = *p++;
		else if ((*p & 0xe0) == 0xc0)
			c = *p++ & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			c = *p++ & 0x0f;
		else
			c = *p++ & 0x07;
		for (; (*p & 0xc0) == 0x80; p++)
			c = c << 6 | (*p & 0x3f);
		if ((c >= 0x0300 && c <= 0x036f) ||
		    (c >= 0x1ab0 && c <= 0x1aff) ||
		    (c >= 0x1dc0 && c <= 0x1dff) ||
		    (c >= 0x20d0 && c <= 0x20ff) ||
		    (c >= 0xfe20 && c <= 0xfe2f))
			continue;
		n++;
	}
	return n;
}

/* The width of column c: its longest cell or header, bounded. */
static double
column_width(struct arena *a, const json_t *rows, const struct column *col)
{
	size_t i, w = export_width(col->name), n;
	const json_t *v;
	const char *s;

	for (i = 0; i < json_array_size(rows); i++) {
		v = json_object_get(json_array_get(rows, i), col->name);
		/* A rate shows as "12.5%". */
		if (col->type == COLUMN_RATE && json_is_number(v))
			n = 6;
		else if ((s = cell_text(a, v)) != NULL)
			n = export_width(s);
		else
			continue;
		w = n > w ? n : w;
	}
	w += 2;
	return (double)(w < WIDTH_MIN ? WIDTH_MIN :
		w > WIDTH_MAX	      ? WIDTH_MAX :
					w);
}

/* Writes the workbook to path: a header row, frozen under it with a
 * filter, numbers as numbers, rates as percentages. LXW_NO_ERROR or the
 * first error. */
static lxw_error
xlsx_write(struct arena *a, const char *path, const json_t *rows,
    const struct column *cols, size_t ncols)
{
	lxw_workbook_options opt = { .tmpdir = (char *)cfg.export_dir };
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *head, *integer, *rate;
	lxw_error err = LXW_NO_ERROR, e;
	const json_t *v;
	const char *s;
	lxw_doc_properties props = { .created = XLSX_CREATED };
	size_t i, c;

	if ((wb = workbook_new_opt(path, &opt)) == NULL)
		return LXW_ERROR_CREATING_XLSX_FILE;
	workbook_set_properties(wb, &props);
	ws = workbook_add_worksheet(wb, NULL);
	head = workbook_add_format(wb);
	format_set_bold(head);
	integer = workbook_add_format(wb);
	format_set_num_format(integer, "0");
	rate = workbook_add_format(wb);
	format_set_num_format(rate, "0.0%");
	for (c = 0; c < ncols; c++) {
		worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c,
		    column_width(a, rows, &cols[c]), NULL);
		err = worksheet_write_string(ws, 0, (lxw_col_t)c, cols[c].name,
		    head);
	}
	for (i = 0; i < json_array_size(rows) && err == LXW_NO_ERROR; i++) {
		for (c = 0; c < ncols; c++) {
			v = json_object_get(json_array_get(rows, i),
			    cols[c].name);
			if (cols[c].type != COLUMN_TEXT && json_is_number(v))
				e = worksheet_write_number(ws,
				    (lxw_row_t)(i + 1), (lxw_col_t)c,
				    json_number_value(v),
				    cols[c].type == COLUMN_RATE ? rate :
					cols[c].type == COLUMN_INTEGER ?
								  integer :
								  NULL);
			else if ((s = cell_text(a, v)) != NULL)
				e = worksheet_write_string(ws,
				    (lxw_row_t)(i + 1), (lxw_col_t)c, s, NULL);
			else
				continue;
			err = err != LXW_NO_ERROR ? err : e;
		}
	}
	worksheet_freeze_panes(ws, 1, 0);
	if (ncols > 0)
		worksheet_autofilter(ws, 0, 0, (lxw_row_t)json_array_size(rows),
		    (lxw_col_t)(ncols - 1));
	e = workbook_close(wb);
	return err != LXW_NO_ERROR ? err : e;
}

/* The XLSX of rows, in r's memory (*len long); NULL with 500 when the
 * file cannot be written or is over DANVAN_MAX_EXPORT_BYTES. The file
 * lives in DANVAN_EXPORT_DIR only while it is written and read back. */
static char *
xlsx_or_fail(struct req *r, const json_t *rows, const struct column *cols,
    size_t ncols, size_t *len)
{
	char *path = arena_printf(r->arena, "%s/danvan-export-XXXXXX",
		 cfg.export_dir),
	     *out = NULL;
	lxw_error err;
	struct stat st;
	ssize_t n;
	size_t off;
	int fd;

	if ((fd = mkstemp(path)) == -1) {
		req_fail(r, 500, "internal", "cannot create a file in %s: %s",
		    cfg.export_dir, strerror(errno));
		return NULL;
	}
	/* The library opens the file by name, truncating it: fd still
	 * reads what it wrote, and the name goes as soon as it is done. */
	err = xlsx_write(r->arena, path, rows, cols, ncols);
	unlink(path);
	if (err != LXW_NO_ERROR) {
		req_fail(r, 500, "internal", "cannot write the xlsx: %s",
		    lxw_strerror(err));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		req_fail(r, 500, "internal", "cannot stat the xlsx: %s",
		    strerror(errno));
		goto done;
	}
	if ((size_t)st.st_size > cfg.max_export_bytes) {
		req_fail(r, 500, "internal",
		    "xlsx of %lld bytes: over DANVAN_MAX_EXPORT_BYTES",
		    (long long)st.st_size);
		goto done;
	}
	*len = (size_t)st.st_size;
	out = arena_alloc(r->arena, *len + 1);
	for (off = 0; off < *len; off += (size_t)n)
		if ((n = pread(fd, out + off, *len - off, (off_t)off)) <= 0) {
			req_fail(r, 500, "internal", "cannot read the xlsx: %s",
			    n == 0 ? "short file" : strerror(errno));
			out = NULL;
			break;
		}
done:
	close(fd);
	return out;
}

int
reply_table(struct req *r, json_t *doc, const char *rows_key,
    const struct column *cols, size_t ncols, const char *base)
{
	const json_t *rows = json_object_get(doc, rows_key);
	int fmt = negotiate(r);
	size_t n, len = 0;
	const char *body;
	char *js;

	if (fmt == -1)
		return -1;
	if (!json_is_array(rows))
		return req_fail(r, 500, "internal", "no %s array to export",
		    rows_key);
	req_header_add(r, "Vary", "Accept");
	n = json_dumpb(doc, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(15));
	js = arena_alloc(r->arena, n + 1);
	json_dumpb(doc, js, n, JSON_COMPACT | JSON_REAL_PRECISION(15));
	js[n] = '\0';
	r->etag = arena_printf(r->arena, "\"%016llx-%s\"",
	    (unsigned long long)hash_fnv1a(js, n), formats[fmt].name);
	/* Nothing to build when the client holds it already: the response
	 * stage answers 304. */
	if (fmt == FORMAT_JSON ||
	    shape_etag_matches(req_header(r, "If-None-Match"), r->etag))
		return req_reply(r, 200, formats[fmt].ctype,
		    fmt == FORMAT_JSON ? js : "", fmt == FORMAT_JSON ? n : 0);
	if (fmt == FORMAT_CSV)
		body = export_csv(r->arena, rows, cols, ncols, &len);
	else if ((body = xlsx_or_fail(r, rows, cols, ncols, &len)) == NULL)
		return -1;
	req_header_add(r, "Content-Disposition",
	    filename_disposition(r->arena,
		arena_printf(r->arena, "%s.%s", base, formats[fmt].name)));
	return req_reply(r, 200, formats[fmt].ctype, body, len);
}
