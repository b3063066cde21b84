-- Migration 1: songs, their emotion lists, imports, feedback, sessions.
CREATE TABLE songs (
    id          INTEGER PRIMARY KEY,
    -- normalised "artist \x1f title": one row per song, however often imported
    key         TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    album       TEXT NOT NULL,
    artist      TEXT NOT NULL,
    spotify_id  TEXT UNIQUE,
    link        TEXT,
    valence     REAL,
    energy      REAL,
    tempo       REAL,
    popularity  INTEGER,
    -- 'default' (embedded catalog) or 'user'
    origin      TEXT NOT NULL
);
-- A song's place in an emotion's list (the original's per-emotion files).
CREATE TABLE filings (
    song_id    INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
    emotion    TEXT NOT NULL,
    rank       INTEGER NOT NULL,
    import_id  INTEGER NOT NULL,
    PRIMARY KEY (song_id, emotion)
) WITHOUT ROWID;
CREATE INDEX filings_by_emotion ON filings(emotion, rank);
CREATE TABLE imports (
    id        INTEGER PRIMARY KEY,
    source    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    accepted  INTEGER NOT NULL,
    rejected  INTEGER NOT NULL
);
-- Latest verdict of a profile on a song: 1 like, -1 skip.
CREATE TABLE feedback (
    profile  TEXT NOT NULL,
    song_id  INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
    verdict  INTEGER NOT NULL CHECK (verdict IN (-1, 1)),
    at       INTEGER NOT NULL,
    PRIMARY KEY (profile, song_id)
) WITHOUT ROWID;
-- Songs a named session has been shown (no repeats until the pool is used up).
CREATE TABLE session_seen (
    session  TEXT NOT NULL,
    song_id  INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
    PRIMARY KEY (session, song_id)
) WITHOUT ROWID;
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
