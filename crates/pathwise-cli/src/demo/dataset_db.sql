-- The statements of the demo's simulated databases (dataset_db.rs): what the search caches (a
-- local SQLite file) and the dataset database (PostgreSQL) would be sent, with the values
-- written into the text, as many applications do. `pathwise::db_query` normalises each back
-- to one statement (values as ?, IN lists as one ?), so the Queries page shows four rows.
--
-- Format: a `-- name: <name>` line, then the statement on one line; `{value}` marks a value the
-- demo writes in (text quoted, numbers as digits, lists comma-separated).

-- name: cache_lookup
SELECT payload, expires_at FROM search_cache WHERE source = {source} AND cache_key = {key} AND expires_at > {now}

-- name: cache_store
INSERT INTO search_cache (source, cache_key, payload, expires_at) VALUES ({source}, {key}, {payload}, {expires})

-- name: dataset_search
SELECT accession, title, score FROM datasets WHERE source = {source} AND search_text @@ plainto_tsquery('english', {query}) ORDER BY score DESC LIMIT {limit}

-- name: hit_counter
UPDATE datasets SET hits = hits + 1, last_hit = {now} WHERE accession IN ({accessions})
