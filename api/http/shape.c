/*
 * Response shaping, the last stage of the pipeline: the failure rendered as a
 * problem document, byte ranges (206/416), fields= trimming, ETag and 304,
 * gzip. The checks take header values as strings, so they are tested without
 * a connection; shape_response applies them to a handled request.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "http/http.h"

#define GZIP_MIN_BYTES 1024

unsigned char *
shape_gzip(struct arena *a, const void *src, size_t len, size_t *outlen)
{
	unsigned char *out;
	z_stream z;
	size_t cap;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		abort();
	cap = deflateBound(&z, len);
	out = a ? arena_alloc(a, cap) : xmalloc(cap);
	z.next_in = (unsigned char *)(uintptr_t)src;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

void
static_body_init(struct static_body *sb, const unsigned char *data, size_t len)
{
	sb->data = data;
	sb->len = len;
	sb->gz = NULL;
	sb->ready = 0;
}

void
static_body_ready(struct static_body *sb)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

	if (__atomic_load_n(&sb->ready, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&mu);
	if (!sb->ready) {
		sb->gz = shape_gzip(NULL, sb->data, sb->len, &sb->gzlen);
		snprintf(sb->etag, sizeof(sb->etag), "\"%016llx\"",
		    (unsigned long long)hash_fnv1a(sb->data, sb->len));
		__atomic_store_n(&sb->ready, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&mu);
}

/* A qvalue (RFC 9110 12.4.2) in thousandths, or -1 when malformed. */
static int
qvalue(const char **p)
{
	const char *s = *p;
	int q, scale;

	if (*s != '0' && *s != '1')
		return -1;
	q = (*s++ - '0') * 1000;
	if (*s == '.')
		for (s++, scale = 100; scale > 0 && isdigit((unsigned char)*s);
		     scale /= 10)
			q += (*s++ - '0') * scale;
	if (q > 1000 || lex_tchar((unsigned char)*s))
		return -1;
	*p = s;
	return q;
}

static int weight(const char **);

/* Moves *p past whitespace and empty elements of a comma-separated list
 * (RFC 9110 5.6.1) to its next element: 1, or 0 at the end of the list. */
static int
list_next(const char **p)
{
	for (;;) {
		lex_ows(p);
		if (**p != ',')
			return **p != '\0';
		(*p)++;
	}
}

/*
 * One element of Accept-Encoding at *p: a coding and its parameters, q
 * among them anywhere. Returns its weight (0 to 1000), with the coding at
 * *name, *n long, or -1 for a malformed element (skipped, it accepts
 * nothing).
 */
static int
coding(const char **p, const char **name, size_t *n)
{
	*name = *p;
	if ((*n = lex_token(p)) == 0)
		return -1;
	return weight(p);
}

/* The parameters of an element at *p, q among them anywhere: its weight (0
 * to 1000), or -1 when they are malformed or the element does not end. */
static int
weight(const char **p)
{
	const char *pname;
	size_t pn;
	int q = 1000, rc;

	while ((rc = lex_param(p, &pname, &pn)) == 1) {
		if (pn == 1 && (*pname == 'q' || *pname == 'Q')) {
			if ((q = qvalue(p)) == -1)
				return -1;
		} else if (**p == '"' ? lex_quoted(p) == -1 : lex_token(p) == 0)
			return -1;
	}
	return rc == -1 || (**p != ',' && **p != '\0') ? -1 : q;
}

