"""Bulk upsert of API records into the raw tables.

The path is: validate each record in Python (so one bad record is rejected with a reason instead
of failing a whole statement), COPY the valid ones into a temporary table, then one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE` that derives the typed columns in SQL. The update
only happens when the incoming version is not older than the stored one and actually differs,
so replays (resumed syncs, `includeRecentChanges` repeats, full refreshes) write nothing and an
older version never overwrites a newer one.

Validation has two speeds. The fast path (`batch.prepare_batch`, `fast_path`) accepts a record
when every typed value already has its JSON type (a number, a boolean, a timestamp of the usual
shape) and leaves what the SQL casts check exactly as well as Python would (the 64-bit range of
integers) to PostgreSQL; any record that is not plainly valid goes through the full per-record
checks (`checks`). If the set-based statement still fails with a data error, it is rolled back to
a savepoint and the page is loaded again after the full checks of every record, which reject the
culprit with a reason naming its field. The fast path is pure Python without a connection, so
the sync engine runs it on its fetch thread while the previous page is in PostgreSQL.

An initial load may skip the stage table: `direct_copy` COPYs a plainly valid page straight into
the target table, its typed columns written from Python by `direct_fields`.

The modules, in the order a page meets them: `values` (what a typed value may be), `fast_path`
and `checks` (is a record loadable), `batch` (a page turned into COPY lines), `direct_fields`,
`direct_copy` and `staged_upsert` (the two ways into the table), `rejects` and `seen_ids` (what
is recorded besides), and `load` (`load_records`, the entry that ties them together). The caller
owns the transaction: the sync engine stores its continuation token in the same one.
"""
