-- Periodic jobs run in one process at a time, whatever the number of
-- processes (issue 19): a process runs a job only after taking its lease,
-- with one conditional UPDATE. job_runs keeps what ran where and how it
-- ended, for operators (and the test that shows each run happened once).
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until TIMESTAMP NOT NULL
);

CREATE TABLE job_runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    holder TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    failure TEXT
);
CREATE INDEX job_runs_by_name ON job_runs (name, started_at);
