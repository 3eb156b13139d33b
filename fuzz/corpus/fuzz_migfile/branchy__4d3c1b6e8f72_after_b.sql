-- revision: 4d3c1b6e8f72
-- down_revision: 2b6e4d8a1c53
-- message: create branchy_d

-- +upgrade
CREATE TABLE branchy_d (
  id INTEGER NOT NULL,
  note VARCHAR(20),
  PRIMARY KEY (id)
);

-- +upgrade postgresql
COMMENT ON TABLE branchy_d IS 'created on PostgreSQL only: 100% pg';

-- +downgrade
DROP TABLE branchy_d;
