-- What the agent does on chain. A proven sequence gets a submission: the
-- final proof's calldata, the hash committed for it, and where it stands on
-- our side. Every transaction the sender signs is recorded, with each signed
-- attempt (a replacement is a new attempt of the same nonce), before it is
-- broadcast: after a crash it is watched, re-broadcast or replaced, never
-- sent a second time under another nonce.

CREATE TABLE submissions (
    sequence BIGINT PRIMARY KEY REFERENCES sequences (sequence),
    calldata BYTEA NOT NULL,
    proof_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    round BIGINT NOT NULL,
    rounds BIGINT NOT NULL,
    reason TEXT,
    ready_block BIGINT NOT NULL,
    done_block BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE chain_transactions (
    account TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    purpose TEXT NOT NULL,
    sequence BIGINT,
    round BIGINT,
    status TEXT NOT NULL,
    mined_hash TEXT,
    block BIGINT,
    gas_used BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (account, nonce)
);

CREATE INDEX chain_transactions_by_status ON chain_transactions (status, account);

CREATE TABLE chain_transaction_attempts (
    account TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    hash TEXT NOT NULL,
    max_fee_per_gas TEXT NOT NULL,
    max_priority_fee_per_gas TEXT NOT NULL,
    gas_limit BIGINT NOT NULL,
    raw BYTEA NOT NULL,
    sent_ms BIGINT NOT NULL,
    PRIMARY KEY (account, nonce, attempt),
    FOREIGN KEY (account, nonce) REFERENCES chain_transactions (account, nonce)
);
