-- Run as a superuser on a server with wal_level=logical (psql -U postgres -f setup.sql).
CREATE DATABASE app;
CREATE DATABASE replica;
\connect app
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, opened date);
INSERT INTO accounts SELECT i, 'owner ' || i, i * 10.5, DATE '2026-01-01' + i FROM generate_series(1, 100) i;
