-- Demo inspections and scoring for the commune plan (Section IV): Phòng Văn
-- hóa – Xã hội's 2026 inspection and supervision plan with three visits —
-- one completed (two findings, two recommendations: one resolved, one open
-- and overdue), one in progress, one planned — and a rubric shaped like a
-- provincial one (four groups for 100 points, bonus points capped at 10,
-- bands Tốt / Khá / Trung bình / Yếu). The province's real thresholds are
-- not in the plan: the rubric is marked sample. Four units have scored
-- themselves; Phòng VH-XH adjusted with reasons (Phòng Kinh tế drops from
-- 87 to 78, Tốt to Khá) and ruled one unit not eligible. The team are the
-- demo accounts kiemtra (lead), vhxh and bxdd. Fixed ids; re-running changes
-- nothing.
INSERT INTO inspection_plans (id, plan_id, issuing_unit_id, title,
	description, period_start, period_end, status, issued_at, issued_by,
	created_at, updated_at)
VALUES ('5eed0000-0000-4000-8000-000000000701',
	'5eed0000-0000-4000-8000-0000000000a2',
	'5eed0000-0000-4000-8000-000000000013',
	'Kế hoạch kiểm tra, giám sát công tác dân vận chính quyền và thực hiện dân chủ ở cơ sở năm 2026',
	'Kiểm tra, giám sát việc thực hiện Kế hoạch công tác dân vận chính quyền năm 2026 tại các cơ quan, đơn vị và thôn (mẫu).',
	'2026-03-01', '2026-12-31', 'issued', '2026-02-20 08:00+07',
	(SELECT id FROM users WHERE username = 'vhxh'),
	'2026-02-18 08:00+07', '2026-02-20 08:00+07')
ON CONFLICT (id) DO NOTHING;

CREATE TEMP TABLE seed_inspections (id uuid, kind text, title text,
	target uuid, scheduled date, status text, conducted date, minutes text,
	conclusion text, started timestamptz, completed timestamptz) ON COMMIT DROP;
INSERT INTO seed_inspections VALUES
 ('5eed0000-0000-4000-8000-000000000711', 'inspection',
  'Kiểm tra công tác dân vận chính quyền tại Phòng Kinh tế', '5eed0000-0000-4000-8000-000000000012',
  '2026-06-10', 'completed', '2026-06-10',
  'Biên bản kiểm tra ngày 10/6/2026 tại Phòng Kinh tế (mẫu): đoàn làm việc với lãnh đạo phòng, xem hồ sơ kế hoạch, báo cáo và sổ theo dõi tiếp công dân.',
  'Phòng Kinh tế triển khai cơ bản các nhiệm vụ; còn chậm ban hành kế hoạch và chưa công khai đầy đủ thủ tục. Đề nghị khắc phục theo các kiến nghị.',
  '2026-06-10 08:00+07', '2026-06-12 16:00+07'),
 ('5eed0000-0000-4000-8000-000000000712', 'supervision',
  'Giám sát việc tiếp nhận, giải quyết hồ sơ theo cơ chế một cửa tại Trung tâm Phục vụ hành chính công xã',
  '5eed0000-0000-4000-8000-000000000014', '2026-11-25', 'in_progress', '2026-11-25', '', '',
  '2026-11-25 08:30+07', NULL),
 ('5eed0000-0000-4000-8000-000000000713', 'inspection',
  'Kiểm tra việc thực hiện dân chủ ở cơ sở tại Thôn 2 (mẫu)', '5eed0000-0000-4000-8000-000000000022',
  '2026-12-15', 'planned', NULL, '', '', NULL, NULL);

INSERT INTO inspections (id, inspection_plan_id, kind, title, target_unit_id,
	inspecting_unit_id, scheduled_on, status, conducted_on, minutes,
	conclusion, started_at, completed_at, created_by, created_at, updated_at)
SELECT s.id, '5eed0000-0000-4000-8000-000000000701', s.kind, s.title, s.target,
	'5eed0000-0000-4000-8000-000000000013', s.scheduled, s.status, s.conducted,
	s.minutes, s.conclusion, s.started, s.completed,
	(SELECT id FROM users WHERE username = 'vhxh'), '2026-02-20 08:00+07',
	coalesce(s.completed, s.started, '2026-02-20 08:00+07')
FROM seed_inspections s
ON CONFLICT (id) DO NOTHING;

