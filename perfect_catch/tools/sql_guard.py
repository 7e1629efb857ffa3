"""A tokenizer-based screen for `query_database`: one read-only SELECT, or a clear refusal.

This is not what keeps the warehouse safe (a SELECT-only role, a read-only transaction that is
always rolled back and a server-side cursor that accepts nothing but a query do that); it is what
turns an attempt into a message a model can act on, before the database sees it. Strings, quoted
identifiers and comments are skipped as PostgreSQL lexes them, so a `;` or a keyword inside a
literal is not mistaken for a second statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfect_catch.tools.errors import ToolInputError


class UnsafeQuery(ToolInputError):
    """The SQL is not a single read-only query; the message says what to change."""


@dataclass(frozen=True)
class Token:
    kind: str  # word, qident, string, number, param, op, semicolon, lparen, rparen, dot
    text: str
    position: int

    @property
    def word(self) -> str:
        """Lower-cased text of an unquoted word (SQL folds those), exact text of a quoted one."""
        return self.text.lower() if self.kind == "word" else self.text


_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER = re.compile(r"(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$")
_PARAM = re.compile(r"\$\d+")
_OPERATOR = re.compile(r"[+\-*/<>=~!@#%^&|`?:,\[\]]+")


def tokenize(sql: str) -> list[Token]:
    """Lex `sql` into tokens, dropping comments and whitespace. Unterminated literals or
    comments are refused, since the server would read them differently."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch in "eE" and i + 1 < n and sql[i + 1] == "'":
            end = _skip_string(sql, i + 1, backslashes=True)
            tokens.append(Token("string", sql[i:end], i))
            i = end
        elif ch in "uU" and sql.startswith("&'", i + 1):
            end = _skip_string(sql, i + 2, backslashes=False)
            tokens.append(Token("string", sql[i:end], i))
            i = end
        elif ch in "uU" and sql.startswith('&"', i + 1):
            end = _skip_quoted_ident(sql, i + 2)
            tokens.append(Token("qident", sql[i + 3 : end - 1], i))
            i = end
        elif ch in "bBxXnN" and i + 1 < n and sql[i + 1] == "'":
            end = _skip_string(sql, i + 1, backslashes=False)
            tokens.append(Token("string", sql[i:end], i))
            i = end
        elif ch == "'":
            end = _skip_string(sql, i, backslashes=False)
            tokens.append(Token("string", sql[i:end], i))
            i = end
        elif ch == '"':
            end = _skip_quoted_ident(sql, i)
            tokens.append(Token("qident", sql[i + 1 : end - 1].replace('""', '"'), i))
            i = end
        elif ch == "$":
            tag = _DOLLAR_TAG.match(sql, i)
            param = _PARAM.match(sql, i)
            if tag:
                close = sql.find(tag.group(), tag.end())
                if close < 0:
                    raise UnsafeQuery("unterminated dollar-quoted string")
                end = close + len(tag.group())
                tokens.append(Token("string", sql[i:end], i))
                i = end
            elif param:
                tokens.append(Token("param", param.group(), i))
                i = param.end()
            else:
                tokens.append(Token("op", ch, i))
                i += 1
        elif ch == ";":
            tokens.append(Token("semicolon", ch, i))
            i += 1
        elif ch == "(":
            tokens.append(Token("lparen", ch, i))
            i += 1
        elif ch == ")":
            tokens.append(Token("rparen", ch, i))
            i += 1
        elif ch == "." and not (i + 1 < n and sql[i + 1].isdigit()):
            tokens.append(Token("dot", ch, i))
            i += 1
        elif (number := _NUMBER.match(sql, i)) is not None and number.end() > i:
            tokens.append(Token("number", number.group(), i))
            i = number.end()
        elif (word := _WORD.match(sql, i)) is not None:
            tokens.append(Token("word", word.group(), i))
            i = word.end()
        elif (operator := _OPERATOR.match(sql, i)) is not None:
            tokens.append(Token("op", operator.group(), i))
            i = operator.end()
        else:
            raise UnsafeQuery(f"unexpected character {ch!r} at position {i}")
    return tokens


def _skip_block_comment(sql: str, start: int) -> int:
    depth, i = 0, start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise UnsafeQuery("unterminated /* comment")


def _skip_string(sql: str, quote: int, *, backslashes: bool) -> int:
    i = quote + 1
    while i < len(sql):
        ch = sql[i]
        if backslashes and ch == "\\":
            i += 2
            continue
        if ch == "'":
            if sql.startswith("''", i):
                i += 2
                continue
            return i + 1
        i += 1
    raise UnsafeQuery("unterminated string literal")


def _skip_quoted_ident(sql: str, quote: int) -> int:
    i = quote + 1
    while i < len(sql):
        if sql[i] == '"':
            if sql.startswith('""', i):
                i += 2
                continue
            return i + 1
        i += 1
    raise UnsafeQuery("unterminated quoted identifier")