int
shape_accepts_gzip(const char *ae)
{
	const char *p = ae, *name;
	int q, gzip = -1, any = -1;
	size_t n;

	if (ae == NULL)
		return 0;
	while (list_next(&p)) {
		if ((q = coding(&p, &name, &n)) == -1) {
			p += strcspn(p, ",");
			continue;
		}
		/* RFC 9110 8.4.1.3: x-gzip is gzip. The coding named beats
		 * "*", whatever their order. */
		if ((n == 4 && strncasecmp(name, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(name, "x-gzip", 6) == 0))
			gzip = q > gzip ? q : gzip;
		else if (n == 1 && *name == '*')
			any = q > any ? q : any;
	}
	return gzip >= 0 ? gzip > 0 : any > 0;
}

/* True when language range name (n bytes) is lang or a subtag of it. */
static int
lang_range(const char *name, size_t n, const char *lang)
{
	size_t k = strlen(lang);

	return n >= k && strncasecmp(name, lang, k) == 0 &&
	    (n == k || name[k] == '-');
}

int
shape_accepts_vi(const char *al)
{
	const char *p = al, *name;
	int q, vi = -1, en = -1, vi_pos = 0, en_pos = 0, pos = 0;
	size_t n;

	if (al == NULL)
		return 0;
	while (list_next(&p)) {
		if ((q = coding(&p, &name, &n)) == -1) {
			p += strcspn(p, ",");
			continue;
		}
		pos++;
		/* English is the default, so "*" stands for it. */
		if (lang_range(name, n, "vi") && q > vi) {
			vi = q;
			vi_pos = pos;
		} else if ((lang_range(name, n, "en") ||
			       (n == 1 && *name == '*')) &&
		    q > en) {
			en = q;
			en_pos = pos;
		}
	}
	/* The higher weight wins; of equal ones, the first named. */
	return vi > 0 && (vi > en || (vi == en && vi_pos < en_pos));
}

/* One media range of Accept at *p (RFC 9110 12.5.1): type and subtype at
 * *type and *sub, *n and *sn long. Returns its weight, or -1 when it is
 * malformed. */
static int
media_range(const char **p, const char **type, size_t *n, const char **sub,
    size_t *sn)
{
	*type = *p;
	if ((*n = lex_token(p)) == 0 || **p != '/')
		return -1;
	(*p)++;
	*sub = *p;
	if ((*sn = lex_token(p)) == 0)
		return -1;
	return weight(p);
}

int
shape_accept_weight(const char *accept, const char *type)
{
	const char *p = accept, *name, *sub, *slash = strchr(type, '/');
	size_t n, sn, tn = (size_t)(slash - type);
	int q, level, best = 0, best_level = -1;

	if (accept == NULL)
		return 1000;
	while (list_next(&p)) {
		if ((q = media_range(&p, &name, &n, &sub, &sn)) == -1) {
			p += strcspn(p, ",");
			continue;
		}
		/* The most specific range that matches decides, whatever
		 * the order (RFC 9110 12.5.1). */
		if (n == 1 && *name == '*' && sn == 1 && *sub == '*')
			level = 0;
		else if (n != tn || strncasecmp(name, type, n) != 0)
			continue;
		else if (sn == 1 && *sub == '*')
			level = 1;
		else if (sn == strlen(slash + 1) &&
		    strncasecmp(sub, slash + 1, sn) == 0)
			level = 2;
		else
			continue;
		if (level > best_level || (level == best_level && q > best)) {
			best_level = level;
			best = q;
		}
	}
	return best;
}

/*
 * Skips the entity-tag at *p (RFC 9110 8.8.3: [W/] DQUOTE *etagc DQUOTE);
 * returns its opaque tag, quotes included, with its length in *n, or NULL
 * when there is none.
 */
static const char *
entity_tag(const char **p, size_t *n)
{
	const char *s = *p, *o;

	if (strncmp(s, "W/", 2) == 0)
		s += 2;
	if (*s != '"')
		return NULL;
	for (o = s++; *s == 0x21 || ((unsigned char)*s >= 0x23 && *s != 0x7f);
	     s++)
		;
	if (*s != '"')
		return NULL;
	*n = (size_t)(s + 1 - o);
	*p = s + 1;
	return o;
}

int
shape_etag_matches(const char *inm, const char *etag)
{
	const char *p = etag, *mine, *o;
	size_t mn, n;
	int found = 0;

	if (inm == NULL || etag == NULL || (mine = entity_tag(&p, &mn)) == NULL)
		return 0;
	p = inm;
	lex_ows(&p);
	if (*p == '*') {
		p++;
		lex_ows(&p);
		return *p == '\0';
	}
	/* A list of entity-tags, compared weakly: the opaque tags alone. A
	 * malformed list matches nothing. */
	while (list_next(&p)) {
		if ((o = entity_tag(&p, &n)) == NULL)
			return 0;
		found |= n == mn && memcmp(o, mine, n) == 0;
		lex_ows(&p);
		if (*p != ',' && *p != '\0')
			return 0;
	}
	return found;
}

int
shape_compressible(const char *ctype)
{
	return ctype != NULL &&
	    (strncmp(ctype, "application/json", 16) == 0 ||
		strncmp(ctype, "application/problem+json", 24) == 0 ||
		strncmp(ctype, "text/", 5) == 0);
}

int
shape_range(const char *h, size_t size, size_t *first, size_t *last)
{
	unsigned long long a, b, len = size;
	char *end;

	/* The unit is case-insensitive (RFC 9110 14.1). */
	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 ||
	    strchr(h, ',') != NULL)
		return 0;
	h += 6;
	/* Digits and one '-' only: strtoull alone would take signs and
	 * spaces. */
	if (strspn(h, "0123456789-") != strlen(h) || strchr(h, '-') == NULL ||
	    strchr(h, '-') != strrchr(h, '-'))
		return 0;
	if (*h == '-') { /* the last b bytes */
		b = strtoull(h + 1, &end, 10);
		if (end == h + 1 || b == 0)
			return 0;
		a = b >= len ? 0 : len - b;
		b = len - 1;
	} else {
		a = strtoull(h, &end, 10);
		b = end[1] == '\0' ? len - 1 : strtoull(end + 1, NULL, 10);
		/* A last byte before the first is an invalid range, which is
		 * ignored (RFC 9110 14.1.1, 14.2), not unsatisfiable. */
		if (end[1] != '\0' && b < a)
			return 0;
		if (b >= len)
			b = len - 1;
	}
	if (a >= len)
		return -1;
	*first = (size_t)a;
	*last = (size_t)b;
	return 1;
}