INSERT INTO inspection_members (inspection_id, user_id, role)
SELECT s.id, u.id, CASE WHEN u.username = 'kiemtra' THEN 'lead' ELSE 'member' END
FROM seed_inspections s, users u WHERE u.username IN ('kiemtra', 'vhxh', 'bxdd')
ON CONFLICT DO NOTHING;

-- The scope: task 2 (administrative reform) and task 3 (citizen reception)
-- for the agencies, task 9 (grassroots democracy) for the village.
INSERT INTO inspection_tasks (inspection_id, task_id)
SELECT s.id, t.id FROM seed_inspections s JOIN tasks t
	ON t.plan_id = '5eed0000-0000-4000-8000-0000000000a2'
	AND t.number = ANY (CASE WHEN s.target = '5eed0000-0000-4000-8000-000000000022'
		THEN ARRAY[9] ELSE ARRAY[2, 3] END)
ON CONFLICT DO NOTHING;

INSERT INTO findings (id, inspection_id, task_id, text, severity, created_by,
	created_at, updated_at)
SELECT f.id::uuid, '5eed0000-0000-4000-8000-000000000711', t.id, f.text, f.severity,
	(SELECT id FROM users WHERE username = 'kiemtra'), '2026-06-10 15:00+07',
	'2026-06-10 15:00+07'
FROM (VALUES
 ('5eed0000-0000-4000-8000-000000000721', 3, 'minor',
  'Sổ theo dõi tiếp công dân ghi chưa đầy đủ kết quả xử lý sau tiếp dân (mẫu).'),
 ('5eed0000-0000-4000-8000-000000000722', 2, 'major',
  'Chưa niêm yết công khai đầy đủ thủ tục hành chính thuộc lĩnh vực phụ trách (mẫu).')
) f(id, task, severity, text)
JOIN tasks t ON t.plan_id = '5eed0000-0000-4000-8000-0000000000a2' AND t.number = f.task
ON CONFLICT (id) DO NOTHING;

INSERT INTO recommendations (id, inspection_id, finding_id, responsible_unit_id,
	text, due_on, status, response, responded_at, responded_by, resolved_at,
	resolved_by, created_by, created_at, updated_at)
VALUES
 ('5eed0000-0000-4000-8000-000000000731', '5eed0000-0000-4000-8000-000000000711',
  '5eed0000-0000-4000-8000-000000000721', '5eed0000-0000-4000-8000-000000000012',
  'Hoàn thiện sổ theo dõi tiếp công dân, ghi đầy đủ kết quả xử lý (mẫu).', '2026-07-31',
  'resolved', 'Đã bổ sung sổ theo dõi và phân công cán bộ cập nhật hằng tuần (mẫu).',
  '2026-07-20 10:00+07', (SELECT id FROM users WHERE username = 'kinhte'),
  '2026-07-25 09:00+07', (SELECT id FROM users WHERE username = 'kiemtra'),
  (SELECT id FROM users WHERE username = 'kiemtra'), '2026-06-12 16:00+07',
  '2026-07-25 09:00+07'),
 ('5eed0000-0000-4000-8000-000000000732', '5eed0000-0000-4000-8000-000000000711',
  '5eed0000-0000-4000-8000-000000000722', '5eed0000-0000-4000-8000-000000000012',
  'Niêm yết công khai đầy đủ thủ tục hành chính tại trụ sở và trên trang thông tin điện tử của xã (mẫu).',
  '2026-09-30', 'open', NULL, NULL, NULL, NULL, NULL,
  (SELECT id FROM users WHERE username = 'kiemtra'), '2026-06-12 16:00+07',
  '2026-06-12 16:00+07')
ON CONFLICT (id) DO NOTHING;

INSERT INTO rubrics (id, plan_id, unit_id, title, sample, doc, frozen_at,
	created_by, created_at, updated_at)
