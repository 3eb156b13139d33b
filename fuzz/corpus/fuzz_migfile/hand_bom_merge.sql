-- revision: bom_1
-- down_revision: a1, b2 ,c3
--   +upgrade   postgresql  
SELECT 1;
--+downgrade
