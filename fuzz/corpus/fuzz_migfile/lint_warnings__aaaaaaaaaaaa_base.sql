-- revision: aaaaaaaaaaaa
-- down_revision: none

-- +upgrade
CREATE TABLE a (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE a;
