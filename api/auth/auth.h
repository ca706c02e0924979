/*
 * Authentication and authorisation: passwords (Argon2id), access tokens
 * (JWT), refresh tokens and service-account keys, the principal a request
 * runs as, and the one table of what each role may do. jwt.h and sodium.h
 * stay inside api/auth/.
 */
#ifndef DANVAN_AUTH_H
#define DANVAN_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

enum role {
	ROLE_NONE = 0,
	ROLE_ADMIN,
	ROLE_LEADER,
	ROLE_COORDINATOR,
	ROLE_INSPECTOR,
	ROLE_OFFICER,
	ROLE_VIEWER,
	ROLE_SERVICE, /* a service account: read-only machine caller */
	ROLE_COUNT
};

/* What a route needs; perm.c says which roles have it. */
enum perm {
	PERM_PUBLIC = 0,
	PERM_SIGNED_IN, /* any authenticated user or service account */
	PERM_USER_SELF, /* any user (not a service account) */
	PERM_UNIT_READ,
	PERM_UNIT_WRITE,
	PERM_USER_READ,
	PERM_USER_WRITE,
	PERM_SERVICE_ADMIN,
	PERM_AUDIT_READ,
	PERM_PLAN_READ,
	PERM_PLAN_WRITE, /* create, edit, amend, issue and close plans */
	PERM_PROGRESS,	 /* report progress on the own unit's assignments */
	PERM_SUBMIT,	 /* write and submit the own unit's submissions */
	PERM_REVIEW,	 /* accept or return received submissions, extend */
	PERM_APPROVE,	 /* approve accepted submissions */
	PERM_INSPECT,	 /* plan and conduct inspections, review score sheets */
	PERM_FINALIZE,	 /* finalise reviewed score sheets */
	PERM_COUNT
};

/* The caller of a request, as established from its credentials. */
struct principal {
	char id[40];	  /* users.id or service_accounts.id */
	char unit_id[40]; /* the root of what the caller may see */
	enum role role;
	int service;
	long generation; /* of the user's credentials when the token was issued */
};

#define TOKEN_MAX_BYTES 4096
#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_BYTES 256

/* auth.c */
/* Loads keys and settings; -1 (logged) when they are missing or unusable. */
int auth_init(void);
/* The caller named by an Authorization header value (NULL: absent) into
 * *out (arena memory); -1 with 401/400 and WWW-Authenticate recorded. */
int auth_authenticate(struct arena *, struct failure *,
    const char *authorization, const struct principal **out);
/* Makes the next request of this user (of every user) re-read the account. */
void auth_forget_user(const char *id);
void auth_forget_all(void);
extern const struct db_stmt auth_stmts[];

/* perm.c */
/* The roles a user may have, admin first as in enum role; NULL-ended. */
extern const char *const user_roles[];
int perm_allows(enum role, enum perm);
/* The name of a permission ("plan_write"), as the contract writes it. */
const char *perm_name(enum perm);
const char *role_name(enum role);
enum role role_parse(const char *);
/* 1 when a user of role granter may give a user the role granted: never a
 * role above its own. */
int role_may_grant(enum role granter, enum role granted);

/* password.c */
/* Initialises libsodium and the dummy hash; 0 or -1. */
int password_init(void);
/* Hashes password into out[128]; 0, or -1 when out of memory. */
int password_hash(const char *password, char *out, size_t cap);
/* 1 when password matches hash (a dummy hash is checked when hash is NULL,
 * so an unknown user costs the same time); *rehash set when the parameters
 * changed. */
int password_verify(const char *hash, const char *password, int *rehash);
/* NULL when acceptable, else why not. */
const char *password_weakness(const char *password, const char *username);

/* token.c */
/* Loads the signing and verification keys; -1 (logged) when unusable. */
int token_init(void);
/* Signs an access token for the user; returns an arena string. */
char *token_issue(struct arena *, const char *user_id, const char *role,
    const char *unit_id, long generation, int64_t *expires_in);
/* Verifies an access token into p; -1 (failure recorded: 401/400). A token
 * this thread verified before is taken from its cache until it expires. */
int token_verify(struct arena *, struct failure *, const char *token,
    struct principal *p);
/* Empties every thread's token cache (at its next lookup), and this
 * thread's entry for one token. */
void token_cache_drop(void);
void token_cache_forget(const char *token);
/* What the token caches did since the start: tokens found and not found,
 * and how often they were emptied. */
struct token_cache_stats {
	long hits, misses, drops;
};
struct token_cache_stats token_cache_stats(void);
/* A new random secret (refresh token or API key) in out (base64url, with
 * prefix) and its SHA-256 in hex in hash[65]. */
void secret_new(const char *prefix, char *out, size_t cap, char *hash);
/* A keyed MAC (BLAKE2b, 128 bits) of msg, as hex into mac[TOKEN_MAC_HEX
 * + 1]: what makes a value the server hands out (a feed cursor)
 * tamper-evident. */
#define TOKEN_MAC_HEX 32
void token_mac(const char *msg, char *mac);
/* 1 when mac is token_mac(msg), compared in constant time. */
int token_mac_ok(const char *msg, const char *mac);
/* SHA-256 hex of s into hash[65]. */
void secret_hash(const char *s, char *hash);
/* SHA-256 hex of n bytes at p into hash[65]. */
void sha256_hex(const void *p, size_t n, char *hash);
/* Records 401 (400 for invalid_request) with the Bearer challenge; -1. */
int auth_fail(struct arena *, struct failure *, const char *error,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
