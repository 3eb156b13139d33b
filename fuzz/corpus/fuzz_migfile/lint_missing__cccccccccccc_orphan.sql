-- revision: cccccccccccc
-- down_revision: 0123456789ab
-- message: names a parent that never existed

-- +upgrade
CREATE TABLE c (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE c;
