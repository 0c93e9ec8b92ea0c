-- Working-day calendar: yearly official data and local settings such as working hours.
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY,
    year INTEGER NOT NULL REFERENCES calendar_years(year),
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX calendar_days_year ON calendar_days(year);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
