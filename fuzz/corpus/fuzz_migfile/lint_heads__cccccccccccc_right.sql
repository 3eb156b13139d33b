-- revision: cccccccccccc
-- down_revision: aaaaaaaaaaaa
-- message: claims the same parent as bbbbbbbbbbbb

-- +upgrade
CREATE TABLE c (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE c;
