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
	{ "Transfer-Encoding is sent more than once",
	    "Transfer-Encoding được gửi nhiều hơn một lần" },
	{ "Transfer-Encoding and Content-Length are both sent",
	    "gửi cả Transfer-Encoding lẫn Content-Length" },
	{ "an HTTP/1.0 request cannot have a Transfer-Encoding",
	    "yêu cầu HTTP/1.0 không được có Transfer-Encoding" },
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

	/* Plans, assignments, submissions, inspections and scoring. */
	{ "the receiving unit is not in the plan's issuing unit or "
	  "below it",
	    "đơn vị nhận không phải đơn vị ban hành kế hoạch hay đơn vị "
	    "cấp dưới của nó" },
	{ "replicated_from names no recognised model you see",
	    "replicated_from không trỏ tới mô hình đã được công nhận "
	    "nào bạn xem được" },
	{ "a %s model is not recognised again",
	    "mô hình ở trạng thái %s không được công nhận lại" },
	{ "a %s model does not go back to implementing",
	    "mô hình ở trạng thái %s không quay lại giai đoạn thực hiện" },
	{ "give exactly one of unit_id and group",
	    "hãy cho đúng một trong hai: unit_id hoặc group" },
	{ "a responsible person belongs to one unit, not a group",
	    "người phụ trách thuộc về một đơn vị, không phải một nhóm" },
	{ "due_on is after the task's deadline %s",
	    "due_on sau thời hạn %s của nhiệm vụ" },
	{ "the assignment is due after its task",
	    "thời hạn của phân công muộn hơn thời hạn của nhiệm vụ" },
	{ "the unit cannot take this assignment",
	    "đơn vị không nhận được phân công này" },
	{ "progress is reported on an issued plan; this one is %s",
	    "tiến độ chỉ báo cáo trên kế hoạch đã ban hành; kế hoạch "
	    "này đang ở trạng thái %s" },
	{ "responsible_user_id names no active user of the assigned "
	  "unit",
	    "responsible_user_id không trỏ tới người dùng đang hoạt "
	    "động nào của đơn vị được phân công" },
	{ "done work is at 100", "công việc đã xong thì tiến độ là 100" },
	{ "each team entry is an object",
	    "mỗi thành viên đoàn là một đối tượng" },
	{ "a user is on the team once",
	    "mỗi người chỉ có mặt trong đoàn một lần" },
	{ "the team has exactly one lead", "đoàn có đúng một trưởng đoàn" },
	{ "each task id is a UUID", "mỗi mã nhiệm vụ là một UUID" },
	{ "the user is not an active user of the plan's units outside "
	  "the inspected unit",
	    "người này không phải người dùng đang hoạt động của các đơn "
	    "vị trong kế hoạch ngoài đơn vị được kiểm tra" },
	{ "the task is not a task of the plan",
	    "nhiệm vụ này không thuộc kế hoạch" },
	{ "a submission's attachments take at most %zu bytes in all: "
	  "this one holds %lld, the file has %zu",
	    "tệp đính kèm của một báo cáo tổng cộng nhiều nhất %zu "
	    "byte: báo cáo này đã có %lld, tệp có %zu" },
	{ "a %s submission takes no more attachments",
	    "báo cáo ở trạng thái %s không nhận thêm tệp đính kèm" },
	{ "the attachment that conflicted is gone",
	    "tệp đính kèm gây xung đột không còn nữa" },
	{ "task_id names no task of the inspection's plan",
	    "task_id không trỏ tới nhiệm vụ nào của kế hoạch được kiểm "
	    "tra" },
	{ "each recommendation is an object", "mỗi kiến nghị là một đối tượng" },
	{ "format must be json, csv or xlsx",
	    "format phải là json, csv hoặc xlsx" },
	{ "unit_id names no active unit you manage",
	    "unit_id không trỏ tới đơn vị đang hoạt động nào bạn quản "
	    "lý" },
	{ "the service account changed since version %s",
	    "tài khoản dịch vụ đã thay đổi kể từ phiên bản %s" },
	{ "%s may hold only a-z, 0-9, '-', '_' and '.', and starts "
	  "with a letter or digit",
	    "%s chỉ được chứa a-z, 0-9, '-', '_' và '.', và bắt đầu "
	    "bằng chữ cái hoặc chữ số" },
	{ "a %s inspection takes no more files",
	    "cuộc kiểm tra ở trạng thái %s không nhận thêm tệp" },
	{ "only the unit the recommendation is addressed to sends "
	  "evidence",
	    "chỉ đơn vị nhận kiến nghị mới gửi minh chứng" },
	{ "a resolved recommendation takes no more files",
	    "kiến nghị đã giải quyết không nhận thêm tệp" },
	{ "the password %s", "mật khẩu %s" },
	{ "the server is out of memory for password hashing; try "
	  "again",
	    "máy chủ hết bộ nhớ để băm mật khẩu; hãy thử lại" },
	{ "a new user is active", "người dùng mới luôn ở trạng thái hoạt động" },
	{ "the users of your own unit are managed from the unit "
	  "above; change your own password with POST "
	  "/api/v1/me/password",
	    "người dùng của đơn vị bạn do cấp trên quản lý; hãy đổi mật "
	    "khẩu của chính bạn bằng POST /api/v1/me/password" },
	{ "an entry must be an object", "mỗi mục phải là một đối tượng" },
	{ "status changes by /issue and /close",
	    "trạng thái thay đổi qua /issue và /close" },
	{ "parent_plan_id names no plan you see, or would make a "
	  "cycle",
	    "parent_plan_id không trỏ tới kế hoạch nào bạn xem được, "
	    "hoặc sẽ tạo thành vòng lặp" },
	{ "issuing_unit_id names no unit you manage",
	    "issuing_unit_id không trỏ tới đơn vị nào bạn quản lý" },
	{ "%s must be a number of points from 0 to %g with at most "
	  "two decimals",
	    "%s phải là số điểm từ 0 đến %g, nhiều nhất hai chữ số thập "
	    "phân" },
	{ "a group has at least one criterion",
	    "mỗi nhóm có ít nhất một tiêu chí" },
	{ "a criterion is an object", "mỗi tiêu chí là một đối tượng" },
	{ "max_points is above 0", "max_points phải lớn hơn 0" },
	{ "only the criteria of a group require evidence",
	    "chỉ tiêu chí trong nhóm mới yêu cầu minh chứng" },
	{ "criterion codes are unique in a rubric",
	    "mã tiêu chí không được trùng trong một bộ tiêu chí" },
	{ "a rubric has at least one group of criteria",
	    "bộ tiêu chí có ít nhất một nhóm tiêu chí" },
	{ "a group is an object with code, title and criteria",
	    "mỗi nhóm là một đối tượng có code, title và criteria" },
	{ "%s is an object with cap and criteria",
	    "%s là một đối tượng có cap và criteria" },
	{ "a rubric has at least one band",
	    "bộ tiêu chí có ít nhất một mức xếp loại" },
	{ "a band is an object with name and min_total",
	    "mỗi mức xếp loại là một đối tượng có name và min_total" },
	{ "bands go from the highest minimum down",
	    "các mức xếp loại đi từ ngưỡng cao nhất xuống" },
	{ "the lowest band starts at 0, so every total has a band",
	    "mức thấp nhất bắt đầu từ 0, để tổng điểm nào cũng có mức "
	    "xếp loại" },
	{ "unit_id names no active unit of yours under the plan's "
	  "issuing unit",
	    "unit_id không trỏ tới đơn vị đang hoạt động nào của bạn "
	    "dưới đơn vị ban hành kế hoạch" },
	{ "replaces_id names no current rubric of this plan that you "
	  "manage",
	    "replaces_id không trỏ tới bộ tiêu chí hiện hành nào của kế "
	    "hoạch này mà bạn quản lý" },
	{ "scheduled_on lies outside the inspection plan's period %s "
	  "to %s",
	    "scheduled_on nằm ngoài thời gian của kế hoạch kiểm tra, từ "
	    "%s đến %s" },
	{ "inspection_plan_id names no inspection plan you manage",
	    "inspection_plan_id không trỏ tới kế hoạch kiểm tra nào bạn "
	    "quản lý" },
	{ "target_unit_id names no active unit of the plan",
	    "target_unit_id không trỏ tới đơn vị đang hoạt động nào của "
	    "kế hoạch" },
	{ "the inspecting unit must be an active unit of the plan "
	  "other than the target",
	    "đơn vị kiểm tra phải là một đơn vị đang hoạt động của kế "
	    "hoạch, khác đơn vị được kiểm tra" },
	{ "a planned visit has no %s yet",
	    "cuộc kiểm tra mới lên kế hoạch chưa có %s" },
	{ "only the team and the unit that manages the inspection "
	  "plan work on a visit; the inspected unit answers its "
	  "recommendations",
	    "chỉ đoàn kiểm tra và đơn vị quản lý kế hoạch kiểm tra làm "
	    "việc trên cuộc kiểm tra; đơn vị được kiểm tra trả lời các "
	    "kiến nghị của mình" },
	{ "a %s inspection cannot be changed",
	    "không thể thay đổi cuộc kiểm tra ở trạng thái %s" },
	{ "a %s inspection cannot be %s",
	    "cuộc kiểm tra ở trạng thái %s không thể chuyển sang %s" },
	{ "a visit completes with its conclusion",
	    "cuộc kiểm tra kết thúc kèm kết luận" },
	{ "the inspection has no conclusion", "cuộc kiểm tra chưa có kết luận" },
	{ "task number %s is used twice",
	    "số thứ tự nhiệm vụ %s bị dùng hai lần" },
	{ "plan is an object", "plan là một đối tượng" },
	{ "milestones is a list of at most 50",
	    "milestones là danh sách có nhiều nhất 50 phần tử" },
	{ "tasks is a list of at most 200",
	    "tasks là danh sách có nhiều nhất 200 phần tử" },
	{ "%s is not an active unit of the issuing unit or below it",
	    "%s không phải đơn vị đang hoạt động của đơn vị ban hành "
	    "hay cấp dưới của nó" },
	{ "the document stands for %ld assignments once its groups "
	  "are expanded (%zu tasks); an import takes at most %d",
	    "văn bản ứng với %ld phân công khi mở rộng các nhóm (%zu "
	    "nhiệm vụ); mỗi lần nhập nhiều nhất %d" },
	{ "%d unit references are outside the issuing unit",
	    "%d tham chiếu đơn vị nằm ngoài đơn vị ban hành" },
	{ "%s is not part of a plan document",
	    "%s không thuộc văn bản kế hoạch" },
	{ "the plan document has %d problems", "văn bản kế hoạch có %d lỗi" },
	{ "dry_run is true or false", "dry_run là true hoặc false" },
	{ "period_end is before period_start", "period_end trước period_start" },
	{ "issuing_unit_id names no active unit of yours under the "
	  "plan's issuing unit",
	    "issuing_unit_id không trỏ tới đơn vị đang hoạt động nào "
	    "của bạn dưới đơn vị ban hành kế hoạch" },
	{ "the inspection plan is issued already",
	    "kế hoạch kiểm tra đã được ban hành" },
	{ "an issued inspection plan changes by amendment, with its "
	  "reason",
	    "kế hoạch kiểm tra đã ban hành chỉ thay đổi bằng sửa đổi, "
	    "kèm lý do" },
	{ "an issued inspection plan needs amendment_reason",
	    "kế hoạch kiểm tra đã ban hành cần amendment_reason" },
	{ "only a deadline has due_on",
	    "chỉ nhiệm vụ có thời hạn mới có due_on" },
	{ "the schedule and due_on disagree",
	    "schedule và due_on không khớp nhau" },
	{ "data must be an object", "data phải là một đối tượng" },
	{ "data.field is not a known field of work",
	    "data.field không phải lĩnh vực công tác đã biết" },
	{ "the unit has answered this milestone already with "
	  "submission %s; edit or resubmit it",
	    "đơn vị đã nộp cho mốc này bằng báo cáo %s; hãy sửa hoặc "
	    "gửi lại báo cáo đó" },
	{ "the milestone expects a %s", "mốc này cần một báo cáo loại %s" },
	{ "assignment_id names no assignment of this unit",
	    "assignment_id không trỏ tới phân công nào của đơn vị này" },
	{ "the milestone, task and assignment belong to different "
	  "plans",
	    "mốc, nhiệm vụ và phân công thuộc các kế hoạch khác nhau" },
	{ "a reference does not fit", "một tham chiếu không khớp" },
	{ "a submission with this id exists and was made from another "
	  "request",
	    "đã có báo cáo với id này, được tạo từ một yêu cầu khác" },
	{ "a %s answers a milestone",
	    "báo cáo loại %s phải trả lời một mốc báo cáo" },
	{ "no such milestone your unit receives",
	    "không có mốc báo cáo này trong các mốc đơn vị bạn tiếp "
	    "nhận" },
	{ "an extension ends after the milestone's %s",
	    "gia hạn phải kết thúc sau hạn %s của mốc" },
	{ "each entry is an object", "mỗi mục là một đối tượng" },
	{ "the rubric has no criterion %s", "bộ tiêu chí không có tiêu chí %s" },
	{ "a criterion appears once", "mỗi tiêu chí chỉ xuất hiện một lần" },
	{ "points of %s go from 0 to %s, with at most two decimals",
	    "điểm của %s từ 0 đến %s, nhiều nhất hai chữ số thập phân" },
	{ "evidence holds submission_ids and attachment_ids, at most "
	  "10 of each",
	    "evidence gồm submission_ids và attachment_ids, mỗi loại "
	    "nhiều nhất 10" },
	{ "an id is a UUID", "mỗi id là một UUID" },
	{ "the evidence is not a submission or file of the scored "
	  "unit",
	    "minh chứng không phải báo cáo hay tệp của đơn vị được chấm" },
	{ "the %s points add up to more than the rubric's cap",
	    "tổng điểm %s vượt mức tối đa của bộ tiêu chí" },
	{ "the %s points exceed the rubric's cap",
	    "điểm %s vượt mức tối đa của bộ tiêu chí" },
	{ "this rubric has been replaced by a newer one: score "
	  "against that one",
	    "bộ tiêu chí này đã được thay bằng bộ mới hơn: hãy chấm "
	    "theo bộ đó" },
	{ "unit_id names no active unit of yours that the rubric "
	  "scores",
	    "unit_id không trỏ tới đơn vị đang hoạt động nào của bạn mà "
	    "bộ tiêu chí chấm điểm" },
	{ "the unit has a score sheet for this rubric already",
	    "đơn vị đã có phiếu chấm điểm theo bộ tiêu chí này" },
	{ "no such score sheet of your units",
	    "không có phiếu chấm điểm này trong các đơn vị của bạn" },
	{ "only the unit that scores with the rubric, and the units "
	  "above it, review",
	    "chỉ đơn vị chấm theo bộ tiêu chí và các đơn vị cấp trên "
	    "mới thẩm định" },
	{ "whoever submitted a score sheet, and the scored unit, do "
	  "not review it",
	    "người gửi phiếu chấm điểm và đơn vị được chấm không thẩm "
	    "định phiếu đó" },
	{ "whoever adjusted the sheet or ruled on it does not also "
	  "finalise it",
	    "người đã điều chỉnh hoặc kết luận về phiếu không đồng thời "
	    "chốt phiếu đó" },
	{ "the rubric has been replaced: score against the new one",
	    "bộ tiêu chí đã được thay thế: hãy chấm theo bộ mới" },
	{ "adjust at least one criterion",
	    "hãy điều chỉnh ít nhất một tiêu chí" },
	{ "no such %s you manage",
	    "không tìm thấy %s trong phạm vi bạn quản lý" },
	{ "a new unit is active", "đơn vị mới luôn ở trạng thái hoạt động" },
	{ "parent_id names no active unit you manage outside this one",
	    "parent_id không trỏ tới đơn vị đang hoạt động nào bạn quản "
	    "lý ngoài đơn vị này" },
	{ "give exactly one of group and unit_ids",
	    "hãy cho đúng một trong hai: group hoặc unit_ids" },
	{ "unit ids are UUIDs", "mã đơn vị là UUID" },
	{ "%ld of the units are not in the plan's issuing unit or "
	  "below it",
	    "%ld đơn vị không thuộc đơn vị ban hành kế hoạch hay cấp "
	    "dưới của nó" },
	{ "responsible_unit_id names no active unit of the plan",
	    "responsible_unit_id không trỏ tới đơn vị đang hoạt động "
	    "nào của kế hoạch" },
	{ "finding_id names no finding of this inspection",
	    "finding_id không trỏ tới phát hiện nào của cuộc kiểm tra "
	    "này" },
	{ "a %s inspection takes no findings%s",
	    "cuộc kiểm tra ở trạng thái %s không nhận phát hiện%s" },
	{ "inspection_id names no inspection you see",
	    "inspection_id không trỏ tới cuộc kiểm tra nào bạn xem được" },
	{ "only the unit the recommendation is addressed to answers "
	  "it",
	    "chỉ đơn vị nhận kiến nghị mới trả lời kiến nghị đó" },
	{ "a %s recommendation cannot be %s",
	    "kiến nghị ở trạng thái %s không thể chuyển sang %s" },
	{ "unit_id names no active unit of the plan's issuing unit or "
	  "below it, the unit already has this assignment, or "
	  "responsible_user_id is not an active user of it",
	    "unit_id không trỏ tới đơn vị đang hoạt động nào thuộc đơn "
	    "vị ban hành kế hoạch hay cấp dưới, đơn vị đã có phân công "
	    "này, hoặc responsible_user_id không phải người dùng đang "
	    "hoạt động của đơn vị đó" },

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
	/* reports.c */
	{ "no such unit", "không có đơn vị này" },
	{ "to comes before from", "to đứng trước from" },
	{ "the report would have %s groups, more than %d: choose a root "
	  "further down or another group_by",
	    "báo cáo sẽ có %s nhóm, nhiều hơn %d: hãy chọn đơn vị gốc ở cấp "
	    "dưới hoặc cách nhóm khác" },
	{ "report not readable", "không đọc được báo cáo" },
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
