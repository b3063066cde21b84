-- Migration 2: a profile's personal calibration, as in the SQLite store's second.
CREATE TABLE calibrations (
    profile  TEXT PRIMARY KEY,
    offsets  TEXT NOT NULL,
    at       BIGINT NOT NULL
);
