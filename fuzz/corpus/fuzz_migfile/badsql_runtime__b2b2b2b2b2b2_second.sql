-- revision: b2b2b2b2b2b2
-- down_revision: a1a1a1a1a1a1
-- message: second, creating a table that exists (line 10)

-- +upgrade
CREATE TABLE second_table (id INTEGER PRIMARY KEY);
INSERT INTO second_table (id) VALUES (1);

-- first_table exists already: the error comes from running, not parsing
CREATE TABLE first_table (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE second_table;
