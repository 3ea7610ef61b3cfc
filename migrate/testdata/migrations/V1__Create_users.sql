-- The first migration: the users table.
CREATE TABLE users (
    id   serial PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO users (name) VALUES ('ada'), ('grace');
