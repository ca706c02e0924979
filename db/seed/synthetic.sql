-- A synthetic province for tests and benchmarks (danvan seed --synthetic N):
-- N sample communes under the demo province, each of 30 units (six offices,
-- the Party's and the Front's bodies, fourteen villages, seven of them with
-- a Front work group), a 2026 plan citing the provincial plan 14/KH-UBND,
-- four milestones owed by the 23 units below the commune, ten tasks with
-- their assignments, and a spread of submissions (on time, late, returned,
-- drafts, missing), progress reports, "Dân vận khéo" models, inspections
-- with recommendations, a rubric and score sheets. Set-based: one
-- statement per table. Ids are md5 of a name, so running it again adds
-- only what is missing (a larger N adds communes). Units and rubrics are
-- marked sample, names end in "(mẫu)". N comes from the setting
-- danvan.synthetic_communes. A nation (3,321 communes) takes minutes: no
-- statement deadline here.
--
-- The change feed's row triggers (record_change) are off while this runs,
-- in this transaction only: they cost about half a millisecond a row, most
-- of an hour for a nation's three million submissions. Each statement
-- writes the change rows of what it inserted itself, with the paths
-- change_paths() gives: those of the units the row names and of the units
-- issuing the plan, task, inspection or rubric it hangs from. Writers to
-- these tables wait until the seed commits.
--
-- Likewise the foreign keys of the tables filled by the hundred thousand
-- (a lookup a row and key, half the time of the rest): dropped here and
-- added again at the end by their own definitions, which checks every row
-- at once. Readers of these tables wait too.
SET LOCAL statement_timeout = 0;
CREATE TEMP TABLE syn_fk ON COMMIT DROP AS
SELECT conrelid::regclass AS tab, conname, pg_get_constraintdef(oid) AS def
FROM pg_constraint WHERE contype = 'f' AND conrelid IN ('submissions'::regclass,
	'assignments'::regclass, 'milestone_units'::regclass,
	'score_entries'::regclass);
DO $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT * FROM syn_fk LOOP
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', f.tab,
			f.conname);
	END LOOP;
END $$;
ALTER TABLE units DISABLE TRIGGER units_changes;
ALTER TABLE plans DISABLE TRIGGER plans_changes;
ALTER TABLE milestones DISABLE TRIGGER milestones_changes;
ALTER TABLE tasks DISABLE TRIGGER tasks_changes;
ALTER TABLE assignments DISABLE TRIGGER assignments_changes;
ALTER TABLE submissions DISABLE TRIGGER submissions_changes;
ALTER TABLE models DISABLE TRIGGER models_changes;
ALTER TABLE inspection_plans DISABLE TRIGGER inspection_plans_changes;
ALTER TABLE inspections DISABLE TRIGGER inspections_changes;
ALTER TABLE recommendations DISABLE TRIGGER recommendations_changes;
ALTER TABLE rubrics DISABLE TRIGGER rubrics_changes;
ALTER TABLE score_sheets DISABLE TRIGGER score_sheets_changes;
ALTER TABLE milestone_units DISABLE TRIGGER milestone_units_changes;
ALTER TABLE submissions DISABLE TRIGGER submissions_obligation_insert;
ALTER TABLE submissions DISABLE TRIGGER submissions_obligation_update;
-- The paths of a change row, each once (NULLs left out). SQL without a
-- query, so it is inlined into the statement and costs no call a row.
CREATE OR REPLACE FUNCTION pg_temp.syn_paths(a ltree, b ltree, c ltree)
	RETURNS ltree[] LANGUAGE sql IMMUTABLE
	RETURN array_remove(ARRAY[a, CASE WHEN b IS DISTINCT FROM a THEN b END,
		CASE WHEN c IS DISTINCT FROM a AND c IS DISTINCT FROM b THEN c END],
		NULL);

CREATE TEMP TABLE syn_n ON COMMIT DROP AS
SELECT g AS n, md5('syn/c/' || g)::uuid AS commune,
	md5('syn/p/' || g)::uuid AS plan
