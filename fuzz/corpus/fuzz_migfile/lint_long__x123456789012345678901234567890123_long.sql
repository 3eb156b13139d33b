-- revision: x123456789012345678901234567890123
-- down_revision: none

-- +upgrade
CREATE TABLE a (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE a;
