-- Cases: every decision on an event (keyed by event id: deciding twice is a no-op), the case a
-- restricting or uncertain decision opens, its history of actions (automatic, review, second
-- review, appeal), appeals, strikes against posters and requesters with the sanctions they
-- trigger, the consent registry's face templates (numbers, never photos) and compact thread facts.
CREATE TABLE decisions (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    policy TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    case_id BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX decisions_action ON decisions (action);
CREATE TABLE cases (
    id {id},
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    action TEXT NOT NULL,
    auto_action TEXT NOT NULL,
    severity INTEGER NOT NULL,
    categories TEXT NOT NULL,
    rules_json TEXT NOT NULL,
    policy TEXT NOT NULL,
    poster TEXT,
    requester TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0,
    dsa_json TEXT NOT NULL,
    content_date TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cases_queue ON cases (status, severity, created_at);
CREATE INDEX cases_poster ON cases (poster);
CREATE INDEX cases_requester ON cases (requester);
CREATE TABLE case_actions (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    dsa_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX case_actions_case ON case_actions (case_id);
CREATE TABLE appeals (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases (id),
    appellant TEXT NOT NULL,
    statement TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    decided_by TEXT,
    outcome_action TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    decided_at TEXT
);
CREATE INDEX appeals_case ON appeals (case_id);
CREATE TABLE strikes (
    id {id},
    account TEXT NOT NULL,
    role TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    action TEXT NOT NULL,
    weight REAL NOT NULL,
    created_at TEXT NOT NULL,
    reversed_at TEXT,
    UNIQUE (case_id, account, role)
);
CREATE INDEX strikes_account ON strikes (account);
CREATE TABLE sanctions (
    id {id},
    account TEXT NOT NULL,
    sanction TEXT NOT NULL,
    points REAL NOT NULL,
    case_id BIGINT REFERENCES cases (id),
    decision_account TEXT,
    decision_provision TEXT,
    created_at TEXT NOT NULL,
    ends_at TEXT,
    lifted_at TEXT
);
CREATE INDEX sanctions_account ON sanctions (account);
CREATE TABLE consent_templates (
    id {id},
    embedding_json TEXT,
    label TEXT NOT NULL DEFAULT '',
    owner_account TEXT,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX consent_templates_withdrawn ON consent_templates (withdrawn_at);
CREATE TABLE thread_posts (
    post_id TEXT PRIMARY KEY,
    author TEXT,
    reply_to TEXT,
    mentions_json TEXT NOT NULL,
    request_sexualizing INTEGER NOT NULL,
    request_score REAL NOT NULL,
    media_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX thread_posts_created ON thread_posts (created_at);
CREATE INDEX thread_posts_reply ON thread_posts (reply_to);
