-- revision: a1b2c3d4e5f6
-- down_revision: none
-- branch_labels: core, core-2.x
-- depends_on: b1c2
-- message: crlf, labels, dependency
-- create_date: 2024-01-01 00:00:00
-- transactional: false

-- +upgrade sqlite
CREATE TABLE t (id INTEGER);
-- +upgrade postgresql
CREATE TABLE t (id SERIAL);
-- +downgrade
DROP TABLE t;
