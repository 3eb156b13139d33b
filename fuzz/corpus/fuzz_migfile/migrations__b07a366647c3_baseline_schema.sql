-- revision: b07a366647c3
-- down_revision: none
-- message: baseline schema
-- create_date: 2025-10-15 14:54:02

-- +upgrade
CREATE TABLE organizations (
  id VARCHAR(36) NOT NULL,
  name VARCHAR(200) NOT NULL,
  billing_email VARCHAR(255),
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  PRIMARY KEY (id)
);

CREATE TABLE users (
  id VARCHAR(36) NOT NULL,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  name VARCHAR(100),
  organization_id VARCHAR(36) NOT NULL,
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (organization_id) REFERENCES organizations (id),
  UNIQUE (email)
);
CREATE INDEX ix_users_organization_id ON users (organization_id);

CREATE TABLE agents (
  id VARCHAR(36) NOT NULL,
  name VARCHAR(100) NOT NULL,
  language VARCHAR(50) NOT NULL,
  version VARCHAR(20),
  status VARCHAR(20),
  description TEXT,
  capabilities TEXT,
  tags TEXT,
  specialization VARCHAR(200),
  performance_score FLOAT,
  endpoint_url VARCHAR(500),
  api_key VARCHAR(100),
  last_seen TIMESTAMP,
  total_coordinations INTEGER,
  successful_coordinations INTEGER,
  average_response_time FLOAT,
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  organization_id VARCHAR(36) NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (organization_id) REFERENCES organizations (id)
);
CREATE INDEX ix_agents_organization_id ON agents (organization_id);