VALUES ('5eed0000-0000-4000-8000-000000000741',
	'5eed0000-0000-4000-8000-0000000000a2', '5eed0000-0000-4000-8000-000000000013',
	'Bộ tiêu chí chấm điểm, đánh giá, xếp loại công tác dân vận chính quyền năm 2026 (mẫu)',
	true, $doc$
{"groups": [
  {"code": "i", "title": "Lãnh đạo, chỉ đạo", "criteria": [
    {"code": "1.1", "title": "Ban hành kế hoạch thực hiện công tác dân vận chính quyền năm 2026 đúng thời hạn", "guidance": "Kế hoạch gửi Phòng Văn hóa – Xã hội trước 30/01/2026.", "max_points": 10, "evidence_required": true},
    {"code": "1.2", "title": "Phân công cán bộ theo dõi, tham mưu công tác dân vận", "max_points": 10}]},
  {"code": "ii", "title": "Thực hiện nhiệm vụ trọng tâm", "criteria": [
    {"code": "2.1", "title": "Cải cách hành chính, nâng cao sự hài lòng của người dân", "max_points": 15},
    {"code": "2.2", "title": "Tiếp công dân, đối thoại, giải quyết khiếu nại, kiến nghị", "max_points": 15},
    {"code": "2.3", "title": "Đăng ký, xây dựng và nhân rộng mô hình \"Dân vận khéo\"", "max_points": 10}]},
  {"code": "iii", "title": "Thực hiện dân chủ ở cơ sở", "criteria": [
    {"code": "3.1", "title": "Công khai, minh bạch thông tin theo Luật Thực hiện dân chủ ở cơ sở", "max_points": 15},
    {"code": "3.2", "title": "Phát huy quyền làm chủ của cán bộ, công chức và nhân dân", "max_points": 10}]},
  {"code": "iv", "title": "Thông tin, báo cáo", "criteria": [
    {"code": "4.1", "title": "Báo cáo 6 tháng, năm đúng hạn, đủ nội dung", "guidance": "Báo cáo 6 tháng trước 15/5, báo cáo năm trước 30/10.", "max_points": 10, "evidence_required": true},
    {"code": "4.2", "title": "Thực hiện kiến nghị sau kiểm tra, giám sát", "max_points": 5}]}],
 "bonus": {"cap": 10, "criteria": [
    {"code": "b1", "title": "Mô hình \"Dân vận khéo\" được cấp trên công nhận", "max_points": 5},
    {"code": "b2", "title": "Sáng kiến, cách làm hay được nhân rộng", "max_points": 5}]},
 "deductions": {"cap": 10, "criteria": [
    {"code": "d1", "title": "Để xảy ra khiếu kiện đông người, vượt cấp", "max_points": 10}]},
 "bands": [{"name": "Tốt", "min_total": 80}, {"name": "Khá", "min_total": 65},
    {"name": "Trung bình", "min_total": 50}, {"name": "Yếu", "min_total": 0}],
 "eligibility_rule": "Không xếp loại đơn vị không gửi kế hoạch năm hoặc báo cáo 6 tháng, hoặc có cán bộ vi phạm kỷ luật từ mức cảnh cáo trở lên trong năm (mẫu: ngưỡng và điều kiện do tỉnh quy định)."}
$doc$::jsonb, '2026-11-05 09:00+07', (SELECT id FROM users WHERE username = 'vhxh'),
	'2026-10-20 08:00+07', '2026-11-05 09:00+07')
ON CONFLICT (id) DO NOTHING;

CREATE TEMP TABLE seed_sheets (id uuid, unit uuid, points numeric[],
	bonus numeric, evidence jsonb, reason text) ON COMMIT DROP;
-- Points of 1.1 1.2 2.1 2.2 2.3 3.1 3.2 4.1 4.2, then bonus b1.
INSERT INTO seed_sheets VALUES
 ('5eed0000-0000-4000-8000-000000000751', '5eed0000-0000-4000-8000-000000000011',
  '{10,9,14,13,9,14,9,9,5}', 0,
  '{"1.1": ["5eed0000-0000-4000-8000-0000000005a1"], "4.1": ["5eed0000-0000-4000-8000-0000000005b1"]}', NULL),
 ('5eed0000-0000-4000-8000-000000000752', '5eed0000-0000-4000-8000-000000000012',
  '{9,9,13,13,8,13,8,9,5}', 0,
  '{"1.1": ["5eed0000-0000-4000-8000-0000000005a2"], "4.1": ["5eed0000-0000-4000-8000-0000000005c2"]}', NULL),
 ('5eed0000-0000-4000-8000-000000000753', '5eed0000-0000-4000-8000-000000000021',
  '{8,8,11,11,7,11,7,5,3}', 3,
  '{"1.1": ["5eed0000-0000-4000-8000-0000000005d1"], "4.1": ["5eed0000-0000-4000-8000-0000000005d1"]}', NULL),
 ('5eed0000-0000-4000-8000-000000000754', '5eed0000-0000-4000-8000-000000000014',
  '{9,9,12,12,8,12,8,6,4}', 0,
  '{"1.1": ["5eed0000-0000-4000-8000-0000000005a4"], "4.1": ["5eed0000-0000-4000-8000-0000000005a4"]}',
  'Kế hoạch năm bị trả lại và chưa gửi báo cáo 6 tháng: thuộc trường hợp không xếp loại (mẫu).');

