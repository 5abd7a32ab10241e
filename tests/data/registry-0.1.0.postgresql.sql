-- Registry schema of release 0.1.0 (CHANGELOG "## [0.1.0] - 2026-11-23"), commit 1719fed
-- (1719fede466a154e3225ef4f685c674379064f38), as its init_db (SQLModel create_all) made it on postgresql.
-- Generated once from that commit's models with SQLAlchemy's create_all on a mock engine;
-- tests/integration/test_registry_upgrade.py builds a database of that release from it.

CREATE TYPE role AS ENUM ('CLINICIAN', 'DEVICE', 'MANUFACTURER', 'REGULATOR', 'ADMIN');

CREATE TYPE casestatus AS ENUM ('RECEIVED', 'TRIAGED', 'UNDER_ASSESSMENT', 'AWAITING_MANUFACTURER', 'REPORTED_TO_AUTHORITY', 'CLOSED');

CREATE TYPE severity AS ENUM ('DEATH', 'SERIOUS', 'MALFUNCTION', 'OTHER');

CREATE TYPE linkrole AS ENUM ('PRIMARY', 'LINKED', 'MERGED');

CREATE TYPE mirtype AS ENUM ('INITIAL', 'FOLLOW_UP', 'COMBINED_INITIAL_FINAL', 'FINAL');

CREATE TYPE reportkind AS ENUM ('ADVERSE_EVENT', 'INAPPROPRIATE_AI_SUGGESTION', 'NEAR_MISS');

CREATE TYPE reporterrole AS ENUM ('PHYSICIAN', 'NURSE', 'PHARMACIST', 'OTHER_HEALTH_PROFESSIONAL', 'VIGILANCE_CORRESPONDENT', 'MANUFACTURER', 'PATIENT');

CREATE TYPE reportedoutcome AS ENUM ('DEATH', 'SERIOUS_DETERIORATION', 'INJURY', 'NO_HARM', 'UNKNOWN');

CREATE TABLE outbox_event (
	id SERIAL NOT NULL, 
	event_id VARCHAR(36) NOT NULL, 
	topic VARCHAR(250) NOT NULL, 
	key VARCHAR(100) NOT NULL, 
	event_type VARCHAR(50) NOT NULL, 
	payload TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	published_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id), 
	UNIQUE (event_id)
);

CREATE INDEX ix_outbox_event_published_at ON outbox_event (published_at);

CREATE TABLE audit_record (
	seq SERIAL NOT NULL, 
	case_id UUID NOT NULL, 
	actor VARCHAR(100) NOT NULL, 
	action VARCHAR(50) NOT NULL, 
	detail TEXT NOT NULL, 
	at TIMESTAMP WITH TIME ZONE NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq), 
	UNIQUE (hash)
);

CREATE INDEX ix_audit_record_case_id ON audit_record (case_id);

CREATE TABLE api_token (
	token_id UUID NOT NULL, 
	token_hash VARCHAR(64) NOT NULL, 
	role role NOT NULL, 
	manufacturer VARCHAR(200), 
	label VARCHAR(200), 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	revoked_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (token_id), 
	UNIQUE (token_hash)
);

CREATE TABLE "case" (
	case_id UUID NOT NULL, 
	status casestatus NOT NULL, 
	status_reason VARCHAR(1000), 
	severity severity NOT NULL, 
	serious_incident BOOLEAN NOT NULL, 
	needs_review BOOLEAN NOT NULL, 
	deadline DATE, 
	device_name VARCHAR(200) NOT NULL, 
	manufacturer VARCHAR(200) NOT NULL, 
	manufacturer_key VARCHAR(200) NOT NULL, 
	country VARCHAR(2) NOT NULL, 
	category VARCHAR, 
	merged_into UUID, 
	opened_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (case_id), 
	FOREIGN KEY(merged_into) REFERENCES "case" (case_id)
);

CREATE INDEX ix_case_manufacturer_deadline ON "case" (manufacturer_key, deadline);

CREATE INDEX ix_case_status_deadline ON "case" (status, deadline);

CREATE INDEX ix_case_needs_review ON "case" (needs_review);

CREATE TABLE device (
	device_id VARCHAR(40) NOT NULL, 
	name VARCHAR(1000) NOT NULL, 
	name_key VARCHAR(1000) NOT NULL, 
	manufacturer VARCHAR(1000) NOT NULL, 
	manufacturer_key VARCHAR(1000) NOT NULL, 
	udi_di VARCHAR(100), 
	risk_class VARCHAR(60), 
	submission_number VARCHAR(40), 
	pathway VARCHAR(40), 
	year INTEGER, 
	clinical_domain VARCHAR(100), 
	device_function VARCHAR(100), 
	source VARCHAR(60) NOT NULL, 
	PRIMARY KEY (device_id)
);