CREATE TABLE agent_services (
  id VARCHAR(36) NOT NULL,
  agent_id VARCHAR(36) NOT NULL,
  service_name VARCHAR(100) NOT NULL,
  description TEXT,
  endpoint VARCHAR(500),
  is_active BOOLEAN,
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE TABLE agent_capabilities (
  id VARCHAR(36) NOT NULL,
  agent_id VARCHAR(36) NOT NULL,
  capability_name VARCHAR(100) NOT NULL,
  capability_value TEXT,
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE TABLE agent_performance (
  id VARCHAR(36) NOT NULL,
  agent_id VARCHAR(36) NOT NULL,
  metric_name VARCHAR(100) NOT NULL,
  metric_value FLOAT,
  recorded_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE TABLE api_keys (
  id VARCHAR(36) NOT NULL,
  agent_id VARCHAR(36) NOT NULL,
  key_hash VARCHAR(255) NOT NULL,
  name VARCHAR(100),
  is_active BOOLEAN,
  created_at TIMESTAMP,
  expires_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE TABLE coordinations (
  id VARCHAR(36) NOT NULL,
  workflow_type VARCHAR(100) NOT NULL,
  status VARCHAR(20),
  initiator_agent_id VARCHAR(36),
  participating_agents TEXT,
  workflow_steps TEXT,
  start_time TIMESTAMP,
  end_time TIMESTAMP,
  total_duration FLOAT,
  result_data TEXT,
  error_message TEXT,
  security_level VARCHAR(20),
  audit_trail TEXT,
  PRIMARY KEY (id),
  FOREIGN KEY (initiator_agent_id) REFERENCES agents (id)
);

CREATE TABLE security_events (
  id VARCHAR(36) NOT NULL,
  event_type VARCHAR(50) NOT NULL,
  severity VARCHAR(20),
  user_id VARCHAR(100),
  agent_id VARCHAR(36),
  resource_accessed VARCHAR(200),
  access_granted BOOLEAN,
  security_level_required VARCHAR(20),
  security_level_provided VARCHAR(20),
  ip_address VARCHAR(45),
  user_agent VARCHAR(500),
  event_data TEXT,
  timestamp TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id)
);

CREATE TABLE ledger_accounts (
  id VARCHAR(36) NOT NULL,
  account_type VARCHAR(50) NOT NULL,
  name VARCHAR(200) NOT NULL,
  balance NUMERIC(20, 2),
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  PRIMARY KEY (id)
);

CREATE TABLE ledger_entries (
  id VARCHAR(36) NOT NULL,
  account_id VARCHAR(36) NOT NULL,
  amount NUMERIC(20, 2) NOT NULL,
  entry_type VARCHAR(20) NOT NULL,
  description TEXT,
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (account_id) REFERENCES ledger_accounts (id)
);

CREATE TABLE org_balances (
  id VARCHAR(36) NOT NULL,
  organization_id VARCHAR(36) NOT NULL,
  balance NUMERIC(20, 2),
  updated_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (organization_id) REFERENCES organizations (id),
  UNIQUE (organization_id)
);

CREATE TABLE transactions (
  id VARCHAR(36) NOT NULL,
  from_agent_id VARCHAR(36),
  to_agent_id VARCHAR(36),
  amount NUMERIC(20, 2) NOT NULL,
  transaction_type VARCHAR(50) NOT NULL,
  status VARCHAR(20),
  description TEXT,
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (from_agent_id) REFERENCES agents (id),
  FOREIGN KEY (to_agent_id) REFERENCES agents (id)
);

CREATE TABLE reputation_scores (
  id VARCHAR(36) NOT NULL,
  agent_id VARCHAR(36) NOT NULL,
  score FLOAT,
  category VARCHAR(100),
  updated_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
);

CREATE TABLE message_logs (
  id VARCHAR(36) NOT NULL,
  from_agent_id VARCHAR(36),
  to_agent_id VARCHAR(36),
  message_content TEXT,
  timestamp TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (from_agent_id) REFERENCES agents (id),
  FOREIGN KEY (to_agent_id) REFERENCES agents (id)
);

CREATE TABLE audit_logs (
  id VARCHAR(36) NOT NULL,
  user_id VARCHAR(36),
  action VARCHAR(100) NOT NULL,
  resource_type VARCHAR(100),
  resource_id VARCHAR(36),
  details TEXT,
  timestamp TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE customer_profiles (
  id VARCHAR(36) NOT NULL,
  organization_id VARCHAR(36) NOT NULL,
  name VARCHAR(200) NOT NULL,
  email VARCHAR(255),
  phone VARCHAR(50),
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (organization_id) REFERENCES organizations (id)
);

CREATE TABLE purchases (
  id VARCHAR(36) NOT NULL,
  organization_id VARCHAR(36) NOT NULL,
  amount NUMERIC(20, 2) NOT NULL,
  description TEXT,
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (organization_id) REFERENCES organizations (id)
);

CREATE TABLE webhooks (
  id VARCHAR(36) NOT NULL,
  url VARCHAR(500) NOT NULL,
  event_type VARCHAR(100) NOT NULL,
  is_active BOOLEAN,
  created_at TIMESTAMP,
  PRIMARY KEY (id)
);

CREATE TABLE webhook_events (
  id VARCHAR(36) NOT NULL,
  webhook_id VARCHAR(36) NOT NULL,
  payload TEXT,
  status VARCHAR(20),
  created_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (webhook_id) REFERENCES webhooks (id)
);

CREATE TABLE workflows (
  id VARCHAR(36) NOT NULL,
  name VARCHAR(200) NOT NULL,
  description TEXT,
  is_active BOOLEAN,
  created_at TIMESTAMP,
  PRIMARY KEY (id)
);

CREATE TABLE workflow_steps (
  id VARCHAR(36) NOT NULL,
  workflow_id VARCHAR(36) NOT NULL,
  step_order INTEGER NOT NULL,
  step_type VARCHAR(100) NOT NULL,
  config TEXT,
  PRIMARY KEY (id),
  FOREIGN KEY (workflow_id) REFERENCES workflows (id)
);

CREATE TABLE workflow_executions (
  id VARCHAR(36) NOT NULL,
  workflow_id VARCHAR(36) NOT NULL,
  status VARCHAR(20),
  started_at TIMESTAMP,
  completed_at TIMESTAMP,
  PRIMARY KEY (id),
  FOREIGN KEY (workflow_id) REFERENCES workflows (id)
);

-- +downgrade
DROP INDEX ix_agents_organization_id;
DROP INDEX ix_users_organization_id;
DROP TABLE workflow_executions;
DROP TABLE workflow_steps;
DROP TABLE workflows;
DROP TABLE webhook_events;
DROP TABLE webhooks;
DROP TABLE purchases;
DROP TABLE customer_profiles;
DROP TABLE audit_logs;
DROP TABLE message_logs;
DROP TABLE reputation_scores;
DROP TABLE transactions;
DROP TABLE org_balances;
DROP TABLE ledger_entries;
DROP TABLE ledger_accounts;
DROP TABLE security_events;
DROP TABLE coordinations;
DROP TABLE api_keys;
DROP TABLE agent_performance;
DROP TABLE agent_capabilities;
DROP TABLE agent_services;
DROP TABLE agents;
DROP TABLE users;
DROP TABLE organizations;
