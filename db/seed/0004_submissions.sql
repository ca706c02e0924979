-- A realistic spread of submissions for the demo plan, so the reporting
-- engine has something to show: on time, late, missing, one returned and
-- resubmitted, one accepted, and two "Dân vận khéo" model registrations from
-- the sample villages. Fixed ids; re-running changes nothing.
CREATE TEMP TABLE seed_submissions (id uuid, unit uuid, kind text,
	title text, status text, first_at timestamptz, last_at timestamptz,
	revision int, review_reason text, data jsonb) ON COMMIT DROP;
INSERT INTO seed_submissions VALUES
 ('5eed0000-0000-4000-8000-0000000005a1', '5eed0000-0000-4000-8000-000000000011', 'unit_plan',
  'Kế hoạch thực hiện công tác dân vận chính quyền năm 2026 của Văn phòng HĐND và UBND xã',
  'submitted', '2026-01-27 09:15+07', '2026-01-27 09:15+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005a2', '5eed0000-0000-4000-8000-000000000012', 'unit_plan',
  'Kế hoạch thực hiện công tác dân vận chính quyền năm 2026 của Phòng Kinh tế',
  'submitted', '2026-02-03 14:40+07', '2026-02-03 14:40+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005a3', '5eed0000-0000-4000-8000-000000000013', 'unit_plan',
  'Kế hoạch thực hiện công tác dân vận chính quyền năm 2026 của Phòng Văn hóa – Xã hội',
  'accepted', '2026-01-29 16:05+07', '2026-01-29 16:05+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005a4', '5eed0000-0000-4000-8000-000000000014', 'unit_plan',
  'Kế hoạch thực hiện công tác dân vận chính quyền năm 2026 của Trung tâm Phục vụ hành chính công xã',
  'submitted', '2026-01-30 10:20+07', '2026-02-06 08:30+07', 2,
  'Kế hoạch chưa phân công cán bộ theo dõi; đề nghị bổ sung.', '{}'),
 ('5eed0000-0000-4000-8000-0000000005b1', '5eed0000-0000-4000-8000-000000000011', 'six_month_report',
  'Báo cáo sơ kết 6 tháng đầu năm 2026 công tác dân vận chính quyền của Văn phòng HĐND và UBND xã',
  'submitted', '2026-05-14 15:30+07', '2026-05-14 15:30+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005b3', '5eed0000-0000-4000-8000-000000000013', 'six_month_report',
  'Báo cáo sơ kết 6 tháng đầu năm 2026 công tác dân vận chính quyền của Phòng Văn hóa – Xã hội',
  'submitted', '2026-05-18 09:00+07', '2026-05-18 09:00+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005c1', '5eed0000-0000-4000-8000-000000000011', 'annual_report',
  'Báo cáo tổng kết năm 2026 công tác dân vận chính quyền của Văn phòng HĐND và UBND xã',
  'submitted', '2026-10-28 10:00+07', '2026-10-28 10:00+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005c2', '5eed0000-0000-4000-8000-000000000012', 'annual_report',
  'Báo cáo tổng kết năm 2026 công tác dân vận chính quyền của Phòng Kinh tế',
  'submitted', '2026-10-30 17:45+07', '2026-10-30 17:45+07', 1, NULL, '{}'),
 ('5eed0000-0000-4000-8000-0000000005d1', '5eed0000-0000-4000-8000-000000000021', 'model_registration',
  'Đăng ký mô hình "Dân vận khéo": Thôn 1 (mẫu) sạch đẹp, không rác thải nhựa',
  'accepted', '2026-03-10 08:00+07', '2026-03-10 08:00+07', 1, NULL,
  '{"name": "Thôn sạch đẹp, không rác thải nhựa (mẫu)", "field": "environment",
    "description": "Vận động các hộ phân loại rác tại nguồn và thu gom rác thải nhựa hằng tuần.",
    "expected_results": "80% hộ gia đình phân loại rác tại nguồn trong năm 2026."}'),
 ('5eed0000-0000-4000-8000-0000000005d2', '5eed0000-0000-4000-8000-000000000022', 'model_registration',
  'Đăng ký mô hình "Dân vận khéo": Thôn 2 (mẫu) hỗ trợ người dân làm thủ tục hành chính',
  'accepted', '2026-03-12 08:00+07', '2026-03-12 08:00+07', 1, NULL,
  '{"name": "Tổ hỗ trợ dịch vụ công trực tuyến (mẫu)", "field": "administrative_reform",
    "description": "Đoàn viên thanh niên hướng dẫn người dân nộp hồ sơ trực tuyến tại nhà văn hóa thôn.",
    "expected_results": "Mỗi tháng hỗ trợ ít nhất 30 lượt hồ sơ trực tuyến."}');

INSERT INTO submissions (id, unit_id, kind, milestone_id, plan_id,
	receiving_unit_id, title, body, data, status, revision, submitted_at,
	last_submitted_at, timeliness, due_on, review_reason, created_at,
	updated_at)
SELECT s.id, s.unit, s.kind, m.id, '5eed0000-0000-4000-8000-0000000000a2',
	coalesce(m.receiving_unit_id, u.parent_id), s.title, '', s.data, s.status,
	s.revision, s.first_at, s.last_at,
	CASE WHEN m.id IS NOT NULL THEN timeliness(s.first_at, m.due_on) END,
	m.due_on, s.review_reason, s.first_at, s.last_at
FROM seed_submissions s JOIN units u ON u.id = s.unit
LEFT JOIN milestones m ON m.plan_id = '5eed0000-0000-4000-8000-0000000000a2'
	AND m.kind = s.kind
ON CONFLICT (id) DO NOTHING;

-- Every submit is a version; the returned one was submitted twice.
INSERT INTO submission_versions (submission_id, revision, submitted_at, title,
	body, data, timeliness, returned_reason)
SELECT s.id, r.n, CASE WHEN r.n = 1 THEN s.submitted_at ELSE s.last_submitted_at END,
	s.title, '', s.data, s.timeliness,
	CASE WHEN r.n = 2 THEN s.review_reason END
FROM submissions s JOIN seed_submissions x ON x.id = s.id,
	generate_series(1, x.revision) r(n)
ON CONFLICT DO NOTHING;

-- The two accepted registrations are models; the first is being carried out.
INSERT INTO models (id, unit_id, name, field, description, expected_results,
	status, submission_id, created_at, updated_at)
SELECT ('5eed0000-0000-4000-8000-0000000006' || right(s.id::text, 2))::uuid,
	s.unit_id, s.data->>'name', s.data->>'field', s.data->>'description',
	s.data->>'expected_results',
	CASE WHEN right(s.id::text, 2) = 'd1' THEN 'implementing' ELSE 'registered' END,
	s.id, s.submitted_at, s.submitted_at
FROM submissions s JOIN seed_submissions x ON x.id = s.id
WHERE s.kind = 'model_registration'
ON CONFLICT DO NOTHING;