CREATE INDEX ix_device_udi_di ON device (udi_di);

CREATE INDEX ix_device_manufacturer_key ON device (manufacturer_key);

CREATE INDEX ix_device_name_key ON device (name_key);

CREATE TABLE report (
	report_id UUID NOT NULL, 
	tracking_number VARCHAR(16) NOT NULL, 
	kind reportkind NOT NULL, 
	reporter_role reporterrole NOT NULL, 
	country VARCHAR(2) NOT NULL, 
	establishment VARCHAR, 
	device_name VARCHAR(200) NOT NULL, 
	manufacturer VARCHAR(200) NOT NULL, 
	udi_di VARCHAR(100), 
	model_version VARCHAR(100) NOT NULL, 
	is_medical_device BOOLEAN NOT NULL, 
	event_date DATE, 
	awareness_date DATE NOT NULL, 
	outcome reportedoutcome NOT NULL, 
	severity severity NOT NULL, 
	needs_review BOOLEAN NOT NULL, 
	review_reasons VARCHAR NOT NULL, 
	category VARCHAR, 
	confidence FLOAT, 
	triage_model_version VARCHAR, 
	serious_incident BOOLEAN NOT NULL, 
	deadline DATE, 
	narrative TEXT NOT NULL, 
	submitted_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	recorded_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	manufacturer_key VARCHAR(200) NOT NULL, 
	patient_pseudonym VARCHAR(40), 
	reporter_ref VARCHAR(40), 
	status_token_hash VARCHAR(64), 
	payload TEXT NOT NULL, 
	PRIMARY KEY (report_id)
);

CREATE INDEX ix_report_severity ON report (severity);

CREATE INDEX ix_report_country ON report (country);

CREATE INDEX ix_report_tracking_number ON report (tracking_number);

CREATE INDEX ix_report_submitted ON report (submitted_at, report_id);

CREATE INDEX ix_report_device_name ON report (device_name);

CREATE INDEX ix_report_reporter_ref ON report (reporter_ref);

CREATE INDEX ix_report_manufacturer_submitted ON report (manufacturer_key, submitted_at);

CREATE INDEX ix_report_status_token_hash ON report (status_token_hash);

CREATE INDEX ix_report_deadline ON report (deadline);

CREATE TABLE subscription (
	sub_id UUID NOT NULL, 
	name VARCHAR(42) NOT NULL, 
	owner VARCHAR(64) NOT NULL, 
	topic VARCHAR(250) NOT NULL, 
	severities VARCHAR NOT NULL, 
	alert_types VARCHAR NOT NULL, 
	manufacturer_key VARCHAR(200), 
	device_name VARCHAR(200), 
	category VARCHAR(100), 
	country VARCHAR(2), 
	active BOOLEAN NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (sub_id), 
	UNIQUE (name)
);

CREATE INDEX ix_subscription_owner ON subscription (owner);

CREATE TABLE case_report (
	case_id UUID NOT NULL, 
	report_id UUID NOT NULL, 
	role linkrole NOT NULL, 
	linked_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (case_id, report_id), 
	FOREIGN KEY(case_id) REFERENCES "case" (case_id), 
	FOREIGN KEY(report_id) REFERENCES report (report_id)
);

CREATE INDEX ix_case_report_report_id ON case_report (report_id);

CREATE TABLE mir_report (
	mir_id UUID NOT NULL, 
	case_id UUID NOT NULL, 
	report_type mirtype NOT NULL, 
	author_role VARCHAR(20) NOT NULL, 
	author VARCHAR(64) NOT NULL, 
	content TEXT NOT NULL, 
	submitted_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (mir_id), 
	FOREIGN KEY(case_id) REFERENCES "case" (case_id)
);

CREATE INDEX ix_mir_report_case_id ON mir_report (case_id);

CREATE TABLE device_model_version (
	id SERIAL NOT NULL, 
	device_id VARCHAR NOT NULL, 
	model_version VARCHAR(100) NOT NULL, 
	first_seen TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (device_id, model_version), 
	FOREIGN KEY(device_id) REFERENCES device (device_id)
);

CREATE INDEX ix_device_model_version_device_id ON device_model_version (device_id);

CREATE TABLE delivery (
	id SERIAL NOT NULL, 
	sub_id UUID NOT NULL, 
	alert_id VARCHAR(36) NOT NULL, 
	outbox_event_id VARCHAR(36) NOT NULL, 
	case_id UUID, 
	routed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(sub_id) REFERENCES subscription (sub_id), 
	UNIQUE (outbox_event_id)
);

CREATE INDEX ix_delivery_sub_id ON delivery (sub_id);

