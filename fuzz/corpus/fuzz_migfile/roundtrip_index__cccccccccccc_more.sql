-- revision: cccccccccccc
-- down_revision: bbbbbbbbbbbb
-- message: a later revision

-- +upgrade
CREATE TABLE c (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE c;
