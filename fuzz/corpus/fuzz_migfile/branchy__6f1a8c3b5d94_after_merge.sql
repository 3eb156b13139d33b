-- revision: 6f1a8c3b5d94
-- down_revision: 5e2b9a4d7c83
-- message: create branchy_e

-- +upgrade
CREATE TABLE branchy_e (
  id INTEGER NOT NULL,
  note VARCHAR(20),
  PRIMARY KEY (id)
);

-- +downgrade
DROP TABLE branchy_e;
