-- revision: dddddddddddd
-- down_revision: none
-- message: a second base, in a file not named after it, with no downgrade

-- +upgrade
CREATE TABLE d (id INTEGER PRIMARY KEY);
