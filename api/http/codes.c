/*
 * Every problem code the server answers, with the status it comes with and a
 * short title in English and in Vietnamese (Accept-Language: vi): the one
 * list of the API's error vocabulary. `danvan
 * codes` prints it, and tests/contract/test_codes.py holds it equal to the
 * codes the sources pass and to the Problem type of openapi/openapi.yaml.
 * The second list is the codes of errors[] entries (`danvan codes fields`),
 * held the same way to the FieldError code of the contract.
 */
#include <string.h>

#include "http/http.h"

const struct problem_code codes_list[] = {
	{ "malformed_json", 400, "Malformed JSON", "JSON sai cú pháp" },
	{ "json_too_deep", 400, "JSON nested too deeply",
	    "JSON lồng nhau quá sâu" },
	{ "json_string_too_long", 400, "JSON string too long",
	    "Chuỗi JSON quá dài" },
	{ "body_required", 400, "Request body required",
	    "Thiếu nội dung yêu cầu" },
	{ "body_not_object", 400, "Request body is not an object",
	    "Nội dung yêu cầu không phải đối tượng" },
	{ "invalid_query", 400, "Invalid query parameter",
	    "Tham số truy vấn không hợp lệ" },
	{ "invalid_request", 400, "Malformed Authorization header",
	    "Tiêu đề Authorization sai định dạng" },
	{ "invalid_idempotency_key", 400, "Invalid Idempotency-Key",
	    "Idempotency-Key không hợp lệ" },
	{ "invalid_path", 400, "Malformed request target",
	    "Đích yêu cầu sai định dạng" },
	{ "invalid_header", 400, "Malformed header", "Tiêu đề sai định dạng" },
	{ "unauthenticated", 401, "Authentication required", "Cần đăng nhập" },
	{ "invalid_token", 401, "Invalid token or key",
	    "Mã hoặc khóa không hợp lệ" },
	{ "invalid_grant", 401, "Wrong username or password",
	    "Sai tên đăng nhập hoặc mật khẩu" },
	{ "forbidden", 403, "Not allowed for this role",
	    "Vai trò này không được phép" },
	{ "wrong_password", 403, "Current password is wrong",
	    "Mật khẩu hiện tại không đúng" },
	{ "not_found", 404, "Not found", "Không tìm thấy" },
	{ "method_not_allowed", 405, "Method not allowed",
	    "Phương thức không được hỗ trợ" },
	{ "conflict", 409, "Conflicts with stored data",
	    "Xung đột với dữ liệu đã lưu" },
	{ "unit_in_use", 409, "Unit still in use",
	    "Đơn vị vẫn đang được sử dụng" },
	{ "idempotency_key_in_use", 409, "Idempotency-Key still in use",
	    "Idempotency-Key đang được sử dụng" },
	{ "plan_closed", 409, "Plan closed", "Kế hoạch đã kết thúc" },
	{ "plan_not_issued", 409, "Plan not issued", "Kế hoạch chưa ban hành" },
	{ "invalid_transition", 409, "Step not allowed from this status",
	    "Không thực hiện được bước này từ trạng thái hiện tại" },
	{ "submission_locked", 409, "Submission locked", "Báo cáo đã khóa" },
	{ "too_many_attachments", 409, "Too many attachments",
	    "Quá nhiều tệp đính kèm" },
	{ "attachments_too_large", 409, "Attachments too large in all",
	    "Tổng dung lượng tệp đính kèm quá lớn" },
	{ "own_submission", 409, "Own submission", "Báo cáo của chính mình" },
	{ "own_level", 409, "Approval from the same level",
	    "Phê duyệt cùng cấp" },
	{ "four_eyes", 409, "Four eyes: another person must do this",
	    "Nguyên tắc bốn mắt: cần người khác thực hiện" },
	{ "milestone_answered", 409, "Milestone answered already",
	    "Mốc này đã được nộp" },
	{ "not_on_team", 409, "Not on the inspection team",
	    "Không thuộc đoàn kiểm tra" },
	{ "inspection_closed", 409, "Inspection completed or cancelled",
	    "Cuộc kiểm tra đã hoàn thành hoặc đã hủy" },
	{ "inspection_not_in_progress", 409, "Inspection not in progress",
	    "Cuộc kiểm tra không đang diễn ra" },
	{ "not_addressed", 409, "Recommendation addressed to another unit",
	    "Kiến nghị gửi cho đơn vị khác" },
	{ "recommendation_locked", 409, "Recommendation resolved",
	    "Kiến nghị đã được giải quyết" },
	{ "rubric_replaced", 409, "Rubric replaced",
	    "Bộ tiêu chí đã được thay thế" },
	{ "score_sheet_exists", 409, "Score sheet exists",
	    "Phiếu chấm điểm đã có" },
	{ "score_sheet_locked", 409, "Score sheet finalised",
	    "Phiếu chấm điểm đã chốt" },
	{ "not_reviewer", 409, "Not the reviewing unit",
	    "Không phải đơn vị thẩm định" },
	{ "precondition_failed", 412, "Version changed",
	    "Phiên bản đã thay đổi" },
	{ "payload_too_large", 413, "Request body too large",
	    "Nội dung yêu cầu quá lớn" },
	{ "import_too_large", 413, "Plan document too large",
	    "Văn bản kế hoạch quá lớn" },
	{ "report_too_large", 413, "Report has too many groups",
	    "Báo cáo có quá nhiều nhóm" },
	{ "uri_too_long", 414, "URL too long", "URL quá dài" },
	{ "unsupported_media_type", 415, "Unsupported media type",
	    "Kiểu dữ liệu không được hỗ trợ" },
	{ "range_not_satisfiable", 416, "Range not satisfiable",
	    "Khoảng byte không đáp ứng được" },
	{ "invalid_body", 422, "Invalid fields", "Trường không hợp lệ" },
	{ "empty_patch", 422, "Change without changes",
	    "Yêu cầu sửa không thay đổi gì" },
	{ "invalid_reference", 422, "Reference to nothing",
	    "Tham chiếu không tồn tại" },
	{ "idempotency_key_reused", 422, "Idempotency-Key reused",
	    "Idempotency-Key bị dùng lại" },
	{ "extension_mismatch", 422, "Extension does not fit the file",
	    "Phần mở rộng không khớp với tệp" },
	{ "invalid_document", 422, "Invalid plan document",
	    "Văn bản kế hoạch không hợp lệ" },
	{ "amendment_required", 422, "Amendment reason required",
	    "Cần lý do sửa đổi" },
	{ "not_owed", 422, "Nothing owed", "Không có nghĩa vụ nộp" },
	{ "over_cap", 422, "Points over the rubric's cap",
	    "Điểm vượt mức tối đa của bộ tiêu chí" },
	{ "incomplete", 422, "Score sheet incomplete",
	    "Phiếu chấm điểm chưa đầy đủ" },
	{ "constraint_violation", 422, "Value breaks a rule",
	    "Giá trị vi phạm quy tắc" },
	{ "missing_value", 422, "Missing value", "Thiếu giá trị" },
	{ "invalid_value", 422, "Invalid value", "Giá trị không hợp lệ" },
	{ "value_too_long", 422, "Value too long", "Giá trị quá dài" },
	{ "precondition_required", 428, "If-Match required", "Cần If-Match" },
	{ "too_many_attempts", 429, "Too many sign-in attempts",
	    "Đăng nhập quá nhiều lần" },
	/* Answered by nginx (deploy/nginx/danvan.conf), not by the server. */
	{ "too_many_requests", 429, "Too many requests", "Quá nhiều yêu cầu" },
	{ "headers_too_large", 431, "Request headers too large",
	    "Tiêu đề yêu cầu quá lớn" },
	{ "internal", 500, "Internal error", "Lỗi nội bộ" },
	{ "unsupported_transfer_encoding", 501,
	    "Transfer coding not implemented",
	    "Mã hóa truyền tải chưa được hỗ trợ" },
	{ "database_unavailable", 503, "Database unavailable",
	    "Cơ sở dữ liệu không sẵn sàng" },
	{ "not_migrated", 503, "Database not migrated",
	    "Cơ sở dữ liệu chưa được cập nhật lược đồ" },
	{ "busy", 503, "Server busy", "Máy chủ đang bận" },
	{ "service_unavailable", 503, "Service unreachable",
	    "Không kết nối được dịch vụ" },
	{ "serialization_failure", 503, "Concurrent change",
	    "Thay đổi đồng thời" },
	{ "deadlock", 503, "Deadlock", "Bế tắc giao dịch" },
	{ "statement_timeout", 503, "Query took too long", "Truy vấn quá lâu" },
	{ "request_timeout", 503, "Request took too long",
	    "Yêu cầu xử lý quá lâu" },
	{ "lock_timeout", 503, "Row locked too long",
	    "Dòng dữ liệu bị khóa quá lâu" },
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

const char *
codes_title(const char *code, int vi)
{
	const struct problem_code *c = codes_find(code);

	return c == NULL ? NULL : vi ? c->title_vi : c->title;
}

const struct field_code field_codes_list[] = {
	{ "unknown", "not a field of the resource, or one that cannot change" },
	{ "required", "missing" },
	{ "null", "null where a value is needed" },
	{ "type", "of the wrong JSON type" },
	{ "format", "not in the expected format (uuid, date, code)" },
	{ "enum", "not one of the accepted values" },
	{ "length", "too short or too long, or too many entries" },
	{ "range", "a number or date out of range" },
	{ "weak", "a password too weak" },
	{ "invalid", "a credential, or an entry of a list of objects" },
	{ "wrong", "the current password is not the account's" },
	{ "not_allowed", "a field this entity may not have" },
	{ "after_deadline", "a date after the deadline it must keep" },
	{ "duplicate", "given twice" },
	{ "mismatch", "does not match what it refers to" },
	{ "not_owed", "the unit owes nothing for this milestone" },
	{ "lead", "an inspection team without exactly one lead" },
	{ "order", "entries out of order" },
	{ "cap", "points over the criterion's maximum" },
	{ "evidence_required", "a criterion that needs evidence has none" },
	{ "extension", "a file name whose extension does not fit the file" },
	{ "encoding", "a query parameter that is not valid UTF-8" },
};
const size_t field_codes_count = nitems(field_codes_list);
