/*
 * The Vietnamese of the messages people read: each English message format,
 * as the code writes it (its message id, like gettext's msgid), with its
 * Vietnamese form. Problem titles are in http/codes.c beside the codes.
 * Codes, field names and enum values stay as they are in both languages.
 * A message not in the table is answered with the Vietnamese title of its
 * code. tests/unit/core/test_lang.c holds each pair to the same conversions
 * in the same order, and tests/contract/test_codes.py each id to the code.
 */
#include <string.h>

#include "core/core.h"

const char *const lang_messages[][2] = {
	/* The request itself: framing, limits, body, query. */
	{ "the request body has invalid fields",
	    "nội dung yêu cầu có trường không hợp lệ" },
	{ "a query parameter is invalid", "tham số truy vấn không hợp lệ" },
	{ "unknown query parameter %.64s", "không có tham số truy vấn %.64s" },
	{ "%.64s is not a query parameter of this operation",
	    "%.64s không phải tham số truy vấn của thao tác này" },
	{ "fields is a comma-separated list of member names, on GET only",
	    "fields là danh sách tên trường cách nhau bằng dấu phẩy, chỉ dùng "
	    "với GET" },
	{ "limit must be from 1 to %d", "limit phải từ 1 đến %d" },
	{ "cursor must be a value from next_cursor",
	    "cursor phải là một giá trị lấy từ next_cursor" },
	{ "no resource at this path",
	    "không có tài nguyên nào ở đường dẫn này" },
	{ "%s is not allowed on this resource",
	    "không dùng được %s với tài nguyên này" },
	{ "the request could not be handled", "không xử lý được yêu cầu" },
	{ "the body is larger than %zu bytes", "nội dung lớn hơn %zu byte" },
	{ "JSON nesting is deeper than %d levels",
	    "JSON lồng nhau sâu hơn %d cấp" },
	{ "a JSON key is longer than %zu bytes",
	    "một khóa JSON dài hơn %zu byte" },
	{ "a JSON string is longer than %zu bytes",
	    "một chuỗi JSON dài hơn %zu byte" },
	{ "the body is not valid JSON: %s (line %d, column %d, position %d)",
	    "nội dung không phải JSON hợp lệ: %s (dòng %d, cột %d, vị trí %d)" },
	{ "this operation needs a JSON object as the request body",
	    "thao tác này cần một đối tượng JSON làm nội dung yêu cầu" },
	{ "the request body must be a JSON object",
	    "nội dung yêu cầu phải là một đối tượng JSON" },
	{ "this operation takes no request body",
	    "thao tác này không nhận nội dung yêu cầu" },
	{ "the body must be application/json",
	    "nội dung phải có kiểu application/json" },
	{ "the request body changes nothing",
	    "nội dung yêu cầu không thay đổi gì" },
	{ "this step takes no fields", "bước này không nhận trường nào" },
	{ "a header holds a NUL byte or is folded over several lines",
	    "một tiêu đề chứa byte NUL hoặc bị gập qua nhiều dòng" },
	{ "the request target holds %s", "đích của yêu cầu chứa %s" },
	{ "the URL is longer than %zu bytes", "URL dài hơn %zu byte" },
	{ "the request headers are larger than %zu bytes",
	    "các tiêu đề của yêu cầu lớn hơn %zu byte" },
	{ "a query parameter holds a NUL character",
	    "một tham số truy vấn chứa ký tự NUL" },
	{ "a NUL character is not allowed", "không được dùng ký tự NUL" },
	{ "only the chunked transfer coding is implemented",
	    "chỉ hỗ trợ mã hóa truyền tải chunked" },
	{ "Transfer-Encoding is malformed; send chunked",
	    "Transfer-Encoding sai định dạng; hãy gửi chunked" },
	{ "the range lies outside the %zu bytes of the file",
	    "khoảng byte nằm ngoài %zu byte của tệp" },
	{ "too many sign-ins and password changes are waiting; retry in a "
	  "second",
	    "có quá nhiều yêu cầu đăng nhập và đổi mật khẩu đang chờ; hãy thử "
	    "lại sau một giây" },

	/* Idempotency-Key and versions. */
	{ "a request with this Idempotency-Key is still running; retry later",
	    "một yêu cầu với Idempotency-Key này vẫn đang chạy; hãy thử lại "
	    "sau" },
	{ "this Idempotency-Key was used with another request",
	    "Idempotency-Key này đã được dùng cho một yêu cầu khác" },
	{ "Idempotency-Key is empty", "Idempotency-Key đang trống" },
	{ "Idempotency-Key must be 1 to %d visible ASCII characters",
	    "Idempotency-Key phải có từ 1 đến %d ký tự ASCII nhìn thấy được" },
	{ "send If-Match with the ETag of the version you changed",
	    "hãy gửi If-Match với ETag của phiên bản bạn đã sửa" },
	{ "If-Match does not name a current version",
	    "If-Match không chỉ đúng phiên bản hiện tại" },
	{ "the %s changed since version %s: reload it",
	    "%s đã thay đổi kể từ phiên bản %s: hãy tải lại" },
	{ "the plan changed since version %s: reload it",
	    "kế hoạch đã thay đổi kể từ phiên bản %s: hãy tải lại" },
	{ "the submission changed since version %s: reload it",
	    "báo cáo đã thay đổi kể từ phiên bản %s: hãy tải lại" },

	/* Fields (errors[].message). */
	{ "%s is required", "cần có %s" },
	{ "%s cannot be null", "%s không được để null" },
	{ "%s cannot be changed", "không thể thay đổi %s" },
	{ "%s is not a field of this resource",
	    "%s không phải trường của tài nguyên này" },
	{ "%s must be true or false", "%s phải là true hoặc false" },
	{ "%s must be a whole number from %lld to %lld",
	    "%s phải là số nguyên từ %lld đến %lld" },
	{ "%s must be a string", "%s phải là một chuỗi" },
	{ "%s must be a UUID", "%s phải là một UUID" },
	{ "%s must be an RFC 3339 timestamp",
	    "%s phải là thời điểm theo RFC 3339" },
	{ "%s must be a date as YYYY-MM-DD",
	    "%s phải là ngày theo dạng YYYY-MM-DD" },
	{ "%s is not one of the allowed values",
	    "%s không thuộc các giá trị cho phép" },
	{ "%s must have %lld to %lld characters",
	    "%s phải có từ %lld đến %lld ký tự" },
	{ "%s must be a list of at most %lld items",
	    "%s phải là danh sách có nhiều nhất %lld phần tử" },
	{ "%s is not valid UTF-8", "%s không phải UTF-8 hợp lệ" },
	{ "%s must be a string of 1 to %zu bytes",
	    "%s phải là chuỗi từ 1 đến %zu byte" },
	{ "%s names nothing that exists", "%s không trỏ tới đối tượng nào" },
	{ "id is set by the server", "id do máy chủ đặt" },

	/* Signing in and permissions. */
	{ "this operation needs an access token or service key",
	    "thao tác này cần mã truy cập hoặc khóa dịch vụ" },
	{ "the %s role may not do this", "vai trò %s không được làm việc này" },
	{ "the credentials are malformed", "thông tin đăng nhập sai định dạng" },
	{ "the username or password is wrong",
	    "tên đăng nhập hoặc mật khẩu không đúng" },
	{ "too many sign-in attempts; try again later",
	    "đăng nhập sai quá nhiều lần; hãy thử lại sau" },
	{ "the refresh token is unknown, used, expired or revoked",
	    "mã làm mới không tồn tại, đã dùng, đã hết hạn hoặc đã bị thu hồi" },
	{ "the current password is wrong", "mật khẩu hiện tại không đúng" },
	{ "current_password is not the account's password",
	    "current_password không phải mật khẩu của tài khoản" },
	{ "the password is too weak", "mật khẩu quá yếu" },
	{ "the %s role may not grant the %s role",
	    "vai trò %s không được cấp vai trò %s" },

	/* Things that are not there, or not yours. */
	/* %s is the resource as the API names it (plan, task), like a field. */
	{ "no such %s", "không tìm thấy %s" },
	{ "no such plan", "không có kế hoạch này" },
	{ "no such plan you manage",
	    "không có kế hoạch này trong phạm vi bạn quản lý" },
	{ "no such submission", "không có báo cáo này" },
	{ "no such inspection", "không có cuộc kiểm tra này" },
	{ "no such user", "không có người dùng này" },
	{ "no such rubric", "không có bộ tiêu chí này" },
	{ "no such attachment", "không có tệp đính kèm này" },
	{ "no such finding", "không có phát hiện này" },
	{ "no such recommendation", "không có kiến nghị này" },
	{ "no such service account", "không có tài khoản dịch vụ này" },
	{ "unit_id names no active unit of yours",
	    "unit_id không trỏ tới đơn vị đang hoạt động nào của bạn" },
	{ "unit_id names no active unit below yours",
	    "unit_id không trỏ tới đơn vị đang hoạt động nào dưới đơn vị của "
	    "bạn" },
	{ "parent_id names no active unit you manage",
	    "parent_id không trỏ tới đơn vị đang hoạt động nào bạn quản lý" },
	{ "plan_id names no plan you see",
	    "plan_id không trỏ tới kế hoạch nào bạn xem được" },
	{ "milestone_id names nothing that exists",
	    "milestone_id không trỏ tới mốc báo cáo nào" },
	{ "task_id names nothing that exists",
	    "task_id không trỏ tới nhiệm vụ nào" },

	/* The work itself. */
	{ "the unit owes nothing for this milestone",
	    "đơn vị không phải nộp gì cho mốc này" },
	{ "the plan is closed and cannot change",
	    "kế hoạch đã kết thúc và không thể thay đổi" },
	{ "an issued plan changes only by amendment",
	    "kế hoạch đã ban hành chỉ thay đổi bằng sửa đổi, bổ sung" },
	{ "the plan is issued: say why it changes in amendment_reason",
	    "kế hoạch đã ban hành: hãy nêu lý do thay đổi trong "
	    "amendment_reason" },
	{ "a plan that is %s cannot become %s",
	    "kế hoạch đang ở trạng thái %s không thể chuyển sang %s" },
	{ "a deadline needs due_on", "thời hạn cần có due_on" },
	{ "a %s submission cannot be edited",
	    "không thể sửa báo cáo ở trạng thái %s" },
	{ "a unit does not review its own submission",
	    "đơn vị không tự thẩm định báo cáo của mình" },
	{ "whoever wrote or submitted a submission does not review it",
	    "người soạn hoặc gửi báo cáo không thẩm định báo cáo đó" },
	{ "whoever accepted a submission does not also approve it",
	    "người đã tiếp nhận báo cáo không đồng thời phê duyệt báo cáo đó" },
	{ "approval comes from the level above the receiving unit",
	    "việc phê duyệt thuộc cấp trên của đơn vị nhận" },
	{ "the unit has answered this milestone already; edit or resubmit "
	  "that submission",
	    "đơn vị đã nộp cho mốc này; hãy sửa hoặc gửi lại báo cáo đó" },
	{ "a submission holds at most %d attachments, and this one has %lld",
	    "một báo cáo có nhiều nhất %d tệp đính kèm, báo cáo này đã có "
	    "%lld" },
	{ "send the file as the request body",
	    "hãy gửi tệp làm nội dung yêu cầu" },
	{ "the file must be a PDF, JPEG, PNG, WebP, Word or Excel document, "
	  "sent with its own Content-Type",
	    "tệp phải là tài liệu PDF, JPEG, PNG, WebP, Word hoặc Excel, gửi "
	    "kèm đúng Content-Type của nó" },
	{ "filename must end in .%s for a file of type %s",
	    "filename phải có đuôi .%s cho tệp kiểu %s" },
	{ "the file name's extension does not fit the file",
	    "phần mở rộng của tên tệp không khớp với tệp" },
	{ "only the inspection's team records findings and recommendations",
	    "chỉ đoàn kiểm tra mới ghi phát hiện và kiến nghị" },
	{ "the unit has sub-units, users or history: deactivate it instead",
	    "đơn vị còn đơn vị con, người dùng hoặc lịch sử: hãy ngừng hoạt "
	    "động thay vì xóa" },
	{ "every criterion is scored, with evidence where the rubric asks",
	    "mọi tiêu chí phải được chấm điểm, kèm minh chứng khi bộ tiêu chí "
	    "yêu cầu" },

	/* The server and its database. */
	{ "the database is not reachable; try again shortly",
	    "không kết nối được cơ sở dữ liệu; hãy thử lại sau ít phút" },
	{ "the request needs more than %d ms of database work; nothing was "
	  "changed",
	    "yêu cầu cần hơn %d ms xử lý cơ sở dữ liệu; chưa có gì bị thay "
	    "đổi" },
	{ "the database is at schema version %ld of %zu: run danvan migrate",
	    "cơ sở dữ liệu ở phiên bản lược đồ %ld trên %zu: hãy chạy danvan "
	    "migrate" },
	{ NULL, NULL },
};

const char *
lang_vi(const char *fmt)
{
	size_t i;

	for (i = 0; lang_messages[i][0] != NULL; i++)
		if (strcmp(lang_messages[i][0], fmt) == 0)
			return lang_messages[i][1];
	return NULL;
}
