-- revision: a1a1a1a1a1a1
-- down_revision: none
-- message: first

-- +upgrade
CREATE TABLE first_table (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE first_table;
