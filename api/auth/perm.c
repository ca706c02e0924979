/*
 * The one table of what each role may do. The router checks a route's
 * permission here; which objects the caller may touch (its unit subtree) is
 * checked inside every query. The README reproduces this table.
 */
#include <string.h>

#include "auth/auth.h"

#define R(x) (1u << (x))
#define USERS (R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR) | \
	R(ROLE_INSPECTOR) | R(ROLE_OFFICER) | R(ROLE_VIEWER))

static const unsigned allowed[PERM_COUNT] = {
	[PERM_PUBLIC] = ~0u,
	[PERM_SIGNED_IN] = USERS | R(ROLE_SERVICE),
	[PERM_USER_SELF] = USERS,
	[PERM_UNIT_READ] = USERS | R(ROLE_SERVICE),
	[PERM_UNIT_WRITE] = R(ROLE_ADMIN),
	[PERM_USER_READ] = R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR),
	[PERM_USER_WRITE] = R(ROLE_ADMIN),
	[PERM_SERVICE_ADMIN] = R(ROLE_ADMIN),
	[PERM_AUDIT_READ] = R(ROLE_ADMIN) | R(ROLE_LEADER),
	[PERM_PLAN_READ] = USERS | R(ROLE_SERVICE),
	[PERM_PLAN_WRITE] = R(ROLE_ADMIN) | R(ROLE_LEADER),
	[PERM_PROGRESS] = R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR) |
	    R(ROLE_OFFICER),
	[PERM_SUBMIT] = R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR) |
	    R(ROLE_OFFICER),
	[PERM_REVIEW] = R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR),
	[PERM_APPROVE] = R(ROLE_ADMIN) | R(ROLE_LEADER),
	[PERM_INSPECT] = R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR) |
	    R(ROLE_INSPECTOR),
	[PERM_FINALIZE] = R(ROLE_ADMIN) | R(ROLE_LEADER),
};

static const char *const names[ROLE_COUNT] = {
	[ROLE_NONE] = "none",
	[ROLE_ADMIN] = "admin",
	[ROLE_LEADER] = "leader",
	[ROLE_COORDINATOR] = "coordinator",
	[ROLE_INSPECTOR] = "inspector",
	[ROLE_OFFICER] = "officer",
	[ROLE_VIEWER] = "viewer",
	[ROLE_SERVICE] = "service",
};

int
perm_allows(enum role role, enum perm perm)
{
	if (perm < 0 || perm >= PERM_COUNT || role <= ROLE_NONE ||
	    role >= ROLE_COUNT)
		return perm == PERM_PUBLIC;
	return (allowed[perm] & R(role)) != 0;
}

const char *
role_name(enum role role)
{
	return role > ROLE_NONE && role < ROLE_COUNT ? names[role] : "none";
}

/* Parses the role of a user; "service" is not a user role. */
enum role
role_parse(const char *s)
{
	int i;

	for (i = ROLE_ADMIN; i < ROLE_SERVICE; i++)
		if (s != NULL && strcmp(names[i], s) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

/* Roles rank in the order of enum role, admin first. */
int
role_may_grant(enum role granter, enum role granted)
{
	return granter > ROLE_NONE && granter < ROLE_SERVICE &&
	    granted > ROLE_NONE && granted < ROLE_SERVICE && granted >= granter;
}