#: Statements a model may try, with the reason each one is refused.
_STATEMENTS: dict[str, str] = {
    "insert": "INSERT writes data",
    "update": "UPDATE writes data",
    "delete": "DELETE removes data",
    "merge": "MERGE writes data",
    "upsert": "UPSERT writes data",
    "truncate": "TRUNCATE removes data",
    "drop": "DROP removes objects",
    "create": "CREATE changes the schema",
    "alter": "ALTER changes the schema",
    "comment": "COMMENT changes the schema",
    "grant": "GRANT changes privileges",
    "revoke": "REVOKE changes privileges",
    "copy": "COPY reads or writes files and tables",
    "set": "SET changes session or transaction settings (the transaction is read-only)",
    "reset": "RESET changes session settings",
    "begin": "transaction control is not allowed (each query runs in its own read-only "
    "transaction that is rolled back)",
    "start": "transaction control is not allowed",
    "commit": "transaction control is not allowed",
    "end": "transaction control is not allowed",
    "rollback": "transaction control is not allowed",
    "abort": "transaction control is not allowed",
    "savepoint": "transaction control is not allowed",
    "release": "transaction control is not allowed",
    "prepare": "PREPARE is not allowed",
    "execute": "EXECUTE runs another statement",
    "deallocate": "DEALLOCATE is not allowed",
    "call": "CALL runs a procedure that may write",
    "do": "DO runs procedural code",
    "lock": "LOCK takes table locks",
    "vacuum": "VACUUM is maintenance, not a query",
    "analyze": "ANALYZE is maintenance, not a query",
    "cluster": "CLUSTER rewrites a table",
    "reindex": "REINDEX rebuilds indexes",
    "refresh": "REFRESH MATERIALIZED VIEW writes data",
    "listen": "LISTEN is not allowed",
    "notify": "NOTIFY is not allowed",
    "unlisten": "UNLISTEN is not allowed",
    "load": "LOAD loads a shared library",
    "discard": "DISCARD changes the session",
    "security": "SECURITY LABEL changes the schema",
    "declare": "DECLARE is not allowed (send the query itself)",
    "fetch": "FETCH is not allowed (send the query itself)",
    "move": "MOVE is not allowed",
    "close": "CLOSE is not allowed",
    "checkpoint": "CHECKPOINT is not allowed",
    "explain": "EXPLAIN is not allowed (EXPLAIN ANALYZE runs the statement); send the SELECT",
    "import": "IMPORT FOREIGN SCHEMA changes the schema",
    "reassign": "REASSIGN OWNED changes ownership",
}

#: Keywords that make a SELECT write or lock, wherever they appear.
_WRITE_KEYWORDS: dict[str, str] = {
    "insert": "INSERT writes data",
    "update": "UPDATE writes data",
    "delete": "DELETE removes data",
    "merge": "MERGE writes data",
    "truncate": "TRUNCATE removes data",
    "copy": "COPY reads or writes files and tables",
    "into": "SELECT ... INTO creates a table",
    "commit": "transaction control is not allowed",
    "rollback": "transaction control is not allowed",
    "drop": "DROP removes objects",
    "create": "CREATE changes the schema",
    "alter": "ALTER changes the schema",
    "grant": "GRANT changes privileges",
}