int
shape_if_range(const char *h, const char *etag)
{
	size_t n;

	if (h == NULL)
		return 1;
	/* The strong comparison: a weak tag on either side never matches. A
	 * date would be compared with Last-Modified, which is never sent, so
	 * it never matches either. */
	if (etag == NULL || etag[0] != '"')
		return 0;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	return n == strlen(etag) && strncmp(h, etag, n) == 0;
}

int
shape_fields_valid(const char *s)
{
	size_t n = 0;

	if (*s == '\0' || strlen(s) > 1024)
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == ',') {
			if (s[1] == ',' || s[1] == '\0' || ++n >= 64)
				return 0;
		} else if (!islower((unsigned char)*s) &&
		    !isdigit((unsigned char)*s) && *s != '_')
			return 0;
	}
	return 1;
}

/* Keeps only the named members of obj (fields is "a,b,c", checked). */
static void
trim_object(json_t *obj, const char *fields)
{
	const char *key, *p;
	json_t *v;
	void *tmp;
	size_t n;

	json_object_foreach_safe(obj, tmp, key, v) {
		n = strlen(key);
		for (p = fields; *p != '\0';
		     p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
			if (strncmp(p, key, n) == 0 &&
			    (p[n] == ',' || p[n] == '\0'))
				break;
		}
		if (*p == '\0')
			json_object_del(obj, key);
	}
}

char *
shape_fields_trim(struct arena *a, const char *body, size_t len,
    const char *fields, size_t *outlen)
{
	json_t *doc, *items, *it;
	char *out = NULL;
	size_t i, n;

	if ((doc = json_loadb(body, len, 0, NULL)) == NULL)
		return NULL;
	if (json_is_object(doc)) {
		items = json_object_get(doc, "items");
		if (json_is_array(items) &&
		    json_object_get(doc, "next_cursor") != NULL)
			json_array_foreach(items, i, it) {
				if (json_is_object(it))
					trim_object(it, fields);
			}
		else
			trim_object(doc, fields);
		n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
		out = arena_alloc(a, n + 1);
		json_dumpb(doc, out, n, JSON_COMPACT);
		out[n] = '\0';
		*outlen = n;
	}
	json_decref(doc);
	return out;
}

const char *
shape_allow(struct arena *a, unsigned allow)
{
	char *s = arena_zalloc(a, 64);
	size_t off = 0;
	unsigned m;

	if (allow & M_GET)
		off += (size_t)snprintf(s, 64, "GET, HEAD");
	for (m = M_POST; m <= M_DELETE; m <<= 1)
		if (allow & m)
			off += (size_t)snprintf(s + off, 64 - off, "%s%s",
			    off ? ", " : "", method_name(m));
	return s;
}

/*
 * Range: bytes=a-b (one range) on a GET that allows it: 206 with the slice,
 * or 416 when it starts past the end. Anything else is served whole, as
 * RFC 9110 allows, and so is a range whose If-Range no longer holds.
 */
