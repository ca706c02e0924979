-- Demo organisation: the province of Quang Ngai, its Department of Home
-- Affairs, and Binh Chuong commune with the offices and bodies named in its
-- 2026 plan. The plan does not name the villages: the four below are
-- invented, marked sample = true and "(mẫu)" in their names.
-- Fixed ids keep the demo stable; re-running changes nothing.
CREATE TEMP TABLE seed_units (id uuid, parent uuid, kind text, code text,
	name text, sample boolean, ord int) ON COMMIT DROP;
INSERT INTO seed_units VALUES
 ('5eed0000-0000-4000-8000-000000000001', NULL, 'province', 'quang-ngai', 'UBND tỉnh Quảng Ngãi', false, 1),
 ('5eed0000-0000-4000-8000-000000000002', '5eed0000-0000-4000-8000-000000000001', 'department', 'so-noi-vu', 'Sở Nội vụ tỉnh Quảng Ngãi', false, 2),
 ('5eed0000-0000-4000-8000-000000000010', '5eed0000-0000-4000-8000-000000000001', 'commune', 'binh-chuong', 'UBND xã Bình Chương', false, 3),
 ('5eed0000-0000-4000-8000-000000000011', '5eed0000-0000-4000-8000-000000000010', 'office', 'vp-hdnd-ubnd', 'Văn phòng HĐND và UBND xã', false, 4),
 ('5eed0000-0000-4000-8000-000000000012', '5eed0000-0000-4000-8000-000000000010', 'office', 'phong-kinh-te', 'Phòng Kinh tế', false, 4),
 ('5eed0000-0000-4000-8000-000000000013', '5eed0000-0000-4000-8000-000000000010', 'office', 'phong-vh-xh', 'Phòng Văn hóa – Xã hội', false, 4),
 ('5eed0000-0000-4000-8000-000000000014', '5eed0000-0000-4000-8000-000000000010', 'office', 'tt-phuc-vu-hcc', 'Trung tâm Phục vụ hành chính công xã', false, 4),
 ('5eed0000-0000-4000-8000-000000000015', '5eed0000-0000-4000-8000-000000000010', 'office', 'tt-cung-ung-dvc', 'Trung tâm Cung ứng dịch vụ công', false, 4),
 ('5eed0000-0000-4000-8000-000000000016', '5eed0000-0000-4000-8000-000000000010', 'party', 'ban-xay-dung-dang', 'Ban Xây dựng đảng Đảng ủy', false, 4),
 ('5eed0000-0000-4000-8000-000000000017', '5eed0000-0000-4000-8000-000000000010', 'front', 'mttq', 'Ủy ban Mặt trận Tổ quốc Việt Nam xã', false, 4),
 ('5eed0000-0000-4000-8000-000000000021', '5eed0000-0000-4000-8000-000000000010', 'village', 'thon-1', 'Thôn 1 (mẫu)', true, 4),
 ('5eed0000-0000-4000-8000-000000000022', '5eed0000-0000-4000-8000-000000000010', 'village', 'thon-2', 'Thôn 2 (mẫu)', true, 4),
 ('5eed0000-0000-4000-8000-000000000023', '5eed0000-0000-4000-8000-000000000010', 'village', 'thon-3', 'Thôn 3 (mẫu)', true, 4),
 ('5eed0000-0000-4000-8000-000000000024', '5eed0000-0000-4000-8000-000000000010', 'village', 'thon-4', 'Thôn 4 (mẫu)', true, 4),
 ('5eed0000-0000-4000-8000-000000000031', '5eed0000-0000-4000-8000-000000000021', 'front', 'ban-cong-tac-mat-tran', 'Ban Công tác Mặt trận thôn 1 (mẫu)', true, 5),
 ('5eed0000-0000-4000-8000-000000000032', '5eed0000-0000-4000-8000-000000000022', 'front', 'ban-cong-tac-mat-tran', 'Ban Công tác Mặt trận thôn 2 (mẫu)', true, 5),
 ('5eed0000-0000-4000-8000-000000000033', '5eed0000-0000-4000-8000-000000000023', 'front', 'ban-cong-tac-mat-tran', 'Ban Công tác Mặt trận thôn 3 (mẫu)', true, 5),
 ('5eed0000-0000-4000-8000-000000000034', '5eed0000-0000-4000-8000-000000000024', 'front', 'ban-cong-tac-mat-tran', 'Ban Công tác Mặt trận thôn 4 (mẫu)', true, 5);

DO $$
DECLARE
	s record;
BEGIN
	FOR s IN SELECT * FROM seed_units ORDER BY ord, code LOOP
		INSERT INTO units (id, parent_id, kind, code, name, sample, path)
		SELECT s.id, s.parent, s.kind, s.code, s.name, s.sample,
			coalesce((SELECT path FROM units WHERE id = s.parent),
				''::ltree) || unit_label(s.id)
		ON CONFLICT (id) DO NOTHING;
	END LOOP;
END
$$;
