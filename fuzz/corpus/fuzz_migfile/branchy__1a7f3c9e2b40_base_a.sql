-- revision: 1a7f3c9e2b40
-- down_revision: none
-- message: create branchy_a

-- +upgrade
CREATE TABLE branchy_a (
  id INTEGER NOT NULL,
  note VARCHAR(20),
  PRIMARY KEY (id)
);

-- +downgrade
DROP TABLE branchy_a;
