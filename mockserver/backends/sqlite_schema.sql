-- The mock's shared state in SQLite (mockserver/backends/sqlite.py). Every statement is idempotent.
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    labels TEXT NOT NULL,
    limit_units TEXT,  -- money as decimal text: amounts are unbounded integers in memory
    expiry TEXT,
    created_at TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS usage (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_units TEXT NOT NULL,
    origin TEXT,
    title TEXT,
    fields TEXT NOT NULL,
    meta TEXT  -- JSON: model_asked, tags, user_id, trace_id, violations (NULL for none)
);
CREATE INDEX IF NOT EXISTS usage_by_key ON usage (key_id);
CREATE TABLE IF NOT EXISTS tallies (  -- per key (scope = its id) and for the organization (scope = "\0org")
    scope TEXT NOT NULL,
    model TEXT NOT NULL,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost INTEGER NOT NULL,  -- 10^-10 USD
    PRIMARY KEY (scope, model)
);
CREATE TABLE IF NOT EXISTS monthly (  -- a key's spend per calendar month: what its limit is checked against
    key_id TEXT NOT NULL,
    month TEXT NOT NULL,
    cost INTEGER NOT NULL,
    PRIMARY KEY (key_id, month)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('sequence', 0), ('generation', 0);
CREATE TABLE IF NOT EXISTS board (name TEXT PRIMARY KEY, value TEXT NOT NULL);  -- the scenario in force
CREATE TABLE IF NOT EXISTS windows (  -- rate-limit windows of the scenario in force
    key TEXT PRIMARY KEY,
    start REAL NOT NULL,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (  -- report totals per bucket (mockserver/accounts/reports.py), the bucket as JSON
    bucket TEXT PRIMARY KEY,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES ('governance', 0);  -- bumped by each governance change
CREATE TABLE IF NOT EXISTS governance (
    kind TEXT NOT NULL,   -- access_list | key_access_list | key_alerts | key_guardrails
    name TEXT NOT NULL,   -- the list's name or the key's id
    value TEXT NOT NULL,  -- JSON
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    id TEXT PRIMARY KEY,      -- the crossing: key id, month, threshold
    key_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,       -- the event, as sent (no secret in it)
    state TEXT NOT NULL,      -- pending | delivered | failed
    next_at REAL NOT NULL,
    attempts TEXT NOT NULL,   -- JSON list of {at, status, error}
    claimed_until REAL NOT NULL DEFAULT 0  -- wall-clock seconds: the sending worker's claim
);