#: Functions with side effects outside the query: files, sessions, locks, sequences, other
#: databases, server state, or SQL text executed on the side.
_FUNCTIONS: dict[str, str] = {
    "nextval": "nextval() advances a sequence",
    "setval": "setval() changes a sequence",
    "set_config": "set_config() changes settings",
    "txid_current": "txid_current() assigns a transaction id",
    "query_to_xml": "query_to_xml() runs SQL text",
    "query_to_xmlschema": "query_to_xmlschema() runs SQL text",
    "query_to_xml_and_xmlschema": "query_to_xml_and_xmlschema() runs SQL text",
    "cursor_to_xml": "cursor_to_xml() reads a cursor",
    "database_to_xml": "database_to_xml() dumps the whole database",
    "database_to_xmlschema": "database_to_xmlschema() dumps the whole database",
    "database_to_xml_and_xmlschema": "database_to_xml_and_xmlschema() dumps the whole database",
    "schema_to_xml": "schema_to_xml() dumps a whole schema",
    "schema_to_xml_and_xmlschema": "schema_to_xml_and_xmlschema() dumps a whole schema",
    "ts_stat": "ts_stat() runs SQL text",
    "dblink": "dblink() connects to another database",
    "binary_upgrade_set_next_pg_type_oid": "binary upgrade functions are not allowed",
}
_FUNCTION_PREFIXES: dict[str, str] = {
    "pg_sleep": "pg_sleep() only ties up the server",
    "pg_read": "server file access is not allowed",
    "pg_ls_": "server file access is not allowed",
    "pg_stat_file": "server file access is not allowed",
    "pg_file_": "server file access is not allowed",
    "lo_": "large-object functions read or write server files and objects",
    "loread": "large-object functions are not allowed",
    "lowrite": "large-object functions are not allowed",
    "dblink": "dblink connects to another database",
    "pg_advisory": "advisory locks outlive the query",
    "pg_try_advisory": "advisory locks outlive the query",
    "pg_terminate_backend": "pg_terminate_backend() kills other sessions",
    "pg_cancel_backend": "pg_cancel_backend() cancels other sessions",
    "pg_reload_conf": "server administration is not allowed",
    "pg_rotate_logfile": "server administration is not allowed",
    "pg_promote": "server administration is not allowed",
    "pg_switch_wal": "server administration is not allowed",
    "pg_wal_": "server administration is not allowed",
    "pg_backup_": "server administration is not allowed",
    "pg_create_": "server administration is not allowed",
    "pg_drop_replication": "server administration is not allowed",
    "pg_replication_": "server administration is not allowed",
    "pg_logical_": "replication functions are not allowed",
    "pg_copy_": "replication functions are not allowed",
    "pg_stat_reset": "resetting statistics is not allowed",
    "pg_stat_statements_reset": "resetting statistics is not allowed",
    "pg_notify": "pg_notify() sends notifications",
    "pg_current_xact_id": "pg_current_xact_id() assigns a transaction id",
    "pg_export_snapshot": "snapshot export is not allowed",
    "pg_import_": "snapshot import is not allowed",
    "pg_log_backend": "server administration is not allowed",
    "pg_log_standby": "server administration is not allowed",
    "pg_truncate_": "not allowed",
    "pg_visibility": "not allowed",
    "pg_prewarm": "pg_prewarm() loads tables into memory",
}

_LOCKING = "locking clauses (FOR UPDATE, FOR SHARE) take row locks; remove them"
_LOCK_STRENGTHS = frozenset({"update", "share", "no", "key"})
_FIRST_WORDS = frozenset({"select", "with", "values", "table"})


def check_query(sql: str) -> str:
    """Return `sql` without a trailing `;` if it is one read-only query, else raise
    `UnsafeQuery` with the reason."""
    tokens = tokenize(sql)
    if not tokens:
        raise UnsafeQuery("the query is empty; send one SELECT statement")
    while tokens and tokens[-1].kind == "semicolon":
        end = tokens.pop().position
        sql = sql[:end]
    if not tokens:
        raise UnsafeQuery("the query is empty; send one SELECT statement")
    if any(t.kind == "semicolon" for t in tokens):
        raise UnsafeQuery(
            "only one statement is allowed: remove the ';' between statements "
            "(stacked statements such as 'SELECT 1; DROP ...' are refused)"
        )
    first = next((t for t in tokens if t.kind != "lparen"), tokens[0])
    if first.kind != "word" or first.word not in _FIRST_WORDS:
        reason = _STATEMENTS.get(first.word, f"{first.text.upper()} is not a query")
        raise UnsafeQuery(
            f"only read-only SELECT queries are allowed: {reason}. "
            "Use the dedicated tools to change anything."
        )
    if any(t.kind == "param" for t in tokens):
        raise UnsafeQuery("positional parameters ($1) cannot be bound here; inline the values")
    is_cte = first.word == "with"
    for index, token in enumerate(tokens):
        if token.kind not in ("word", "qident"):
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        previous = tokens[index - 1] if index > 0 else None
        if following is not None and following.kind == "lparen":
            _check_function(token, tokens, index)
        if token.kind != "word" or (previous is not None and previous.kind == "dot"):
            continue
        word = token.word
        if word == "for" and following is not None and following.word in _LOCK_STRENGTHS:
            raise UnsafeQuery(_LOCKING)
        if word in _WRITE_KEYWORDS:
            reason = _WRITE_KEYWORDS[word]
            if is_cte and word in ("insert", "update", "delete", "merge"):
                raise UnsafeQuery(
                    f"writable CTEs are not allowed: {reason}. Only read-only SELECTs run here."
                )
            raise UnsafeQuery(f"only read-only SELECT queries are allowed: {reason}")
    return sql


def _check_function(token: Token, tokens: list[Token], index: int) -> None:
    """Refuse calls of side-effect functions, schema-qualified or quoted ones included (the
    name is compared case-insensitively: a quoted upper-case spelling names no built-in)."""
    name = token.word.lower()
    reason = _FUNCTIONS.get(name)
    if reason is None:
        reason = next(
            (why for prefix, why in _FUNCTION_PREFIXES.items() if name.startswith(prefix)), None
        )
    if reason is not None:
        raise UnsafeQuery(f"function {name}() is not allowed: {reason}")
