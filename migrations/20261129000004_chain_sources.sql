-- Sequences posted on chain whose witness the agent refused (it does not
-- rebuild the posted root, its totals differ from the posted statement, the
-- exchange could not be reached...): shown by `zkpor agent status` and
-- retried; the row goes once the sequence is stored.
CREATE TABLE refused_sequences (
    sequence BIGINT PRIMARY KEY,
    root TEXT NOT NULL,
    reason TEXT NOT NULL,
    refused_ms BIGINT NOT NULL
);
