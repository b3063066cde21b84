-- Migration 4: what played for each profile, as in the SQLite store's fourth.
CREATE TABLE plays (
    id          BIGSERIAL PRIMARY KEY,
    profile     TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    song_id     BIGINT NOT NULL,
    title       TEXT NOT NULL,
    artist      TEXT NOT NULL,
    spotify_id  TEXT,
    mood        TEXT,
    reason      TEXT NOT NULL
);
CREATE INDEX plays_by_profile ON plays(profile, at_ms, id);
