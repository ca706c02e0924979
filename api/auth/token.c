/*
 * Access tokens (JWT through libjwt 1.10) and random secrets. libjwt takes
 * the algorithm from the token's own header and checks no claim, so this
 * file pins the algorithm to the key named by "kid", checks it again after
 * decoding, and checks iss, aud, exp, nbf and iat itself, with a small leeway.
 * A NULL key is never passed to jwt_decode: that would accept alg "none".
 * A token that verified is remembered by its calling thread, keyed by the
 * whole token, until it expires or token_cache_drop: verifying it again would
 * give the same claims, and costs more than the rest of a read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#include "auth/auth.h"

struct key {
	char kid[64];
	jwt_alg_t alg;
	unsigned char *sign; /* NULL for a verification-only key */
	size_t sign_len;
	unsigned char *verify;
	size_t verify_len;
};

static struct key keys[2]; /* [0] signs; [1] is the previous, verify only */
static size_t nkeys;
/* The key of token_mac, derived from the signing key: every node that signs
 * tokens checks the others' MACs, and a new signing key retires them. */
static unsigned char mac_key[crypto_generichash_KEYBYTES];

#define CACHE_SLOTS 64	      /* per thread, direct-mapped */
#define CACHE_TOKEN_BYTES 768 /* longer tokens are verified every time */

/* The tokens this thread verified, with what they said. */
static __thread struct {
	unsigned long epoch; /* of drops seen; another: every slot is stale */
	struct cached {
		uint64_t hash;
		size_t len;	    /* 0: empty */
		time_t from, until; /* accepted while from <= now <= until */
		struct principal p;
		char token[CACHE_TOKEN_BYTES];
	} slot[CACHE_SLOTS];
} tcache;
static unsigned long cache_epoch; /* raised by token_cache_drop */
static long cache_hits, cache_misses;

/* Reads a whole file (a key) into a NUL-terminated heap buffer. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char *buf;
	FILE *f;
	long n;

	if ((f = fopen(path, "rb")) == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 65536 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		log_error("%s: cannot read a key from it", path);
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	/* A secret file usually ends with a newline that is not part of it. */
	while (*len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		buf[--*len] = '\0';
	return buf;
}

static int
load_key(struct key *k, const char *kid, const char *secret,
    const char *secret_file, const char *priv_file, const char *pub_file)
{
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	if (strcmp(cfg.jwt_alg, "HS256") == 0) {
		k->alg = JWT_ALG_HS256;
		if (secret != NULL) {
			k->verify_len = strlen(secret);
			k->verify = (unsigned char *)xstrdup(secret);
		} else if (secret_file != NULL) {
			if ((k->verify = slurp(secret_file, &k->verify_len)) ==
			    NULL)
				return -1;
		} else {
			log_error(
			    "set DANVAN_JWT_SECRET_FILE (or "
			    "DANVAN_JWT_SECRET) to sign access tokens");
			return -1;
		}
		if (k->verify_len < 32) {
			log_error("the JWT secret must be at least 32 bytes");
			return -1;
		}
		if (priv_file != NULL || k == &keys[0]) {
			k->sign = k->verify;
			k->sign_len = k->verify_len;
		}
		return 0;
	}
	if (strcmp(cfg.jwt_alg, "ES256") == 0) {
		k->alg = JWT_ALG_ES256;
		if (pub_file == NULL ||
		    (k->verify = slurp(pub_file, &k->verify_len)) == NULL) {
			log_error("ES256 needs DANVAN_JWT_PUBLIC_KEY_FILE");
			return -1;
		}
		if (priv_file != NULL &&
		    (k->sign = slurp(priv_file, &k->sign_len)) == NULL)
			return -1;
		if (k == &keys[0] && k->sign == NULL) {
			log_error("ES256 needs DANVAN_JWT_KEY_FILE");
			return -1;
		}
		return 0;
	}
	log_error("DANVAN_JWT_ALG must be HS256 or ES256");
	return -1;
}

