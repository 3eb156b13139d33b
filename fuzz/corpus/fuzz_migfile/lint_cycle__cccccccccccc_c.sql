-- revision: cccccccccccc
-- down_revision: bbbbbbbbbbbb

-- +upgrade
SELECT 1;

-- +downgrade
SELECT 1;
