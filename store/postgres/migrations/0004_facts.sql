-- Facts as data: an event's transition (from_phase, to_phase) and details,
-- a rollout's details and cause. Details are jsonb (NULL: none); a phase
-- is its name ('': none). Rows written before are converted from what
-- earlier versions wrote into messages and actors.

ALTER TABLE events
	ADD COLUMN from_phase text NOT NULL DEFAULT '',
	ADD COLUMN to_phase text NOT NULL DEFAULT '',
	ADD COLUMN details jsonb;
ALTER TABLE rollouts
	ADD COLUMN details jsonb,
	ADD COLUMN cause text NOT NULL DEFAULT '';

-- Transitions were written as 'From -> To: message'; a recovered one as
-- 'rollout N is Phase (...)'.
UPDATE events SET
	from_phase = substring(message from '^(\w+) -> \w+: '),
	to_phase = substring(message from '^\w+ -> (\w+): ')
WHERE message ~ '^(Pending|Progressing|Paused|RollingBack|Succeeded|RolledBack|Failed|Aborted|Superseded|Migrating) -> (Pending|Progressing|Paused|RollingBack|Succeeded|RolledBack|Failed|Aborted|Superseded|Migrating): ';
UPDATE events SET to_phase = substring(message from '^rollout \d+ is (\w+) \(')
WHERE reason = 'TransitionRecovered'
	AND message ~ '^rollout \d+ is (Pending|Progressing|Paused|RollingBack|Succeeded|RolledBack|Failed|Aborted|Superseded|Migrating) \(';

-- Backups as 'backup ID: …' and 'scheduled backup ID: …'.
UPDATE events SET details = jsonb_build_object('backup', jsonb_build_object('id', substring(message from '^backup (\S+):')))
WHERE reason = 'DatabaseBackedUp' AND message ~ '^backup \S+:';
UPDATE events SET details = jsonb_build_object('backup', jsonb_build_object('id', substring(message from '^scheduled backup (\S+):'), 'scheduled', true))
WHERE reason = 'DatabaseBackedUp' AND message ~ '^scheduled backup \S+:';

-- Rollouts of `gantry db rollback` had the actor 'gantry db rollback by USER';
-- every other rollout's cause is the reason of its first event.
UPDATE rollouts SET cause = 'DatabaseRollback', actor = substr(actor, 23) WHERE actor LIKE 'gantry db rollback by %';
UPDATE events SET reason = 'DatabaseRollback', actor = substr(actor, 23)
WHERE reason = 'RolloutUndo' AND actor LIKE 'gantry db rollback by %';
UPDATE rollouts r SET cause = first.reason
FROM (SELECT DISTINCT ON (rollout_id) rollout_id, reason FROM events
	WHERE reason IN ('RolloutCreated', 'RolloutUndo', 'RolloutRetried') ORDER BY rollout_id, id) first
WHERE r.id = first.rollout_id AND r.cause = '';
