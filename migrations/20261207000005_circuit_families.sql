-- Sequences are proven on a circuit family instead of a dense shape: the
-- family's name replaces the shape, each sequence keeps its statement
-- (statement.json, which the final task proves) and the tier of each of its
-- batches; a batch holds users in their tier's wire form; task levels are
-- node levels (0: the nodes over batches), not dense tiers, and `expected`
-- holds the proof's circuit beside its public inputs.
--
-- Sequences of dense shapes stored before this migration name no family:
-- reading them fails with an error naming the shape; prove them with the
-- release that stored them, or remove the database.
ALTER TABLE sequences RENAME COLUMN shape TO family;
ALTER TABLE sequences ADD COLUMN statement TEXT NOT NULL DEFAULT '';
ALTER TABLE sequences ADD COLUMN tiers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE batches RENAME COLUMN accounts TO users;
ALTER TABLE tasks RENAME COLUMN tier TO level;