static void
apply_range(struct req *r)
{
	size_t a, b;

	switch (shape_range(req_header(r, "Range"), r->resp_len, &a, &b)) {
	case -1:
		req_header_add(r, "Content-Range",
		    arena_printf(r->arena, "bytes */%zu", r->resp_len));
		req_fail(r, 416, "range_not_satisfiable",
		    "the range lies outside the %zu bytes of the file",
		    r->resp_len);
		return;
	case 1:
		req_header_add(r, "Content-Range",
		    arena_printf(r->arena, "bytes %zu-%zu/%zu", a, b,
			r->resp_len));
		r->status = 206;
		r->resp = (const char *)r->resp + a;
		r->resp_len = b - a + 1;
		return;
	default:
		return;
	}
}

/*
 * fields=a,b trims a JSON entity, or each item of a list, to the named
 * members: village phones pay for every byte. The ETag becomes the trimmed
 * body's.
 */
static void
trim_fields(struct req *r, const char *fields)
{
	size_t n;
	char *out;

	if ((out = shape_fields_trim(r->arena, r->resp, r->resp_len, fields,
		 &n)) == NULL)
		return;
	r->resp = out;
	r->resp_len = n;
	r->etag = NULL;
	r->stat = NULL;
}

/* W/"<the body's hash in 16 hex digits>": formatted by hand, as snprintf
 * cost /healthz more instructions than all its other headers. */
static char *
weak_etag(struct arena *a, uint64_t h)
{
	char *e = arena_alloc(a, sizeof("W/\"0123456789abcdef\""));
	unsigned char be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (unsigned char)(h >> (56 - 8 * i));
	memcpy(e, "W/\"", 3);
	hex_encode(e + 3, be, sizeof(be));
	memcpy(e + 19, "\"", 2);
	return e;
}

void
shape_response(struct req *r, const void **bodyp, size_t *lenp, int *gzp)
{
	const char *inm = req_header(r, "If-None-Match");
	const void *body;
	size_t len;

	if (r->fail.status == 0 && r->ranges && r->method == M_GET &&
	    r->status == 200) {
		req_header_add(r, "Accept-Ranges", "bytes");
		if (!shape_etag_matches(inm, r->etag) &&
		    shape_if_range(req_header(r, "If-Range"), r->etag))
			apply_range(r);
	}
	if (r->fail.status == 0 && r->status == 0)
		req_fail(r, 500, "internal", "the request could not be handled");
	if (r->fail.status != 0) {
		if (r->fail.status >= 500)
			log_error("request %s %s failed: %d %s: %s", r->id,
			    r->path, r->fail.status, r->fail.code,
			    r->fail.detail ? r->fail.detail : "");
		r->status = r->fail.status;
		if (r->fail.header != NULL)
			req_header_add(r, r->fail.header, r->fail.header_value);
		r->ctype = "application/problem+json";
		req_header_add(r, "Content-Language", r->fail.vi ? "vi" : "en");
		req_header_add(r, "Vary", "Accept-Language");
		r->resp = problem_render(r, &r->resp_len);
		r->etag = NULL;
		r->stat = NULL;
	}
	if (r->method == M_GET && r->status == 200 && r->ctype != NULL &&
	    strcmp(r->ctype, "application/json") == 0 &&
	    req_query(r, "fields") != NULL)
		trim_fields(r, req_query(r, "fields"));
	body = r->resp;
	len = r->resp_len;
	if (r->method == M_GET && r->status == 200) {
		if (r->etag == NULL)
			r->etag = weak_etag(r->arena, hash_fnv1a(body, len));
		if (shape_etag_matches(inm, r->etag)) {
			r->status = 304;
			body = "";
			len = 0;
		}
	}
	*gzp = 0;
	if (len >= GZIP_MIN_BYTES && shape_compressible(r->ctype) &&
	    shape_accepts_gzip(req_header(r, "Accept-Encoding"))) {
		if (r->stat != NULL && r->stat->gz != NULL) {
			body = r->stat->gz;
			len = r->stat->gzlen;
		} else
			body = shape_gzip(r->arena, body, len, &len);
		*gzp = 1;
	}
	*bodyp = body;
	*lenp = len;
}
