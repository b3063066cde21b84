-- Migration 4: what played for each profile, newest kept (see store::plays).
-- The song's title, artist and Spotify id are copied: the history outlives
-- a library song removed or a catalog re-imported.
CREATE TABLE plays (
    id          INTEGER PRIMARY KEY,
    profile     TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    song_id     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    artist      TEXT NOT NULL,
    spotify_id  TEXT,
    mood        TEXT,
    reason      TEXT NOT NULL
);
CREATE INDEX plays_by_profile ON plays(profile, at_ms, id);
