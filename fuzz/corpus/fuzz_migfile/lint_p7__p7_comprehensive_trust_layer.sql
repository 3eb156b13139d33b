-- revision: p7_comprehensive
-- down_revision: b07a366647c3

-- +upgrade
CREATE TABLE trust (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE trust;
