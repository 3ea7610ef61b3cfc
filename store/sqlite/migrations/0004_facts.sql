-- Facts as data: an event's transition (from_phase, to_phase) and details,
-- a rollout's details and cause. Details are JSON text (NULL: none); a
-- phase is its name ('': none). Rows written before are converted from
-- what earlier versions wrote into messages and actors.

ALTER TABLE events ADD COLUMN from_phase TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN to_phase TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN details TEXT;
ALTER TABLE rollouts ADD COLUMN details TEXT;
ALTER TABLE rollouts ADD COLUMN cause TEXT NOT NULL DEFAULT '';

-- Transitions were written as 'From -> To: message'.
UPDATE events SET
	from_phase = substr(message, 1, instr(message, ' -> ') - 1),
	to_phase = substr(message, instr(message, ' -> ') + 4, instr(message, ': ') - instr(message, ' -> ') - 4)
WHERE instr(message, ' -> ') > 0 AND instr(message, ': ') > instr(message, ' -> ');

-- A recovered transition as 'rollout N is Phase (...)'.
UPDATE events SET
	to_phase = substr(message, instr(message, ' is ') + 4, instr(message, ' (') - instr(message, ' is ') - 4)
WHERE reason = 'TransitionRecovered' AND instr(message, ' is ') > 0 AND instr(message, ' (') > instr(message, ' is ');

-- Anything that only looked like a transition (schema version 1 -> 2: ...).
UPDATE events SET from_phase = '', to_phase = ''
WHERE (from_phase <> '' AND from_phase NOT IN ('Pending', 'Progressing', 'Paused', 'RollingBack', 'Succeeded',
		'RolledBack', 'Failed', 'Aborted', 'Superseded', 'Migrating'))
	OR (to_phase <> '' AND to_phase NOT IN ('Pending', 'Progressing', 'Paused', 'RollingBack', 'Succeeded',
		'RolledBack', 'Failed', 'Aborted', 'Superseded', 'Migrating'));

-- Backups as 'backup ID: …' and 'scheduled backup ID: …'.
UPDATE events SET details = json_object('backup', json_object('id', substr(message, 8, instr(message, ':') - 8)))
WHERE reason = 'DatabaseBackedUp' AND message LIKE 'backup %:%';
UPDATE events SET details = json_object('backup', json_object('id', substr(message, 18, instr(message, ':') - 18), 'scheduled', json('true')))
WHERE reason = 'DatabaseBackedUp' AND message LIKE 'scheduled backup %:%';

-- Rollouts of `gantry db rollback` had the actor 'gantry db rollback by USER'.
UPDATE rollouts SET cause = 'DatabaseRollback', actor = substr(actor, 23) WHERE actor LIKE 'gantry db rollback by %';
UPDATE events SET reason = 'DatabaseRollback', actor = substr(actor, 23)
WHERE reason = 'RolloutUndo' AND actor LIKE 'gantry db rollback by %';
UPDATE rollouts SET cause = coalesce((
	SELECT e.reason FROM events e
	WHERE e.rollout_id = rollouts.id AND e.reason IN ('RolloutCreated', 'RolloutUndo', 'RolloutRetried', 'DatabaseRollback')
	ORDER BY e.id LIMIT 1), '')
WHERE cause = '';
