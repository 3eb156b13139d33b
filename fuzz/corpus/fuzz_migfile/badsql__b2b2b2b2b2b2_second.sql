-- revision: b2b2b2b2b2b2
-- down_revision: a1a1a1a1a1a1
-- message: second, with a typo on line 9

-- +upgrade
CREATE TABLE second_table (id INTEGER PRIMARY KEY);

-- the next statement is broken
CREAT TABLE third_table (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE second_table;