FROM generate_series(1, current_setting('danvan.synthetic_communes')::int) g;

-- The units below a commune: ord, kind, code, name, parent ord (0: the
-- commune).
CREATE TEMP TABLE syn_shape (ord int, kind text, code text, name text,
	parent int) ON COMMIT DROP;
INSERT INTO syn_shape VALUES
 (1, 'office', 'vp-hdnd-ubnd', 'Văn phòng HĐND và UBND xã', 0),
 (2, 'office', 'phong-kinh-te', 'Phòng Kinh tế', 0),
 (3, 'office', 'phong-vh-xh', 'Phòng Văn hóa – Xã hội', 0),
 (4, 'office', 'tt-phuc-vu-hcc', 'Trung tâm Phục vụ hành chính công xã', 0),
 (5, 'office', 'tt-cung-ung-dvc', 'Trung tâm Cung ứng dịch vụ công', 0),
 (6, 'office', 'cong-an', 'Công an xã', 0),
 (7, 'party', 'ban-xay-dung-dang', 'Ban Xây dựng đảng Đảng ủy', 0),
 (8, 'front', 'mttq', 'Ủy ban Mặt trận Tổ quốc Việt Nam xã', 0);
INSERT INTO syn_shape
SELECT 8 + v, 'village', 'thon-' || v, 'Thôn ' || v, 0
FROM generate_series(1, 14) v;
INSERT INTO syn_shape
SELECT 22 + v, 'front', 'ban-cong-tac-mat-tran',
	'Ban Công tác Mặt trận thôn ' || v, 8 + v
FROM generate_series(1, 7) v;

-- A unit's commune_path is given as its trigger (units_commune_refresh)
-- would set it, which then finds nothing to rewrite: the commune's own path,
-- and below it the parent's.
WITH ins AS (
	INSERT INTO units (id, parent_id, kind, code, name, sample, path,
		commune_path)
	SELECT c.commune, p.id, 'commune', 'syn-' || lpad(c.n::text, 5, '0'),
		'UBND xã Mẫu ' || c.n || ' (mẫu)', true,
		p.path || unit_label(c.commune), p.path || unit_label(c.commune)
	FROM syn_n c, units p
	WHERE p.id = '5eed0000-0000-4000-8000-000000000001'
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, path)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'unit', id, 'upsert', version, ARRAY[path] FROM ins;

CREATE TEMP TABLE syn_units ON COMMIT DROP AS
SELECT c.n, s.ord, s.kind, s.code, s.name || ' ' || c.n || ' (mẫu)' AS name,
	md5('syn/u/' || c.n || '/' || s.ord)::uuid AS id,
	CASE WHEN s.parent = 0 THEN c.commune
		ELSE md5('syn/u/' || c.n || '/' || s.parent)::uuid END AS parent
FROM syn_n c, syn_shape s;
-- Twice: the Front's work groups hang from villages made by the first.
WITH ins AS (
	INSERT INTO units (id, parent_id, kind, code, name, sample, path,
		commune_path)
	SELECT u.id, u.parent, u.kind, u.code, u.name, true,
		p.path || unit_label(u.id), p.commune_path
	FROM syn_units u JOIN units p ON p.id = u.parent WHERE u.ord <= 22
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, path)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'unit', id, 'upsert', version, ARRAY[path] FROM ins;
WITH ins AS (
	INSERT INTO units (id, parent_id, kind, code, name, sample, path,
		commune_path)
	SELECT u.id, u.parent, u.kind, u.code, u.name, true,
		p.path || unit_label(u.id), p.commune_path
	FROM syn_units u JOIN units p ON p.id = u.parent WHERE u.ord > 22
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, path)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'unit', id, 'upsert', version, ARRAY[path] FROM ins;
-- The path of every synthetic unit, for the change rows below.
CREATE TEMP TABLE syn_path ON COMMIT DROP AS
SELECT u.id, u.path FROM units u
WHERE u.id IN (SELECT commune FROM syn_n UNION ALL SELECT id FROM syn_units);
ANALYZE syn_path;
-- Of each commune: the receiving office (ord 3) and its path, the plan and
-- the path of the commune that issues it.
CREATE TEMP TABLE syn_vhxh ON COMMIT DROP AS
SELECT u.n, u.id, v.path, c.plan, cp.path AS plan_path
FROM syn_units u JOIN syn_path v USING (id) JOIN syn_n c USING (n)
	JOIN syn_path cp ON cp.id = c.commune
