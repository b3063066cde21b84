-- Migration 3: the listener's own music, heard from its audio.
-- Folders the listener added; every library file lies under one of them.
CREATE TABLE library_roots (
    id     INTEGER PRIMARY KEY,
    -- the folder, absolute and with symlinks resolved
    path   TEXT NOT NULL UNIQUE,
    added  INTEGER NOT NULL
);
-- One heard file per library song (songs.origin = 'library'); the song row
-- carries its title, artist and its point (valence, energy in [0, 1]).
CREATE TABLE library_files (
    song_id         INTEGER PRIMARY KEY REFERENCES songs(id) ON DELETE CASCADE,
    root_id         INTEGER NOT NULL REFERENCES library_roots(id) ON DELETE CASCADE,
    -- absolute, symlinks resolved, under the root
    path            TEXT NOT NULL UNIQUE,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    -- SHA-256 of the file's bytes, hex: a moved file is known by it
    hash            TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    duration_s      REAL NOT NULL,
    tempo_bpm       REAL,
    loudness_lufs   REAL,
    -- the estimate in [-1, 1] and its quadrant ('Q1'..'Q4')
    valence         REAL NOT NULL,
    arousal         REAL NOT NULL,
    quadrant        TEXT NOT NULL,
    cover_type      TEXT,
    -- every measure, as melodora-audio's Features in JSON
    features        TEXT NOT NULL,
    scanned_at      INTEGER NOT NULL
);
CREATE INDEX library_files_by_hash ON library_files(hash);
CREATE INDEX library_files_by_root ON library_files(root_id);
-- Files a scan could not hear, with why; retried only once they change.
CREATE TABLE library_skipped (
    path      TEXT PRIMARY KEY,
    root_id   INTEGER NOT NULL REFERENCES library_roots(id) ON DELETE CASCADE,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL,
    reason    TEXT NOT NULL
) WITHOUT ROWID;
