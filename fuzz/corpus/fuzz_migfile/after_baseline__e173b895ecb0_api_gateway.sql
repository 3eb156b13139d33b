-- revision: e173b895ecb0
-- down_revision: b07a366647c3
-- message: add api gateway tables
-- create_date: 2025-10-16 09:12:40

-- +upgrade
CREATE TABLE api_gateways (
  id VARCHAR(36) NOT NULL,
  agent_id VARCHAR(36) NOT NULL,
  route VARCHAR(200) NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

-- +downgrade
DROP TABLE api_gateways;
