-- revision: bbbbbbbbbbbb
-- down_revision: aaaaaaaaaaaa

-- +upgrade
CREATE TABLE c (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE c;
