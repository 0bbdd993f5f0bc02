-- hinge serve: the clinic's database (one SQLite file, WAL).
-- Applied in order by src/serve/db.rs; PRAGMA user_version holds the last applied migration.

-- A person whose lifts are analysed; `name` is what the therapist types (an id or a name).
CREATE TABLE patients (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL            -- unix seconds
);

-- Uploaded videos, stored by content: DIR/videos/<sha256>.
CREATE TABLE videos (
    sha256      TEXT PRIMARY KEY,
    size_bytes  INTEGER NOT NULL,
    stored_at   INTEGER NOT NULL
);

-- One analysis per video content and settings: the work queue and its results.
-- Outputs live in DIR/analyses/<id>/ once status is 'done'.
CREATE TABLE analyses (
    id               INTEGER PRIMARY KEY,
    video_sha256     TEXT NOT NULL,
    settings_sha256  TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    reason           TEXT,                  -- failed: why, in plain words
    outcome          TEXT,                  -- done: the batch status (ok, no_person, not_upright ...)
    warning          TEXT,                  -- done but not ok: why the figures may not hold
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    frames           INTEGER,
    duration_s       REAL,
    faults           TEXT NOT NULL DEFAULT '',   -- ';'-separated fault names of the clip
    model            TEXT,
    hinge_version    TEXT,
    UNIQUE (video_sha256, settings_sha256)
);
CREATE INDEX analyses_by_status ON analyses (status, id);

-- A patient's session: one video of theirs, when it was filmed, a note.
CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    patient_id     INTEGER NOT NULL REFERENCES patients (id),
    analysis_id    INTEGER NOT NULL REFERENCES analyses (id),
    recorded_on    TEXT NOT NULL,           -- YYYY-MM-DD
    note           TEXT NOT NULL DEFAULT '',
    original_name  TEXT NOT NULL,           -- as uploaded; shown, never used as a path
    uploaded_at    INTEGER NOT NULL,
    source         TEXT NOT NULL CHECK (source IN ('upload', 'batch')),
    UNIQUE (patient_id, analysis_id)
);
CREATE INDEX sessions_by_patient ON sessions (patient_id, recorded_on, uploaded_at);

-- Per-rep results of a finished analysis (written with status 'done', in one transaction).
CREATE TABLE reps (
    analysis_id    INTEGER NOT NULL REFERENCES analyses (id),
    rep            INTEGER NOT NULL,
    start_s        REAL NOT NULL,
    end_s          REAL NOT NULL,
    verdict        TEXT NOT NULL,
    faults         TEXT NOT NULL DEFAULT '',   -- ';'-separated
    at_depth_json  TEXT NOT NULL,              -- {"<metric name>": value} over the metrics registry
    PRIMARY KEY (analysis_id, rep)
);
