-- revision: 5e2b9a4d7c83
-- down_revision: 4d3c1b6e8f72, 3c5d2e7f9a61
-- message: merge d and c, create branchy_m

-- +upgrade
CREATE TABLE branchy_m (
  id INTEGER NOT NULL,
  note VARCHAR(20),
  PRIMARY KEY (id)
);

-- +downgrade
DROP TABLE branchy_m;
