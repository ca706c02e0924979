/*
 * Passwords: Argon2id through libsodium, 3 passes over 64 MiB (about 0.2 s
 * on one core here). Hashes carry their parameters, so a change of these
 * constants is noticed at the next login and the hash is redone. Requests
 * that hash run on the server's offload threads, two at a time at most.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth.h"

#define OPSLIMIT 3
#define MEMLIMIT (64ULL << 20)

static char dummy[crypto_pwhash_STRBYTES];

/* Among the commonest passwords in public breach lists, at least 10 long. */
static const char *const common[] = {
	"1234567890",
	"12345678910",
	"123456789a",
	"1q2w3e4r5t",
	"1qaz2wsx3edc",
	"0123456789",
	"0987654321",
	"1111111111",
	"0000000000",
	"qwertyuiop",
	"1234512345",
	"123123123123",
	"abcd123456",
	"a123456789",
	"abc1234567",
	"password12",
	"password123",
	"password1234",
	"passw0rd123",
	"iloveyou123",
	"qwerty12345",
	"qwerty123456",
	"asdfghjkl1",
	"1234qwerty",
	"qwe1234567",
	"zxcvbnm123",
	"abcdefghij",
	"abc123456789",
	"princess123",
	"football123",
	"superman123",
	"administrator",
	"admin12345",
	"admin123456",
	"welcome123",
	"changeme123",
	"letmein123",
	"matkhau123",
	"matkhau1234",
	"123456789@",
	"vietnam123",
	"vietnam1234",
	"anhyeuem123",
	"anhyeuem",
	"yeuemnhieu",
	"danvan2026",
	"binhchuong",
	"quangngai123",
	"ubndxa2026",
	"11223344556",
	"1122334455",
	"5555555555",
	"9999999999",
	"7777777777",
	"1234567899",
	"12345678900",
	"147258369a",
	"147258369",
	"159753456",
	"987654321a",
	"trustno1234",
};

int
password_init(void)
{
	if (sodium_init() < 0)
		return -1;
	return password_hash("not a real password, only to spend the time",
	    dummy, sizeof(dummy));
}

int
password_hash(const char *password, char *out, size_t cap)
{
	if (cap < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT,
	    MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13);
}

int
password_verify(const char *hash, const char *password, int *rehash)
{
	int ok;

	*rehash = 0;
	ok = crypto_pwhash_str_verify(hash ? hash : dummy, password,
		 strlen(password)) == 0;
	if (hash == NULL)
		return 0;
	if (ok)
		*rehash = crypto_pwhash_str_needs_rehash(hash, OPSLIMIT,
			      MEMLIMIT) != 0;
	return ok;
}

const char *
password_weakness(const char *password, const char *username)
{
	char low[PASSWORD_MAX_BYTES + 1];
	size_t i, len, n = strlen(password);

	if (n > PASSWORD_MAX_BYTES)
		return "is longer than 256 bytes";
	if (utf8_chars(password) < PASSWORD_MIN_CHARS)
		return "is shorter than 10 characters";
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)password[i]);
	for (i = 0; i < nitems(common); i++)
		if (strcmp(low, common[i]) == 0)
			return "is one of the commonest passwords";
	if (username != NULL && *username != '\0' && strstr(low, username))
		return "contains the username";
	/* One character repeated, counted in UTF-8 sequences. */
	for (len = 1; len < n && ((unsigned char)password[len] & 0xc0) == 0x80;
	     len++)
		;
	for (i = len; i + len <= n && memcmp(password + i, password, len) == 0;
	     i += len)
		;
	if (i == n)
		return "repeats one character";
	return NULL;
}