int
token_init(void)
{
	if (load_key(&keys[0], cfg.jwt_kid, cfg.jwt_secret, cfg.jwt_secret_file,
		cfg.jwt_key_file, cfg.jwt_public_key_file) == -1)
		return -1;
	nkeys = 1;
	if (cfg.jwt_previous_kid != NULL && cfg.jwt_previous_key_file != NULL) {
		if (strcmp(cfg.jwt_previous_kid, cfg.jwt_kid) == 0) {
			log_error("the previous JWT key needs its own kid");
			return -1;
		}
		if (load_key(&keys[1], cfg.jwt_previous_kid, NULL,
			cfg.jwt_previous_key_file, NULL,
			cfg.jwt_previous_key_file) == -1)
			return -1;
		nkeys = 2;
	}
	crypto_generichash(mac_key, sizeof(mac_key), keys[0].sign,
	    keys[0].sign_len, (const unsigned char *)"danvan token_mac", 16);
	return 0;
}

void
token_mac(const char *msg, char *mac)
{
	unsigned char d[16];

	crypto_generichash(d, sizeof(d), (const unsigned char *)msg,
	    strlen(msg), mac_key, sizeof(mac_key));
	sodium_bin2hex(mac, TOKEN_MAC_HEX + 1, d, sizeof(d));
}

int
token_mac_ok(const char *msg, const char *mac)
{
	char want[TOKEN_MAC_HEX + 1];

	token_mac(msg, want);
	return strlen(mac) == TOKEN_MAC_HEX &&
	    sodium_memcmp(want, mac, TOKEN_MAC_HEX) == 0;
}

int
auth_fail(struct arena *a, struct failure *f, const char *error,
    const char *fmt, ...)
{
	va_list ap;

	if (f->status != 0)
		return -1;
	va_start(ap, fmt);
	if (strcmp(error, "invalid_request") == 0)
		failure_vset(f, a, 400, "invalid_request", fmt, ap);
	else
		failure_vset(f, a, 401, "invalid_token", fmt, ap);
	va_end(ap);
	failure_header(f, "WWW-Authenticate",
	    arena_printf(a, "Bearer realm=\"danvan\", error=\"%s\"", error));
	return -1;
}

