/*
 * Every problem code the server answers, with the status it comes with and a
 * short English title: the one list of the API's error vocabulary. `danvan
 * codes` prints it, and tests/contract/test_codes.py holds it equal to the
 * codes the sources pass and to the Problem type of openapi/openapi.yaml.
 */
#include <string.h>

#include "http/http.h"

const struct problem_code codes_list[] = {
	{ "malformed_json", 400, "Malformed JSON" },
	{ "json_too_deep", 400, "JSON nested too deeply" },
	{ "json_string_too_long", 400, "JSON string too long" },
	{ "body_required", 400, "Request body required" },
	{ "body_not_object", 400, "Request body is not an object" },
	{ "invalid_query", 400, "Invalid query parameter" },
	{ "invalid_request", 400, "Malformed Authorization header" },
	{ "invalid_idempotency_key", 400, "Invalid Idempotency-Key" },
	{ "invalid_path", 400, "Malformed request target" },
	{ "invalid_header", 400, "Malformed header" },
	{ "unauthenticated", 401, "Authentication required" },
	{ "invalid_token", 401, "Invalid token or key" },
	{ "invalid_grant", 401, "Wrong username or password" },
	{ "forbidden", 403, "Not allowed for this role" },
	{ "wrong_password", 403, "Current password is wrong" },
	{ "not_found", 404, "Not found" },
	{ "method_not_allowed", 405, "Method not allowed" },
	{ "conflict", 409, "Conflicts with stored data" },
	{ "unit_in_use", 409, "Unit still in use" },
	{ "idempotency_key_in_use", 409, "Idempotency-Key still in use" },
	{ "plan_closed", 409, "Plan closed" },
	{ "plan_not_issued", 409, "Plan not issued" },
	{ "invalid_transition", 409, "Step not allowed from this status" },
	{ "submission_locked", 409, "Submission locked" },
	{ "too_many_attachments", 409, "Too many attachments" },
	{ "attachments_too_large", 409, "Attachments too large in all" },
	{ "own_submission", 409, "Own submission" },
	{ "own_level", 409, "Approval from the same level" },
	{ "four_eyes", 409, "Four eyes: another person must do this" },
	{ "milestone_answered", 409, "Milestone answered already" },
	{ "not_on_team", 409, "Not on the inspection team" },
	{ "inspection_closed", 409, "Inspection completed or cancelled" },
	{ "inspection_not_in_progress", 409, "Inspection not in progress" },
	{ "not_addressed", 409, "Recommendation addressed to another unit" },
	{ "recommendation_locked", 409, "Recommendation resolved" },
	{ "rubric_replaced", 409, "Rubric replaced" },
	{ "score_sheet_exists", 409, "Score sheet exists" },
	{ "score_sheet_locked", 409, "Score sheet finalised" },
	{ "not_reviewer", 409, "Not the reviewing unit" },
	{ "precondition_failed", 412, "Version changed" },
	{ "payload_too_large", 413, "Request body too large" },
	{ "import_too_large", 413, "Plan document too large" },
	{ "uri_too_long", 414, "URL too long" },
	{ "unsupported_media_type", 415, "Unsupported media type" },
	{ "range_not_satisfiable", 416, "Range not satisfiable" },
	{ "invalid_body", 422, "Invalid fields" },
	{ "empty_patch", 422, "Change without changes" },
	{ "invalid_reference", 422, "Reference to nothing" },
	{ "idempotency_key_reused", 422, "Idempotency-Key reused" },
	{ "extension_mismatch", 422, "Extension does not fit the file" },
	{ "invalid_document", 422, "Invalid plan document" },
	{ "amendment_required", 422, "Amendment reason required" },
	{ "not_owed", 422, "Nothing owed" },
	{ "over_cap", 422, "Points over the rubric's cap" },
	{ "incomplete", 422, "Score sheet incomplete" },
	{ "constraint_violation", 422, "Value breaks a rule" },
	{ "missing_value", 422, "Missing value" },
	{ "invalid_value", 422, "Invalid value" },
	{ "value_too_long", 422, "Value too long" },
	{ "precondition_required", 428, "If-Match required" },
	{ "too_many_attempts", 429, "Too many sign-in attempts" },
	{ "headers_too_large", 431, "Request headers too large" },
	{ "internal", 500, "Internal error" },
	{ "unsupported_transfer_encoding", 501,
	    "Transfer coding not implemented" },
	{ "database_unavailable", 503, "Database unavailable" },
	{ "not_migrated", 503, "Database not migrated" },
	{ "busy", 503, "Server busy" },
	{ "serialization_failure", 503, "Concurrent change" },
	{ "deadlock", 503, "Deadlock" },
	{ "statement_timeout", 503, "Query took too long" },
	{ "request_timeout", 503, "Request took too long" },
	{ "lock_timeout", 503, "Row locked too long" },
};
const size_t codes_count = nitems(codes_list);

const struct problem_code *
codes_find(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < codes_count; i++)
		if (strcmp(codes_list[i].code, code) == 0)
			return &codes_list[i];
	return NULL;
}
