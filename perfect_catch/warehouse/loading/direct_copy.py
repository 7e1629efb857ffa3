"""The direct path of an initial load: COPY a plainly valid page straight into the target table,
its typed columns already written from Python (`direct_fields`), with no stage table and no
upsert statement. Inside a savepoint, so a page PostgreSQL refuses (a row already there, a value
it would not take) leaves nothing behind and can take the upsert path instead."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import cache

import psycopg

from perfect_catch.warehouse.catalog import EntitySpec
from perfect_catch.warehouse.loading.batch import PreparedBatch
from perfect_catch.warehouse.loading.savepoint import BEGIN, SAVEPOINT, roll_back

#: Bytes of COPY data the kernel may hold for PostgreSQL on a Unix-socket connection: a whole
#: page of rows (3-5 MB), asked for, capped by the kernel at `net.core.wmem_max`.
COPY_SEND_BUFFER = 8 * 1024 * 1024


def widen_copy_buffer(conn: psycopg.Connection) -> int:
    """Let the kernel hold a page of COPY data on `conn`'s socket; returns its send buffer size.

    libpq hands COPY data to the socket and the loading thread waits until it is written. The
    default buffer of a Unix socket (`net.core.wmem_default`, 208 KiB) holds about 300 rows, so
    PostgreSQL ran dry whenever that thread waited for the GIL (another thread decoding a page
    holds it for tens of milliseconds). Only Unix sockets are widened: on TCP a fixed size would
    switch off the kernel's own tuning of the buffer, which grows it as needed.
    """
    with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
        size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        if sock.family == socket.AF_UNIX and size < COPY_SEND_BUFFER:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, COPY_SEND_BUFFER)
            size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    return size


@cache
def _direct_copy_sql(spec: EntitySpec) -> str:
    names = ", ".join(
        ["tenant_id", "id", *(c.name for c in spec.columns), "raw", "modified_on", "synced_at"]
    )
    return f"copy {spec.qualified} ({names}) from stdin"


def copy_direct(
    conn: psycopg.Connection,
    spec: EntitySpec,
    tenant_id: int,
    batch: PreparedBatch,
    while_copying: Callable[[], None] | None,
) -> bool:
    """COPY the batch's direct rows into the target table in a savepoint; False (and nothing
    written) if PostgreSQL refused them, a row already there or a value it would not take."""
    assert batch.direct is not None
    cur = conn.execute(f"{BEGIN}; select now()::text")
    while cur.description is None and cur.nextset():
        pass
    row = cur.fetchone()
    assert row is not None
    # synced_at is the transaction's start, as now() gives the upsert.
    end = b"\t%s\n" % row[0].encode()
    try:
        with conn.cursor() as copy_cursor, copy_cursor.copy(_direct_copy_sql(spec)) as copy:
            copy.write(b"%d" % tenant_id)
            copy.write((end + b"%d" % tenant_id).join(batch.direct))
            copy.write(end)
            if while_copying is not None:
                while_copying()
    except (psycopg.IntegrityError, psycopg.DataError):
        conn.execute(f"rollback to savepoint {SAVEPOINT}; release savepoint {SAVEPOINT}")
        return False
    except BaseException:
        roll_back(conn)
        raise
    conn.execute(f"release savepoint {SAVEPOINT}")
    return True
