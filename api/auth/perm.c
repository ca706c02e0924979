/*
 * The one table of what each role may do. The router checks a route's
 * permission here; which objects the caller may touch (its unit subtree) is
 * checked inside every query. The README reproduces this table.
 */
#include <string.h>

#include "auth/auth.h"

#define R(x) (1u << (x))
#define USERS                                                                  \
	(R(ROLE_ADMIN) | R(ROLE_LEADER) | R(ROLE_COORDINATOR) |                \
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

static const char *const perm_names[PERM_COUNT] = {
	[PERM_PUBLIC] = "public",
	[PERM_SIGNED_IN] = "signed_in",
	[PERM_USER_SELF] = "user_self",
	[PERM_UNIT_READ] = "unit_read",
	[PERM_UNIT_WRITE] = "unit_write",
	[PERM_USER_READ] = "user_read",
	[PERM_USER_WRITE] = "user_write",
	[PERM_SERVICE_ADMIN] = "service_admin",
	[PERM_AUDIT_READ] = "audit_read",
	[PERM_PLAN_READ] = "plan_read",
	[PERM_PLAN_WRITE] = "plan_write",
	[PERM_PROGRESS] = "progress",
	[PERM_SUBMIT] = "submit",
	[PERM_REVIEW] = "review",
	[PERM_APPROVE] = "approve",
	[PERM_INSPECT] = "inspect",
	[PERM_FINALIZE] = "finalize",
};

/* Also the values the role field of a user accepts. */
const char *const user_roles[] = { "admin", "leader", "coordinator",
	"inspector", "officer", "viewer", NULL };
_Static_assert(nitems(user_roles) == ROLE_SERVICE - ROLE_ADMIN + 1,
    "a name for every user role");

int
perm_allows(enum role role, enum perm perm)
{
	if (perm < 0 || perm >= PERM_COUNT || role <= ROLE_NONE ||
	    role >= ROLE_COUNT)
		return perm == PERM_PUBLIC;
	return (allowed[perm] & R(role)) != 0;
}

const char *
perm_name(enum perm perm)
{
	return perm >= 0 && perm < PERM_COUNT && perm_names[perm] != NULL ?
	    perm_names[perm] :
	    "unknown";
}

const char *
role_name(enum role role)
{
	if (role == ROLE_SERVICE)
		return "service";
	return role >= ROLE_ADMIN && role < ROLE_SERVICE ?
	    user_roles[role - ROLE_ADMIN] :
	    "none";
}

/* Parses the role of a user; "service" is not a user role. */
enum role
role_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && user_roles[i] != NULL; i++)
		if (strcmp(user_roles[i], s) == 0)
			return (enum role)(ROLE_ADMIN + i);
	return ROLE_NONE;
}

/* Roles rank in the order of enum role, admin first. */
int
role_may_grant(enum role granter, enum role granted)
{
	return granter > ROLE_NONE && granter < ROLE_SERVICE &&
	    granted > ROLE_NONE && granted < ROLE_SERVICE && granted >= granter;
}
