-- revision: bbbbbbbbbbbb
-- down_revision: aaaaaaaaaaaa
-- message: adds a table and an index, and forgets the index going down

-- +upgrade
CREATE TABLE b (id INTEGER PRIMARY KEY, name VARCHAR(50));
CREATE INDEX ix_a_id ON a (id);

-- +downgrade
DROP TABLE b;
