-- revision: bbbbbbbbbbbb
-- down_revision: aaaaaaaaaaaa
-- message: adds a column and forgets it going down

-- +upgrade
ALTER TABLE a ADD COLUMN note TEXT;

-- +downgrade
SELECT 1;
