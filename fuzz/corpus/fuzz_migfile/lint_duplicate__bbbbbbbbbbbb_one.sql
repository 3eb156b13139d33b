-- revision: bbbbbbbbbbbb
-- down_revision: aaaaaaaaaaaa

-- +upgrade
CREATE TABLE b (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE b;
