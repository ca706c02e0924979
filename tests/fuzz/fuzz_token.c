/*
 * Access tokens (auth/token.c). The first byte picks how the rest is
 * used: as the token text itself; as a header and a claims document (NUL
 * between them) that this target signs with the server's own key, so the
 * checks after the signature are reached; or as an edit of one byte of a
 * token the server issued. Whatever passes must name the pinned algorithm
 * and key, our issuer, and a role.
 */
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"
#include "fuzz.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

void
fuzz_init(void)
{
	if (sodium_init() < 0 || token_init() == -1)
		fuzz_fail(__FILE__, __LINE__, "no token key");
}

static char *
b64(struct arena *a, const char *s, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, B64);
	char *out = arena_alloc(a, cap);

	return sodium_bin2base64(out, cap, (const unsigned char *)s, n, B64);
}

/* header.claims signed HS256 with the server's key. */
static char *
sign(struct arena *a, const char *header, const char *claims)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char *input;

	input = arena_printf(a, "%s.%s", b64(a, header, strlen(header)),
	    b64(a, claims, strlen(claims)));
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)FUZZ_SECRET,
	    strlen(FUZZ_SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)input,
	    strlen(input));
	crypto_auth_hmacsha256_final(&st, mac);
	return arena_printf(a, "%s.%s", input,
	    b64(a, (const char *)mac, sizeof(mac)));
}

/* What a token that verified must have said in its signed header. */
static void
check_header(const char *header)
{
	json_t *h = json_loads(header, 0, NULL);

	FUZZ_ASSERT(h != NULL);
	FUZZ_ASSERT(
	    strcmp(json_string_value(json_object_get(h, "alg")), "HS256") == 0);
	FUZZ_ASSERT(
	    strcmp(json_string_value(json_object_get(h, "kid")), "k1") == 0);
	json_decref(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req *r = fuzz_req();
	struct principal p;
	char *piece[2], *token, *dot;
	int64_t ttl;
	size_t at;
	int rc;

	if (size == 0)
		goto out;
	switch (data[0] % 3) {
	case 0:
		token = fuzz_str(r->arena, data + 1, size - 1);
		rc = token_verify(r->arena, &r->fail, token, &p);
		break;
	case 1:
		fuzz_split(r->arena, data + 1, size - 1, piece, 2);
		token = sign(r->arena, piece[0], piece[1] ? piece[1] : "{}");
		rc = token_verify(r->arena, &r->fail, token, &p);
		if (rc == 0)
			check_header(piece[0]);
		break;
	default:
		/* One byte of the signed part changed: never accepted. */
		token = token_issue(r->arena,
		    "3c6ac619-93a0-421c-bdcf-ff4963cac8a6", "officer",
		    "5eed0000-0000-4000-8000-000000000010", 1, &ttl);
		dot = strrchr(token, '.');
		if (size < 3 || (data[2] == 0))
			goto out;
		at = data[1] % (size_t)(dot - token);
		token[at] = (char)(token[at] ^ data[2]);
		if (token[at] == '\0')
			goto out;
		rc = token_verify(r->arena, &r->fail, token, &p);
		FUZZ_ASSERT(rc == -1);
		break;
	}
	if (rc == 0) {
		FUZZ_ASSERT(r->fail.status == 0);
		FUZZ_ASSERT(p.role != ROLE_NONE);
		FUZZ_ASSERT(memchr(p.id, '\0', sizeof(p.id)) != NULL);
		FUZZ_ASSERT(memchr(p.unit_id, '\0', sizeof(p.unit_id)) != NULL);
	} else
		FUZZ_ASSERT(r->fail.status == 401 || r->fail.status == 400);
out:
	fuzz_req_free(r);
	return 0;
}
