-- Runs once, when the data directory is first initialised: one role and one database per service.
-- Dev-only passwords, matching the secretGenerator in kustomization.yaml.
CREATE ROLE registry LOGIN PASSWORD 'registry-dev-only';
CREATE DATABASE registry OWNER registry;
CREATE ROLE consent LOGIN PASSWORD 'consent-dev-only';
CREATE DATABASE consent OWNER consent;
CREATE ROLE scoring LOGIN PASSWORD 'scoring-dev-only';
CREATE DATABASE scoring OWNER scoring;
CREATE ROLE objection LOGIN PASSWORD 'objection-dev-only';
CREATE DATABASE objection OWNER objection;
CREATE ROLE gateway LOGIN PASSWORD 'gateway-dev-only';
CREATE DATABASE gateway OWNER gateway;
