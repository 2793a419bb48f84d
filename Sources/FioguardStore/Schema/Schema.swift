/// The schema, as forward-only migrations. A new version appends; none is ever edited once
/// released (tests open databases at every earlier version and migrate them).
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "lifecycle", sql: v1),
        Migration(version: 2, name: "webhooks", sql: v2),
        Migration(version: 3, name: "ticket_consumer", sql: v3),
        Migration(version: 4, name: "unnamed_pseudonym_index", sql: v4),
        Migration(version: 5, name: "held_enrollments", sql: v5),
        Migration(version: 6, name: "audit_subject_id", sql: v6),
        Migration(version: 7, name: "check_without_in_lists", sql: v7),
        Migration(version: 8, name: "consent_personal_by_grant_event", sql: v8),
    ]

    static let v1 = """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) STRICT;

        -- One row per backend user. `subject` is NULL once erased; `pseudonym` (a keyed hash of the
        -- subject) stays so the audit trail remains linkable without the personal value.
        CREATE TABLE subjects (
            id         INTEGER PRIMARY KEY,
            subject    TEXT UNIQUE,
            pseudonym  TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            erased_at  INTEGER
        ) STRICT;
        CREATE INDEX subjects_pseudonym ON subjects(pseudonym);

        -- Consent history: append-only (triggers refuse UPDATE and DELETE).
        CREATE TABLE consent_events (
            id          INTEGER PRIMARY KEY,
            subject_id  INTEGER NOT NULL REFERENCES subjects(id),
            consent_id  TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ('granted', 'revoked', 'expired')),
            purposes    TEXT NOT NULL,
            at          INTEGER NOT NULL,
            details     TEXT NOT NULL
        ) STRICT;
        CREATE INDEX consent_events_subject ON consent_events(subject_id, id);
        CREATE UNIQUE INDEX consent_events_grant ON consent_events(consent_id) WHERE kind = 'granted';
        CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
            BEGIN SELECT RAISE(ABORT, 'consent history is append-only'); END;
        CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
            BEGIN SELECT RAISE(ABORT, 'consent history is append-only'); END;

        -- The personal part of a grant (age, birth date, guardian, locale, the receipt), kept apart
        -- so that erasure can remove it while the history above stays append-only.
        CREATE TABLE consent_personal (
            consent_id TEXT PRIMARY KEY,
            subject_id INTEGER NOT NULL REFERENCES subjects(id),
            data       TEXT NOT NULL
        ) STRICT;
        CREATE INDEX consent_personal_subject ON consent_personal(subject_id);

        -- What is in force now: one row per active purpose (a projection of the history).
        CREATE TABLE consent_state (
            subject_id  INTEGER NOT NULL REFERENCES subjects(id),
            purpose     TEXT NOT NULL,
            consent_id  TEXT NOT NULL,
            granted_at  INTEGER NOT NULL,
            expires_at  INTEGER,
            PRIMARY KEY (subject_id, purpose)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX consent_state_expiry ON consent_state(expires_at) WHERE expires_at IS NOT NULL;

        CREATE TABLE idempotency_keys (
            key          TEXT PRIMARY KEY,
            subject_id   INTEGER NOT NULL REFERENCES subjects(id),
            request_hash TEXT NOT NULL,
            consent_id   TEXT NOT NULL
        ) STRICT;
        CREATE INDEX idempotency_subject ON idempotency_keys(subject_id);

        -- Enrollment tickets: only a hash of the ticket is stored (it is a bearer token).
        CREATE TABLE tickets (
            ticket_hash TEXT PRIMARY KEY,
            subject_id  INTEGER NOT NULL REFERENCES subjects(id),
            decision_id TEXT NOT NULL,
            country     TEXT NOT NULL,
            region      TEXT,
            issued_at   INTEGER NOT NULL,
            expires_at  INTEGER NOT NULL,
            consumed_at INTEGER
        ) STRICT;
        CREATE INDEX tickets_subject ON tickets(subject_id);

        CREATE TABLE facial_ids (
            id                    INTEGER PRIMARY KEY,
            facial_id             TEXT UNIQUE,
            fid_hash              TEXT NOT NULL UNIQUE,
            subject_id            INTEGER NOT NULL REFERENCES subjects(id),
            status                TEXT NOT NULL CHECK (status IN ('active', 'deleting', 'deleted')),
            enrolled_at           INTEGER NOT NULL,
            last_authenticated_at INTEGER,
            retain_until          INTEGER NOT NULL,
            retain_rule           TEXT NOT NULL,
            country               TEXT NOT NULL,
            region                TEXT,
            deleted_at            INTEGER
        ) STRICT;
        CREATE INDEX facial_ids_subject ON facial_ids(subject_id);
        CREATE INDEX facial_ids_retention ON facial_ids(retain_until) WHERE status = 'active';

        -- The deletion outbox: written in the same transaction as the tombstone above, drained by
        -- the FACEIO worker. `facial_id` is the raw id the REST call needs, cleared once done.
        CREATE TABLE deletion_jobs (
            id              INTEGER PRIMARY KEY,
            facial_row      INTEGER NOT NULL UNIQUE REFERENCES facial_ids(id),
            facial_id       TEXT,
            status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
            reason          TEXT NOT NULL,
            requested_at    INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            last_error      TEXT,
            completed_at    INTEGER
        ) STRICT;
        CREATE INDEX deletion_jobs_due ON deletion_jobs(next_attempt_at) WHERE status = 'pending';

        -- Hash-chained audit log: hash = SHA-256(prev_hash | seq | at | action | subject_ref | caller | details).
        CREATE TABLE audit_log (
            seq         INTEGER PRIMARY KEY,
            at          INTEGER NOT NULL,
            action      TEXT NOT NULL,
            subject_ref TEXT,
            caller      TEXT NOT NULL,
            details     TEXT NOT NULL,
            prev_hash   TEXT NOT NULL,
            hash        TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_subject ON audit_log(subject_ref, seq);
        """

    static let v2 = """
        -- FACEIO webhook deliveries already handled (FACEIO documents no delivery guarantee: dedupe).
        CREATE TABLE webhook_events (
            body_hash   TEXT PRIMARY KEY,
            event       TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            action      TEXT NOT NULL
        ) STRICT;

        -- Enrollments FACEIO reported that no enrollment ticket covers (auto-enrollment, consent bypass).
        CREATE TABLE unauthorized_enrollments (
            id          INTEGER PRIMARY KEY,
            fid_hash    TEXT NOT NULL UNIQUE,
            facial_row  INTEGER REFERENCES facial_ids(id),
            received_at INTEGER NOT NULL,
            action      TEXT NOT NULL
        ) STRICT;
        """

    static let v3 = """
        -- Which Facial ID consumed a ticket, so a replayed (spent) ticket cannot vouch for another
        -- enrollment reported by a webhook.
        ALTER TABLE tickets ADD COLUMN facial_hash TEXT;
        """

    static let v4 = """
        -- Subjects are looked up by pseudonym only once they have no name: erased subjects (so
        -- that `subject.erase` is idempotent) and the placeholder owning Facial IDs nobody enrolled
        -- here. Indexing only those rows keeps a random-position index insert out of every new
        -- subject's write: about a quarter of the bytes `consent.record` wrote to disk. Queries
        -- must say `subject IS NULL` for SQLite to use this partial index.
        DROP INDEX subjects_pseudonym;
        CREATE INDEX subjects_unnamed_pseudonym ON subjects(pseudonym) WHERE subject IS NULL;
        """

    static let v5 = """
        -- An `enroll` webhook without a ticket in its payload (FACEIO sends the payload on higher
        -- plans only) may be a legitimate enrollment whose `enroll.complete` has not arrived yet.
        -- While a ticket is open it is held, not flagged: `decide_after` is when the last ticket
        -- open at its arrival expires, `facial_id` the raw id a deletion would need, and
        -- `ticket_hash` the payload's ticket when it had one. `enroll.complete` releases a held
        -- row; past `decide_after` it is decided (flagged, or deleted as never completed), and
        -- `decide_after` and `facial_id` are cleared.
        ALTER TABLE unauthorized_enrollments ADD COLUMN facial_id TEXT;
        ALTER TABLE unauthorized_enrollments ADD COLUMN ticket_hash TEXT;
        ALTER TABLE unauthorized_enrollments ADD COLUMN decide_after INTEGER;
        CREATE INDEX unauthorized_enrollments_held ON unauthorized_enrollments(decide_after) WHERE decide_after IS NOT NULL;

        -- Open tickets by expiry (what a held enrollment waits for) and spent ones to purge.
        CREATE INDEX tickets_expiry ON tickets(expires_at);
        """

    static let v6 = """
        -- Audit entries are found by subject through the subject's row id where the entry names
        -- it, not through the pseudonym. Pseudonyms are keyed hashes, so every entry used to insert
        -- into a random page of `audit_subject`: one more page of WAL and checkpoint per durable
        -- write. Row ids grow with each new subject, so a new subject's entries land on the
        -- rightmost page. Entries without a row id (older ones, and those for subjects without a
        -- row, such as a denied first consent) stay indexed by pseudonym. `subject_id`, when set,
        -- is a row whose pseudonym is the entry's `subject_ref` (`audit.verify` checks it); it is
        -- not covered by the entry's hash, which is unchanged.
        ALTER TABLE audit_log ADD COLUMN subject_id INTEGER;
        DROP INDEX audit_subject;
        CREATE INDEX audit_subject_id ON audit_log(subject_id, seq) WHERE subject_id IS NOT NULL;
        CREATE INDEX audit_unlinked_subject ON audit_log(subject_ref, seq) WHERE subject_id IS NULL AND subject_ref IS NOT NULL;
        """

    static let v7 = """
        -- SQLite checks `x IN ('a', 'b', 'c')` (three values or more) by building a temporary
        -- B-tree of the values on every row written: about 26,000 instructions of a
        -- `consent.record`'s 760,000. The same constraints, written as comparisons, cost a few.
        -- SQLite cannot change a CHECK in place, so both tables are rebuilt (nothing references
        -- either, so the foreign keys stay on). `facial_ids`, which `deletion_jobs` and
        -- `unauthorized_enrollments` reference, keeps its IN list: dropping it would break them.
        CREATE TABLE consent_events_v7 (
            id          INTEGER PRIMARY KEY,
            subject_id  INTEGER NOT NULL REFERENCES subjects(id),
            consent_id  TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind = 'granted' OR kind = 'revoked' OR kind = 'expired'),
            purposes    TEXT NOT NULL,
            at          INTEGER NOT NULL,
            details     TEXT NOT NULL
        ) STRICT;
        INSERT INTO consent_events_v7 (id, subject_id, consent_id, kind, purposes, at, details)
            SELECT id, subject_id, consent_id, kind, purposes, at, details FROM consent_events ORDER BY id;
        DROP TABLE consent_events;
        ALTER TABLE consent_events_v7 RENAME TO consent_events;
        CREATE INDEX consent_events_subject ON consent_events(subject_id, id);
        CREATE UNIQUE INDEX consent_events_grant ON consent_events(consent_id) WHERE kind = 'granted';
        CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
            BEGIN SELECT RAISE(ABORT, 'consent history is append-only'); END;
        CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
            BEGIN SELECT RAISE(ABORT, 'consent history is append-only'); END;

        CREATE TABLE deletion_jobs_v7 (
            id              INTEGER PRIMARY KEY,
            facial_row      INTEGER NOT NULL UNIQUE REFERENCES facial_ids(id),
            facial_id       TEXT,
            status          TEXT NOT NULL CHECK (status = 'pending' OR status = 'done' OR status = 'failed'),
            reason          TEXT NOT NULL,
            requested_at    INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0,
            last_error      TEXT,
            completed_at    INTEGER
        ) STRICT;
        INSERT INTO deletion_jobs_v7 (
            id, facial_row, facial_id, status, reason, requested_at, next_attempt_at, attempts, last_error, completed_at)
            SELECT id, facial_row, facial_id, status, reason, requested_at, next_attempt_at, attempts, last_error, completed_at
            FROM deletion_jobs ORDER BY id;
        DROP TABLE deletion_jobs;
        ALTER TABLE deletion_jobs_v7 RENAME TO deletion_jobs;
        CREATE INDEX deletion_jobs_due ON deletion_jobs(next_attempt_at) WHERE status = 'pending';
        """

    static let v8 = """
        -- `consent_personal` was keyed by `consent_id`, a TEXT PRIMARY KEY and so a second B-tree
        -- beside the table, and indexed by `subject_id` for erasure, a third. Each B-tree a
        -- `consent.record` inserts into is at least one more page of WAL per commit, and of
        -- checkpoint. Keyed by its grant event's row id, the table is the only B-tree: a consent id
        -- finds its row through `consent_events_grant`, erasure finds a subject's rows through
        -- `consent_events_subject`. `grant_event` has no REFERENCES clause: it would make
        -- `consent_events` a parent table, which a later migration could not rebuild (migrations
        -- run with foreign keys on); `setPersonalConsentData` inserts only under a grant event.
        -- A row without a grant event of its consent and subject (none can be written, but a
        -- hand-edited file may hold one) stops the migration rather than being dropped or erased
        -- with the wrong subject. The old rows are deleted before the table is dropped: with
        -- `secure_delete` a DROP first saves each page it zeroes in a statement journal, which can
        -- spill to a temporary file that erasure would never reach.
        CREATE TABLE consent_personal_v8 (
            grant_event INTEGER PRIMARY KEY,
            data        TEXT NOT NULL
        ) STRICT;
        CREATE TEMP TABLE consent_personal_v8_check (
            orphans INTEGER CONSTRAINT every_consent_personal_row_has_a_grant_event CHECK (orphans = 0)
        );
        INSERT INTO temp.consent_personal_v8_check
            SELECT count(*) FROM consent_personal p
            WHERE NOT EXISTS (
                SELECT 1 FROM consent_events e
                WHERE e.consent_id = p.consent_id AND e.kind = 'granted' AND e.subject_id = p.subject_id);
        DROP TABLE temp.consent_personal_v8_check;
        INSERT INTO consent_personal_v8 (grant_event, data)
            SELECT e.id, p.data FROM consent_personal p
            JOIN consent_events e ON e.consent_id = p.consent_id AND e.kind = 'granted'
            ORDER BY e.id;
        DELETE FROM consent_personal;
        DROP TABLE consent_personal;
        ALTER TABLE consent_personal_v8 RENAME TO consent_personal;
        """
}