char *
token_issue(struct arena *a, const char *user_id, const char *role,
    const char *unit_id, long generation, int64_t *expires_in)
{
	char jti[33], *out, *copy;
	time_t now = time(NULL);
	jwt_t *jwt;

	random_hex(jti, 16);
	if (jwt_new(&jwt) != 0)
		abort();
	if (jwt_add_header(jwt, "kid", keys[0].kid) != 0 ||
	    jwt_add_grant(jwt, "iss", cfg.jwt_issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", cfg.jwt_audience) != 0 ||
	    jwt_add_grant(jwt, "sub", user_id) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 ||
	    jwt_add_grant(jwt, "role", role) != 0 ||
	    jwt_add_grant(jwt, "unit", unit_id) != 0 ||
	    jwt_add_grant_int(jwt, "gen", generation) != 0 ||
	    jwt_add_grant_int(jwt, "iat", now) != 0 ||
	    jwt_add_grant_int(jwt, "nbf", now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", now + cfg.access_ttl) != 0 ||
	    jwt_set_alg(jwt, keys[0].alg, keys[0].sign,
		(int)keys[0].sign_len) != 0 ||
	    (out = jwt_encode_str(jwt)) == NULL)
		abort();
	copy = arena_strdup(a, out);
	free(out);
	jwt_free(jwt);
	*expires_in = cfg.access_ttl;
	return copy;
}

/* The key the token's header names, if its algorithm is the key's. */
static const struct key *
header_key(const char *token)
{
	const char *dot = strchr(token, '.');
	unsigned char bin[512];
	const char *alg, *kid;
	const struct key *k = NULL;
	size_t binlen, i;
	json_t *h;

	if (dot == NULL ||
	    sodium_base642bin(bin, sizeof(bin) - 1, token,
		(size_t)(dot - token), NULL, &binlen, NULL,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return NULL;
	if ((h = json_loadb((char *)bin, binlen, JSON_REJECT_DUPLICATES,
		 NULL)) == NULL)
		return NULL;
	alg = json_string_value(json_object_get(h, "alg"));
	kid = json_string_value(json_object_get(h, "kid"));
	for (i = 0; i < nkeys && alg != NULL && kid != NULL; i++)
		if (strcmp(keys[i].kid, kid) == 0 &&
		    strcmp(jwt_alg_str(keys[i].alg), alg) == 0)
			k = &keys[i];
	json_decref(h);
	return k;
}

/* True when the aud claim (a string or an array) names our audience. */
static int
audience_ok(jwt_t *jwt)
{
	char *raw = jwt_get_grants_json(jwt, "aud");
	json_t *aud, *v;
	size_t i;
	int ok = 0;

	if (raw == NULL)
		return 0;
	aud = json_loads(raw, JSON_DECODE_ANY, NULL);
	free(raw);
	if (json_is_string(aud))
		ok = strcmp(json_string_value(aud), cfg.jwt_audience) == 0;
	else if (json_is_array(aud))
		json_array_foreach(aud, i, v)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), cfg.jwt_audience) == 0)
				ok = 1;
	json_decref(aud);
	return ok;
}

static int
copy_claim(jwt_t *jwt, const char *name, char *dst, size_t cap)
{
	const char *v = jwt_get_grant(jwt, name);

	if (v == NULL || strlen(v) >= cap)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* A token's slot comes from its last bytes, the signature's: what differs
 * most between tokens. The whole token is compared all the same. */
static uint64_t
token_hash(const char *token, size_t len)
{
	size_t n = len < 32 ? len : 32;

	return hash_fnv1a(token + len - n, n);
}

void
token_cache_drop(void)
{
	__atomic_fetch_add(&cache_epoch, 1, __ATOMIC_RELEASE);
}

void
token_cache_forget(const char *token)
{
	size_t len = strlen(token);
	uint64_t h = token_hash(token, len);
	struct cached *c = &tcache.slot[h % CACHE_SLOTS];

	if (c->len == len && c->hash == h && memcmp(c->token, token, len) == 0)
		c->len = 0;
}

struct token_cache_stats
token_cache_stats(void)
{
	struct token_cache_stats st = {
		__atomic_load_n(&cache_hits, __ATOMIC_RELAXED),
		__atomic_load_n(&cache_misses, __ATOMIC_RELAXED),
		(long)__atomic_load_n(&cache_epoch, __ATOMIC_RELAXED),
	};

	return st;
}

/* The slot that holds token, when it is there and valid at now; else NULL
 * with *slot the one it would go in. */
static struct cached *
cache_find(const char *token, size_t len, time_t now, struct cached **slot)
{
	unsigned long epoch = __atomic_load_n(&cache_epoch, __ATOMIC_ACQUIRE);
	uint64_t h = token_hash(token, len);
	struct cached *c = &tcache.slot[h % CACHE_SLOTS];
	size_t i;

	if (tcache.epoch != epoch) {
		for (i = 0; i < CACHE_SLOTS; i++)
			tcache.slot[i].len = 0;
		tcache.epoch = epoch;
	}
	*slot = c;
	if (c->len != len || c->hash != h || memcmp(c->token, token, len) != 0)
		return NULL;
	if (now < c->from || now > c->until) {
		c->len = 0;
		return NULL;
	}
	return c;
}

static int verify(struct arena *, struct failure *, const char *,
    struct principal *, time_t *, time_t *);

int
token_verify(struct arena *a, struct failure *f, const char *token,
    struct principal *p)
{
	size_t len = strlen(token);
	time_t now = time(NULL), from = 0, until = 0;
	struct cached *c, *slot;

	if (len > TOKEN_MAX_BYTES)
		return auth_fail(a, f, "invalid_request",
		    "the token is longer than %d bytes", TOKEN_MAX_BYTES);
	if ((c = cache_find(token, len, now, &slot)) != NULL) {
		__atomic_fetch_add(&cache_hits, 1, __ATOMIC_RELAXED);
		*p = c->p;
		return 0;
	}
	__atomic_fetch_add(&cache_misses, 1, __ATOMIC_RELAXED);
	if (verify(a, f, token, p, &from, &until) == -1)
		return -1;
	if (len < CACHE_TOKEN_BYTES) {
		slot->hash = token_hash(token, len);
		slot->len = len;
		slot->from = from;
		slot->until = until;
		slot->p = *p;
		memcpy(slot->token, token, len);
	}
	return 0;
}

/* Verifies token at the keys and the clock; [*from, *until] is when its
 * times allow it. */
static int
verify(struct arena *a, struct failure *f, const char *token,
    struct principal *p, time_t *from, time_t *until)
{
	const struct key *k;
	jwt_t *jwt = NULL;
	long exp, nbf, iat;
	time_t now = time(NULL);
	const char *iss;
	int rc = -1;

	if ((k = header_key(token)) == NULL)
		return auth_fail(a, f, "invalid_token",
		    "the token's algorithm or key id is not accepted");
	if (jwt_decode(&jwt, token, k->verify, (int)k->verify_len) != 0 ||
	    jwt == NULL)
		return auth_fail(a, f, "invalid_token",
		    "the token's signature does not verify");
	if (jwt_get_alg(jwt) != k->alg) {
		auth_fail(a, f, "invalid_token",
		    "the token's algorithm is wrong");
		goto out;
	}
	iss = jwt_get_grant(jwt, "iss");
	if (iss == NULL || strcmp(iss, cfg.jwt_issuer) != 0 ||
	    !audience_ok(jwt)) {
		auth_fail(a, f, "invalid_token",
		    "the token is for another issuer "
		    "or audience");
		goto out;
	}
	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno == ENOENT || exp + cfg.jwt_leeway < now) {
		auth_fail(a, f, "invalid_token", "the token has expired");
		goto out;
	}
	*until = exp + cfg.jwt_leeway;
	*from = 0;
	errno = 0;
	nbf = jwt_get_grant_int(jwt, "nbf");
	if (errno != ENOENT && nbf - cfg.jwt_leeway > now) {
		auth_fail(a, f, "invalid_token", "the token is not valid yet");
		goto out;
	}
	if (errno != ENOENT)
		*from = nbf - cfg.jwt_leeway;
	errno = 0;
	iat = jwt_get_grant_int(jwt, "iat");
	if (errno != ENOENT && iat - cfg.jwt_leeway > now) {
		auth_fail(a, f, "invalid_token",
		    "the token was issued in the "
		    "future");
		goto out;
	}
	if (errno != ENOENT && iat - cfg.jwt_leeway > *from)
		*from = iat - cfg.jwt_leeway;
	memset(p, 0, sizeof(*p));
	errno = 0;
	p->generation = jwt_get_grant_int(jwt, "gen");
	if (errno == ENOENT)
		p->generation = 0;
	if (copy_claim(jwt, "sub", p->id, sizeof(p->id)) == -1 ||
	    copy_claim(jwt, "unit", p->unit_id, sizeof(p->unit_id)) == -1 ||
	    (p->role = role_parse(jwt_get_grant(jwt, "role"))) == ROLE_NONE) {
		auth_fail(a, f, "invalid_token", "the token lacks a claim");
		goto out;
	}
	rc = 0;
out:
	jwt_free(jwt);
	return rc;
}

void
sha256_hex(const void *p, size_t n, char *hash)
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, p, n);
	sodium_bin2hex(hash, 65, d, sizeof(d));
}

void
secret_hash(const char *s, char *hash)
{
	sha256_hex(s, strlen(s), hash);
}

void
secret_new(const char *prefix, char *out, size_t cap, char *hash)
{
	unsigned char raw[32];
	size_t n = strlen(prefix);

	randombytes_buf(raw, sizeof(raw));
	if (cap < n +
		sodium_base64_ENCODED_LEN(sizeof(raw),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		abort();
	memcpy(out, prefix, n);
	sodium_bin2base64(out + n, cap - n, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	secret_hash(out, hash);
}
