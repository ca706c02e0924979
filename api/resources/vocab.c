/*
 * The words of the API: every list of values that a request field or query
 * parameter accepts, defined once and shared by the resources that check
 * them. `danvan enums` prints them; the contract test holds each equal to
 * its enum in openapi/openapi.yaml (x-vocabulary), and an API test holds
 * each equal to the CHECK constraint of the column that stores it.
 */
#include "resources/resources.h"

const char *const unit_kinds[] = { "province", "department", "commune",
	"office", "front", "party", "village", "other", NULL };
const char *const plan_statuses[] = { "draft", "issued", "closed", NULL };
/* What an import may create: a closed plan is closed by /close. */
const char *const plan_import_statuses[] = { "draft", "issued", NULL };
const char *const milestone_kinds[] = { "unit_plan", "six_month_report",
	"annual_report", "custom", NULL };
/* Children of a plan's issuing unit that a milestone or an assignment may
 * name instead of units; group_units() in SQL expands them. */
const char *const unit_groups[] = { "agencies", "villages",
	"agencies_and_villages", NULL };
const char *const task_schedules[] = { "ongoing", "within_year", "deadline",
	NULL };
const char *const assignment_roles[] = { "lead", "coordinate", "implement",
	NULL };
const char *const assignment_statuses[] = { "not_started", "in_progress",
	"done", NULL };
/* Computed by the obligations query, never stored. */
const char *const obligation_states[] = { "on_time", "late", "missing",
	"pending", NULL };
const char *const submission_kinds[] = { "unit_plan", "six_month_report",
	"annual_report", "model_registration", "difficulty_report",
	"progress_report", NULL };
const char *const submission_statuses[] = { "draft", "submitted", "accepted",
	"returned", "approved", NULL };
/* The fields of work of a "Dân vận khéo" model. */
const char *const model_fields[] = { "administrative_reform", "environment",
	"new_rural_areas", "citizen_satisfaction", "security_order", "economy",
	"culture_society", "other", NULL };
const char *const model_statuses[] = { "registered", "implementing",
	"recognised", "replicated", NULL };
/* The one status a model's own unit sets by PATCH; recognition has its own
 * route. */
const char *const model_own_steps[] = { "implementing", NULL };
const char *const inspection_plan_statuses[] = { "draft", "issued", NULL };
const char *const inspection_kinds[] = { "inspection", "supervision", NULL };
const char *const inspection_statuses[] = { "planned", "in_progress",
	"completed", "cancelled", NULL };
const char *const inspection_team_roles[] = { "lead", "member", NULL };
const char *const finding_severities[] = { "info", "minor", "major", NULL };
const char *const recommendation_statuses[] = { "open", "responded", "resolved",
	NULL };
/* The forms of a table (export.c keeps its formats in this order). */
const char *const export_formats[] = { "json", "csv", "xlsx", NULL };

/* How a report groups its rows. */
const char *const report_group_bys[] = { "commune", "unit", "kind", NULL };

const struct vocabulary vocabularies[] = {
	{ "unit_kind", unit_kinds },
	{ "user_role", user_roles },
	{ "plan_status", plan_statuses },
	{ "plan_import_status", plan_import_statuses },
	{ "milestone_kind", milestone_kinds },
	{ "unit_group", unit_groups },
	{ "task_schedule", task_schedules },
	{ "assignment_role", assignment_roles },
	{ "assignment_status", assignment_statuses },
	{ "obligation_state", obligation_states },
	{ "submission_kind", submission_kinds },
	{ "submission_status", submission_statuses },
	{ "model_field", model_fields },
	{ "model_status", model_statuses },
	{ "model_own_step", model_own_steps },
	{ "inspection_plan_status", inspection_plan_statuses },
	{ "inspection_kind", inspection_kinds },
	{ "inspection_status", inspection_statuses },
	{ "inspection_team_role", inspection_team_roles },
	{ "finding_severity", finding_severities },
	{ "recommendation_status", recommendation_statuses },
	{ "export_format", export_formats },
	{ "report_group_by", report_group_bys },
	{ NULL, NULL },
};
