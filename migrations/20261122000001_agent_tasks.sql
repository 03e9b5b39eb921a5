-- The agent's proving state: sequences to prove, the accounts of their
-- batches, the task graph of each, and the proofs workers returned.
-- Portable between SQLite and PostgreSQL: times are Unix milliseconds,
-- JSON is TEXT, proofs are BYTEA (a BLOB in SQLite).

CREATE TABLE sequences (
    sequence BIGINT PRIMARY KEY,
    shape TEXT NOT NULL,
    source TEXT NOT NULL,
    submitter TEXT NOT NULL,
    prices TEXT NOT NULL,
    account_count BIGINT NOT NULL,
    root TEXT NOT NULL,
    digest TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE batches (
    sequence BIGINT NOT NULL REFERENCES sequences (sequence),
    batch BIGINT NOT NULL,
    accounts TEXT NOT NULL,
    PRIMARY KEY (sequence, batch)
);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL REFERENCES sequences (sequence),
    kind TEXT NOT NULL,
    tier BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    status TEXT NOT NULL,
    waiting_for BIGINT NOT NULL,
    expected TEXT NOT NULL,
    lease_id TEXT,
    lease_holder TEXT,
    lease_expires_ms BIGINT,
    leased_ms BIGINT,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    updated_ms BIGINT NOT NULL
);

CREATE INDEX tasks_by_status ON tasks (status, sequence, tier, idx);
CREATE INDEX tasks_by_sequence ON tasks (sequence);

CREATE TABLE task_dependents (
    task TEXT NOT NULL REFERENCES tasks (id),
    dependent TEXT NOT NULL REFERENCES tasks (id),
    PRIMARY KEY (task, dependent)
);

CREATE TABLE task_errors (
    task TEXT NOT NULL REFERENCES tasks (id),
    attempt BIGINT NOT NULL,
    holder TEXT,
    error TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (task, attempt)
);

CREATE TABLE proofs (
    task TEXT PRIMARY KEY REFERENCES tasks (id),
    proof BYTEA NOT NULL,
    prover TEXT NOT NULL,
    proving_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE workers (
    name TEXT PRIMARY KEY,
    accepted BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
