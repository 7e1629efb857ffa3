"""PostgreSQL: the engine, the embedded server, migrations and the bulk loader."""
