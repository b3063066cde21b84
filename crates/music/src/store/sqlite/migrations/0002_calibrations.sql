-- Migration 2: a profile's personal calibration (JSON offsets by emotion name).
CREATE TABLE calibrations (
    profile  TEXT PRIMARY KEY,
    offsets  TEXT NOT NULL,
    at       INTEGER NOT NULL
);
