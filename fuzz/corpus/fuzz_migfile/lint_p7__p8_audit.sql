-- revision: p8_audit
-- down_revision: p7_comprehensive_trust_layer

-- +upgrade
CREATE TABLE audit (id INTEGER PRIMARY KEY);

-- +downgrade
DROP TABLE audit;
