-- revision: 3c5d2e7f9a61
-- down_revision: 1a7f3c9e2b40
-- branch_labels: side
-- message: create branchy_c

-- +upgrade
CREATE TABLE branchy_c (
  id INTEGER NOT NULL,
  note VARCHAR(20),
  PRIMARY KEY (id)
);

-- +downgrade
DROP TABLE branchy_c;
