-- Run by PsqlTransparencyTest twice, straight against PostgreSQL and through Warden, with
-- psql -X -v ON_ERROR_STOP=1 in a fresh working directory holding blob.bin. Both outputs must be
-- the same once port, timings and server-assigned large-object OIDs are normalised.
CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, amount numeric(10,2), created date);
COMMENT ON TABLE t IS 'transparency';
COMMENT ON COLUMN t.name IS 'who';
CREATE INDEX t_name ON t (name);
INSERT INTO t VALUES (1, 'alice', 10.5, '2024-01-02'), (2, 'bob', NULL, '2024-03-04');
\dt
\d+ t
\l :DBNAME
\conninfo
\timing on
SELECT count(*) AS rows_in_t FROM t;
\timing off
SELECT max(id) AS maxid, 'tagged' AS tag FROM t \gset
\echo maxid is :maxid and tag is :tag
SELECT format('INSERT INTO t VALUES (%s, %L, %s, NULL)', g, 'generated ' || g, g * 1.25)
  FROM generate_series(3, 5) g \gexec
UPDATE t SET amount = amount + 1 WHERE amount IS NOT NULL;
\copy t to 't.csv' with (format csv, header)
CREATE TABLE t2 (LIKE t INCLUDING ALL);
\copy t2 from 't.csv' with (format csv, header)
SELECT * FROM t2 ORDER BY id;
\x on
SELECT * FROM t2 WHERE id = 1;
\x off
BEGIN;
DELETE FROM t2 WHERE id > 3;
SAVEPOINT s1;
UPDATE t2 SET name = 'changed';
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT id, name FROM t2 ORDER BY id;
\lo_import 'blob.bin'
\set blob :LASTOID
SELECT length(lo_get(:blob)) AS blob_length, md5(lo_get(:blob)) AS blob_md5;
\lo_export :blob 'blob-out.bin'
\lo_unlink :blob
LISTEN transparency;
NOTIFY transparency, 'hello from psql';
DROP TABLE IF EXISTS no_such_table;
DO $$ BEGIN RAISE NOTICE 'a notice with %', 'a value'; END $$;
PREPARE q(int) AS SELECT name FROM t WHERE id = $1;
EXECUTE q(2);
DEALLOCATE q;
DROP TABLE t, t2;
\set VERBOSITY verbose
SELECT 1 / 0 AS never;
\echo not reached: ON_ERROR_STOP ends the script with status 3