INSERT INTO score_sheets (id, rubric_id, unit_id, status, eligible,
	not_eligible_reason, submitted_at, adjusted_by, adjusted_at, ruled_by,
	ruled_at, created_at, updated_at)
SELECT s.id, '5eed0000-0000-4000-8000-000000000741', s.unit, 'reviewed',
	s.reason IS NULL, s.reason, '2026-11-05 09:00+07',
	CASE WHEN s.reason IS NULL THEN v.id END,
	CASE WHEN s.reason IS NULL THEN timestamptz '2026-11-20 10:00+07' END,
	CASE WHEN s.reason IS NOT NULL THEN v.id END,
	CASE WHEN s.reason IS NOT NULL THEN timestamptz '2026-11-20 10:00+07' END,
	'2026-11-01 08:00+07', '2026-11-20 10:00+07'
FROM seed_sheets s, users v WHERE v.username = 'vhxh'
ON CONFLICT (id) DO NOTHING;

INSERT INTO score_entries (score_sheet_id, code, self_points, evidence)
SELECT s.id, c.code, s.points[c.n],
	CASE WHEN s.evidence ? c.code THEN jsonb_build_object('submission_ids',
		s.evidence->c.code) ELSE '{}' END
FROM seed_sheets s, unnest(ARRAY['1.1', '1.2', '2.1', '2.2', '2.3', '3.1',
	'3.2', '4.1', '4.2']) WITH ORDINALITY c(code, n)
UNION ALL SELECT s.id, 'b1', s.bonus, '{}' FROM seed_sheets s WHERE s.bonus > 0
ON CONFLICT DO NOTHING;

-- Phòng VH-XH's adjustments, each with its reason.
UPDATE score_entries e SET adjusted_points = a.points, adjust_reason = a.reason,
	adjusted_by = (SELECT id FROM users WHERE username = 'vhxh'),
	adjusted_at = '2026-11-20 10:00+07'
FROM (VALUES
 ('5eed0000-0000-4000-8000-000000000751'::uuid, '4.1', 7,
  'Báo cáo 6 tháng gửi sát hạn, thiếu số liệu kết quả tiếp công dân (mẫu).'),
 ('5eed0000-0000-4000-8000-000000000752'::uuid, '2.1', 10,
  'Còn thủ tục hành chính chưa niêm yết công khai (kết luận kiểm tra ngày 10/6/2026).'),
 ('5eed0000-0000-4000-8000-000000000752'::uuid, '3.1', 10,
  'Kiến nghị về công khai thông tin chưa được khắc phục, đã quá hạn 30/9/2026.'),
 ('5eed0000-0000-4000-8000-000000000752'::uuid, '4.1', 6,
  'Kế hoạch năm gửi sau hạn 30/01/2026 (ngày 03/02/2026).'),
 ('5eed0000-0000-4000-8000-000000000753'::uuid, 'b1', 2,
  'Mô hình mới được đăng ký, đang triển khai, chưa được cấp trên công nhận (mẫu).')
) a(sheet, code, points, reason)
WHERE e.score_sheet_id = a.sheet AND e.code = a.code AND e.adjusted_points IS NULL;

INSERT INTO score_sheet_events (score_sheet_id, at, actor_id, action, detail)
SELECT s.id, x.at, x.actor, x.action, x.detail
FROM seed_sheets s CROSS JOIN LATERAL (VALUES
	(timestamptz '2026-11-01 08:00+07', NULL::uuid, 'create', '{}'::jsonb),
	('2026-11-05 09:00+07', NULL, 'submit', '{}'),
	('2026-11-20 10:00+07', (SELECT id FROM users WHERE username = 'vhxh'),
	 CASE WHEN s.reason IS NULL THEN 'adjust' ELSE 'not_eligible' END,
	 CASE WHEN s.reason IS NULL THEN '{}'::jsonb
	  ELSE jsonb_build_object('reason', s.reason) END)) x(at, actor, action, detail)
WHERE NOT EXISTS (SELECT 1 FROM score_sheet_events v WHERE v.score_sheet_id = s.id);
