-- An idle service sleeps (its runner stopped) until a request wakes it: when it last fell asleep.
ALTER TABLE deployments ADD COLUMN sleeping_at TEXT;
