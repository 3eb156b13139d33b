-- revision: bbbbbbbbbbbb
-- down_revision: cccccccccccc

-- +upgrade
SELECT 1;

-- +downgrade
SELECT 1;
