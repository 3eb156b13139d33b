-- revision: aaaaaaaaaaaa
-- down_revision: none
-- message: agent_services.agent_id as Integer, as it once was

-- +upgrade
CREATE TABLE agents (
  id VARCHAR(36) NOT NULL,
  PRIMARY KEY (id)
);
CREATE TABLE agent_services (
  id VARCHAR(36) NOT NULL,
  agent_id INTEGER NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

-- +downgrade
DROP TABLE agent_services;
DROP TABLE agents;
