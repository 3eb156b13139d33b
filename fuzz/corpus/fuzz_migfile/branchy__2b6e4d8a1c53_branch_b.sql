-- revision: 2b6e4d8a1c53
-- down_revision: 1a7f3c9e2b40
-- message: create branchy_b

-- +upgrade
CREATE TABLE branchy_b (
  id INTEGER NOT NULL,
  note VARCHAR(20),
  PRIMARY KEY (id)
);

-- +downgrade
DROP TABLE branchy_b;
