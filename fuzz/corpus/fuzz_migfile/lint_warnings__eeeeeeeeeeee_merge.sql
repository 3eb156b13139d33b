-- revision: eeeeeeeeeeee
-- down_revision: aaaaaaaaaaaa, dddddddddddd
-- message: joins the two bases

-- +upgrade

-- +downgrade