WHERE u.ord = 3;
ANALYZE syn_vhxh;

WITH ins AS (
	INSERT INTO plans (id, code, title, year, issuing_unit_id, issued_on,
		parent_plan_id, status)
	SELECT c.plan, c.n || '/KH-UBND',
		'Kế hoạch thực hiện công tác dân vận chính quyền và dân chủ ở cơ sở năm 2026 của xã Mẫu ' || c.n || ' (mẫu)',
		2026, c.commune, '2026-01-25',
		'5eed0000-0000-4000-8000-0000000000a1', 'issued'
	FROM syn_n c
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, issuing_unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'plan', i.id, 'upsert', i.version, ARRAY[u.path]
FROM ins i JOIN syn_path u ON u.id = i.issuing_unit_id;

-- Three milestones of the plan's text and one still to come.
CREATE TEMP TABLE syn_ms ON COMMIT DROP AS
SELECT c.n, c.plan, k.k, md5('syn/m/' || c.n || '/' || k.k)::uuid AS id,
	k.kind, k.title, k.due_on, v.id AS receiving
FROM syn_n c JOIN syn_vhxh v USING (n), (VALUES
 (1, 'unit_plan', 'Gửi kế hoạch thực hiện của cơ quan, đơn vị', '2026-01-30'::date),
 (2, 'six_month_report', 'Báo cáo sơ kết 6 tháng', '2026-05-15'),
 (3, 'annual_report', 'Báo cáo tổng kết năm', '2026-10-30'),
 (4, 'custom', 'Báo cáo chuyên đề (mẫu)', today_vn() + 45)) AS k (k, kind, title, due_on);
WITH ins AS (
	INSERT INTO milestones (id, plan_id, kind, title, due_on,
		receiving_unit_id)
	SELECT id, plan, kind, title, due_on, receiving FROM syn_ms
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, plan_id, receiving_unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'milestone', i.id, 'upsert', i.version,
	pg_temp.syn_paths(r.path, p.plan_path, NULL)
FROM ins i JOIN syn_path r ON r.id = i.receiving_unit_id
	JOIN syn_vhxh p ON p.plan = i.plan_id;
-- An obligation is seen by its unit, the receiving office and the plan's
-- commune (its state follows the submissions below: read when served).
WITH ins AS (
	INSERT INTO milestone_units (milestone_id, unit_id)
	SELECT m.id, u.id FROM syn_ms m JOIN syn_units u USING (n)
	WHERE u.ord <= 22
	ON CONFLICT DO NOTHING
	RETURNING id, milestone_id, unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'obligation', i.id, 'upsert', NULL,
	pg_temp.syn_paths(u.path, r.path, p.plan_path)
FROM ins i JOIN syn_path u ON u.id = i.unit_id
	JOIN syn_ms m ON m.id = i.milestone_id
	JOIN syn_path r ON r.id = m.receiving
	JOIN syn_vhxh p ON p.plan = m.plan;

-- What each owing unit did, by a hash of the pair: 0-59 on time, 60-74
-- late, 75-79 returned (sent on time), 80-84 a draft, 85-99 nothing. The
-- milestone to come: 0-29 sent early, the rest pending.
CREATE TEMP TABLE syn_sub ON COMMIT DROP AS
SELECT m.*, u.id AS unit, abs(hashtext(m.id::text || u.id::text)) % 100 AS h
FROM syn_ms m JOIN syn_units u USING (n) WHERE u.ord <= 22;
WITH ins AS (
	INSERT INTO submissions (id, unit_id, kind, milestone_id, plan_id,
		receiving_unit_id, title, status, revision, submitted_at,
		last_submitted_at, timeliness, due_on, created_at)
	SELECT md5('syn/s/' || s.id || '/' || s.unit)::uuid, s.unit,
		CASE s.kind WHEN 'custom' THEN 'progress_report' ELSE s.kind END,
		s.id, s.plan, s.receiving, s.title || ' (mẫu)',
		CASE WHEN s.h >= 80 THEN 'draft' WHEN s.h >= 75 THEN 'returned'
			WHEN s.h % 3 = 0 THEN 'accepted'
			WHEN s.h % 3 = 1 THEN 'approved'
			ELSE 'submitted' END,
		CASE WHEN s.h >= 80 THEN 0 ELSE 1 END, t.at, t.at,
		CASE WHEN t.at IS NOT NULL THEN timeliness(t.at, s.due_on) END,
		s.due_on, coalesce(t.at, s.due_on - 3) - interval '1 day'
	FROM syn_sub s, LATERAL (SELECT CASE
		WHEN s.h >= 80 THEN NULL
		WHEN s.h >= 60 AND s.h < 75 THEN
			(s.due_on + 1 + s.h % 20) + time '10:00'
		ELSE (s.due_on - s.h % 10) + time '09:00' END
		AT TIME ZONE 'Asia/Ho_Chi_Minh' AS at) t
	WHERE s.h < 85 AND (s.k < 4 OR s.h < 30)
	ON CONFLICT DO NOTHING
	RETURNING id, version, unit_id, receiving_unit_id, plan_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'submission', i.id, 'upsert', i.version,
	pg_temp.syn_paths(u.path, r.path, p.plan_path)
FROM ins i JOIN syn_path u ON u.id = i.unit_id
	JOIN syn_path r ON r.id = i.receiving_unit_id
	JOIN syn_vhxh p ON p.plan = i.plan_id;

-- Ten tasks: four ongoing, four within the year, two with a deadline.
CREATE TEMP TABLE syn_tasks ON COMMIT DROP AS
SELECT c.n, c.plan, t AS number, md5('syn/t/' || c.n || '/' || t)::uuid AS id
FROM syn_n c, generate_series(1, 10) t;
WITH ins AS (
	INSERT INTO tasks (id, plan_id, number, title, content, schedule,
		due_on)
	SELECT id, plan, number, 'Nhiệm vụ ' || number || ' (mẫu)', '',
		CASE WHEN number <= 4 THEN 'ongoing'
			WHEN number <= 8 THEN 'within_year' ELSE 'deadline' END,
		CASE number WHEN 9 THEN '2026-06-30'::date WHEN 10 THEN
			'2026-12-20'::date END
	FROM syn_tasks
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, plan_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'task', i.id, 'upsert', i.version, ARRAY[p.plan_path]
FROM ins i JOIN syn_vhxh p ON p.plan = i.plan_id;
-- Each task: one office leads, the Party's and the Front's bodies
-- coordinate, the fourteen villages implement.
CREATE TEMP TABLE syn_asg ON COMMIT DROP AS
SELECT t.n, t.plan, t.id AS task, u.id AS unit,
	md5('syn/a/' || t.id || '/' || u.id)::uuid AS id,
	CASE WHEN u.ord <= 6 THEN 'lead' WHEN u.ord <= 8 THEN 'coordinate'
		ELSE 'implement' END AS role,
	abs(hashtext(t.id::text || u.id::text)) % 100 AS h
FROM syn_tasks t JOIN syn_units u USING (n)
WHERE u.ord = 1 + t.number % 6 OR u.ord IN (7, 8) OR u.ord BETWEEN 9 AND 22;
ANALYZE syn_asg;
WITH ins AS (
	INSERT INTO assignments (id, task_id, unit_id, role, status, progress)
	SELECT id, task, unit, role,
		CASE WHEN h < 30 THEN 'done' WHEN h < 75 THEN 'in_progress'
			ELSE 'not_started' END,
		CASE WHEN h < 30 THEN 100 WHEN h < 75 THEN 10 + h ELSE 0 END
	FROM syn_asg
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, unit_id, task_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'assignment', i.id, 'upsert', i.version,
	pg_temp.syn_paths(u.path, p.plan_path, NULL)
FROM ins i JOIN syn_path u ON u.id = i.unit_id
	JOIN syn_tasks t ON t.id = i.task_id JOIN syn_vhxh p ON p.plan = t.plan;
-- Five progress reports on each assignment, through the year.
WITH ins AS (
	INSERT INTO submissions (id, unit_id, kind, task_id, assignment_id,
		plan_id, receiving_unit_id, title, status, revision,
		submitted_at, last_submitted_at, created_at)
	SELECT md5('syn/r/' || a.id || '/' || r)::uuid, a.unit,
		'progress_report', a.task, a.id, a.plan, v.id,
		'Báo cáo tiến độ ' || r || ' (mẫu)',
		CASE WHEN (a.h + r) % 4 = 0 THEN 'submitted' ELSE 'accepted' END,
		1, t.at, t.at, t.at
	FROM syn_asg a JOIN syn_vhxh v USING (n), generate_series(1, 5) r,
		LATERAL (SELECT timestamptz '2026-02-01 09:00+07' +
			(r * 50 + a.h % 20) * interval '1 day' AS at) t
	ON CONFLICT DO NOTHING
	RETURNING id, version, unit_id, receiving_unit_id, plan_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'submission', i.id, 'upsert', i.version,
	pg_temp.syn_paths(u.path, r.path, p.plan_path)
FROM ins i JOIN syn_path u ON u.id = i.unit_id
	JOIN syn_path r ON r.id = i.receiving_unit_id
	JOIN syn_vhxh p ON p.plan = i.plan_id;

-- Four models a commune, in the villages, of every field and status.
WITH ins AS (
	INSERT INTO models (id, unit_id, name, field, status, created_at)
	SELECT md5('syn/mo/' || c.n || '/' || i)::uuid,
		md5('syn/u/' || c.n || '/' || (8 + i))::uuid,
		'Mô hình Dân vận khéo ' || i || ' (mẫu)',
		(ARRAY['administrative_reform', 'environment', 'new_rural_areas',
			'citizen_satisfaction', 'security_order', 'economy',
			'culture_society', 'other'])[1 + (c.n + i) % 8],
		(ARRAY['registered', 'implementing', 'recognised',
			'replicated'])[1 + (c.n * 3 + i) % 4],
		timestamptz '2026-03-01 09:00+07' +
			((c.n + i * 37) % 200) * interval '1 day'
	FROM syn_n c, generate_series(1, 4) i
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'model', i.id, 'upsert', i.version, ARRAY[u.path]
FROM ins i JOIN syn_path u ON u.id = i.unit_id;

-- The inspection plan of each commune, six visits by Phòng VH-XH (three
-- completed, one in progress, one planned, one cancelled) and two
-- recommendations from each completed one.
WITH ins AS (
	INSERT INTO inspection_plans (id, plan_id, issuing_unit_id, title,
		period_start, period_end, status, issued_at)
	SELECT md5('syn/ip/' || c.n)::uuid, c.plan, v.id,
		'Kế hoạch kiểm tra, giám sát năm 2026 (mẫu)', '2026-03-01',
		'2026-11-30', 'issued', '2026-02-20 09:00+07'
	FROM syn_n c JOIN syn_vhxh v USING (n)
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, plan_id, issuing_unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'inspection_plan', i.id, 'upsert', i.version,
	pg_temp.syn_paths(u.path, p.plan_path, NULL)
FROM ins i JOIN syn_path u ON u.id = i.issuing_unit_id
	JOIN syn_vhxh p ON p.plan = i.plan_id;
CREATE TEMP TABLE syn_insp ON COMMIT DROP AS
SELECT c.n, i, md5('syn/i/' || c.n || '/' || i)::uuid AS id,
	md5('syn/u/' || c.n || '/' || (ARRAY[1, 2, 9, 10, 11, 12])[i])::uuid
	AS target, v.id AS inspecting,
	(ARRAY['completed', 'completed', 'completed', 'in_progress', 'planned',
		'cancelled'])[1 + (c.n + i) % 6] AS status,
	date '2026-04-01' + i * 30 AS scheduled_on
FROM syn_n c JOIN syn_vhxh v USING (n), generate_series(1, 6) i;
WITH ins AS (
	INSERT INTO inspections (id, inspection_plan_id, kind, title,
		target_unit_id, inspecting_unit_id, scheduled_on, status,
		conducted_on, cancel_reason)
	SELECT id, md5('syn/ip/' || n)::uuid,
		CASE WHEN i % 2 = 0 THEN 'supervision' ELSE 'inspection' END,
		'Kiểm tra ' || i || ' (mẫu)', target, inspecting, scheduled_on,
		status,
		CASE WHEN status IN ('completed', 'in_progress') THEN
			scheduled_on END,
		CASE WHEN status = 'cancelled' THEN
			'Hoãn theo lịch của xã (mẫu)' END
	FROM syn_insp
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, target_unit_id, inspecting_unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'inspection', i.id, 'upsert', i.version,
	pg_temp.syn_paths(t.path, v.path, NULL)
FROM ins i JOIN syn_path t ON t.id = i.target_unit_id
	JOIN syn_path v ON v.id = i.inspecting_unit_id;
WITH ins AS (
	INSERT INTO recommendations (id, inspection_id, responsible_unit_id,
		text, due_on, status)
	SELECT md5('syn/k/' || s.id || '/' || k)::uuid, s.id, s.target,
		'Kiến nghị ' || k || ' (mẫu)',
		CASE WHEN k = 1 THEN date '2026-09-30' ELSE today_vn() + 60 END,
		(ARRAY['open', 'responded', 'resolved'])[1 + (s.n + s.i + k) % 3]
	FROM syn_insp s, generate_series(1, 2) k WHERE s.status = 'completed'
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, inspection_id, responsible_unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'recommendation', i.id, 'upsert', i.version,
	pg_temp.syn_paths(r.path, t.path, v.path)
FROM ins i JOIN syn_path r ON r.id = i.responsible_unit_id
	JOIN syn_insp s ON s.id = i.inspection_id
	JOIN syn_path t ON t.id = s.target JOIN syn_path v ON v.id = s.inspecting;

-- A rubric of three criteria and four bands for each plan; a score sheet
-- for each owing unit: a tenth in draft, the rest submitted, reviewed or
-- finalized, one in twenty ruled not eligible.
WITH ins AS (
	INSERT INTO rubrics (id, plan_id, unit_id, title, sample, doc,
		frozen_at)
	SELECT md5('syn/rb/' || c.n)::uuid, c.plan, v.id,
		'Tiêu chí chấm điểm năm 2026 (mẫu)', true, $doc$
{"groups": [{"code": "1", "title": "Triển khai kế hoạch", "criteria": [
  {"code": "1.1", "title": "Ban hành kế hoạch đúng hạn", "max_points": 40}]},
 {"code": "2", "title": "Kết quả thực hiện", "criteria": [
  {"code": "2.1", "title": "Thực hiện nhiệm vụ", "max_points": 30},
  {"code": "2.2", "title": "Báo cáo đúng hạn", "max_points": 30}]}],
 "bands": [{"name": "Tốt", "min_total": 80}, {"name": "Khá", "min_total": 65},
   {"name": "Trung bình", "min_total": 50}, {"name": "Yếu", "min_total": 0}]}
$doc$::jsonb, '2026-11-01 09:00+07'
	FROM syn_n c JOIN syn_vhxh v USING (n)
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, plan_id, unit_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'rubric', i.id, 'upsert', i.version,
	pg_temp.syn_paths(u.path, p.plan_path, NULL)
FROM ins i JOIN syn_path u ON u.id = i.unit_id
	JOIN syn_vhxh p ON p.plan = i.plan_id;
CREATE TEMP TABLE syn_sheet ON COMMIT DROP AS
SELECT u.n, u.id AS unit, md5('syn/ss/' || u.n || '/' || u.ord)::uuid AS id,
	abs(hashtext('syn/ss/' || u.n || '/' || u.ord)) % 100 AS h
FROM syn_units u WHERE u.ord <= 22;
WITH ins AS (
	INSERT INTO score_sheets (id, rubric_id, unit_id, status, eligible,
		not_eligible_reason, submitted_at)
	SELECT id, md5('syn/rb/' || n)::uuid, unit,
		CASE WHEN h < 10 THEN 'draft' WHEN h < 40 THEN 'submitted'
			WHEN h < 70 THEN 'reviewed' ELSE 'finalized' END,
		h % 20 <> 7,
		CASE WHEN h % 20 = 7 THEN 'Không gửi báo cáo 6 tháng (mẫu)' END,
		CASE WHEN h >= 10 THEN timestamptz '2026-11-10 09:00+07' END
	FROM syn_sheet
	ON CONFLICT (id) DO NOTHING
	RETURNING id, version, unit_id, rubric_id)
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT 'score_sheet', i.id, 'upsert', i.version,
	pg_temp.syn_paths(u.path, v.path, NULL)
FROM ins i JOIN syn_path u ON u.id = i.unit_id
	JOIN rubrics b ON b.id = i.rubric_id JOIN syn_path v ON v.id = b.unit_id;
INSERT INTO score_entries (score_sheet_id, code, self_points,
	adjusted_points, adjust_reason)
SELECT s.id, e.code, e.max - (s.h + e.k * 7) % (e.max / 2),
	CASE WHEN s.h >= 40 AND s.h % 3 = 0 THEN e.max - (s.h + e.k * 7) %
		(e.max / 2) - 5 END,
	CASE WHEN s.h >= 40 AND s.h % 3 = 0 THEN 'Thiếu minh chứng (mẫu)' END
FROM syn_sheet s, (VALUES (1, '1.1', 40), (2, '2.1', 30),
	(3, '2.2', 30)) AS e (k, code, max)
ON CONFLICT DO NOTHING;

DO $$
DECLARE
	f record;
BEGIN
	FOR f IN SELECT * FROM syn_fk LOOP
		EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', f.tab,
			f.conname, f.def);
	END LOOP;
END $$;
ALTER TABLE units ENABLE TRIGGER units_changes;
ALTER TABLE plans ENABLE TRIGGER plans_changes;
ALTER TABLE milestones ENABLE TRIGGER milestones_changes;
ALTER TABLE tasks ENABLE TRIGGER tasks_changes;
ALTER TABLE assignments ENABLE TRIGGER assignments_changes;
ALTER TABLE submissions ENABLE TRIGGER submissions_changes;
ALTER TABLE models ENABLE TRIGGER models_changes;
ALTER TABLE inspection_plans ENABLE TRIGGER inspection_plans_changes;
ALTER TABLE inspections ENABLE TRIGGER inspections_changes;
ALTER TABLE recommendations ENABLE TRIGGER recommendations_changes;
ALTER TABLE rubrics ENABLE TRIGGER rubrics_changes;
ALTER TABLE score_sheets ENABLE TRIGGER score_sheets_changes;
ALTER TABLE milestone_units ENABLE TRIGGER milestone_units_changes;
ALTER TABLE submissions ENABLE TRIGGER submissions_obligation_insert;
ALTER TABLE submissions ENABLE TRIGGER submissions_obligation_update;
-- What the triggers would have sent once for the transaction.
SELECT pg_notify('danvan_changes', '');

-- The seeding is a change like any other: its audit event dates it.
SELECT audit_event(NULL, 'system', 'seed_synthetic', 'unit', u.id, u.path,
	NULL, jsonb_build_object('communes',
		current_setting('danvan.synthetic_communes')::int), NULL)
FROM units u WHERE u.id = '5eed0000-0000-4000-8000-000000000001';
