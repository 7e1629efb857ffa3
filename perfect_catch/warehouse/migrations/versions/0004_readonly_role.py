"""A SELECT-only role for the `query_database` tool.

`query_database` runs a model's SQL under this role (`SET LOCAL ROLE` inside a read-only
transaction that is always rolled back). The role can read the warehouse schemas and nothing
else: no writes, no sequences, no server files, and it cannot log in. Default privileges make
tables created later (dbt relations, new raw tables) readable too.

The role is cluster-wide while grants are per database, so the downgrade only drops the role
when no other database still grants it something.

Revision ID: 0004_readonly_role
Revises: 0003_integrations
"""

from __future__ import annotations

from alembic import op

revision = "0004_readonly_role"
down_revision = "0003_integrations"
branch_labels = None
depends_on = None

ROLE = "perfect_catch_readonly"
SCHEMAS = ("public", "servicetitan", "pricebook", "integrations", "automation")


def upgrade() -> None:
    op.execute(
        f"""
        do $$
        begin
            if not exists (select 1 from pg_roles where rolname = '{ROLE}') then
                create role {ROLE} nologin noinherit;
            end if;
        exception when duplicate_object then
            null;
        end
        $$
        """
    )
    op.execute(
        f"""
        do $$
        begin
            if not pg_has_role(current_user, '{ROLE}', 'member') then
                execute format('grant {ROLE} to %I', current_user);
            end if;
        end
        $$
        """
    )
    for schema in SCHEMAS:
        op.execute(f"grant usage on schema {schema} to {ROLE}")
        op.execute(f"grant select on all tables in schema {schema} to {ROLE}")
        op.execute(f"alter default privileges in schema {schema} grant select on tables to {ROLE}")
    op.execute(f"alter default privileges grant usage on schemas to {ROLE}")
    op.execute(f"alter default privileges grant select on tables to {ROLE}")
    op.execute(
        f"comment on role {ROLE} is 'SELECT-only role of the query_database tool (no login).'"
    )


def downgrade() -> None:
    op.execute(f"alter default privileges revoke select on tables from {ROLE}")
    op.execute(f"alter default privileges revoke usage on schemas from {ROLE}")
    for schema in SCHEMAS:
        op.execute(
            f"alter default privileges in schema {schema} revoke select on tables from {ROLE}"
        )
        op.execute(f"revoke select on all tables in schema {schema} from {ROLE}")
        op.execute(f"revoke usage on schema {schema} from {ROLE}")
    op.execute(
        f"""
        do $$
        begin
            drop role {ROLE};
        exception when dependent_objects_still_exist then
            raise notice 'role {ROLE} is still used by another database; kept';
        end
        $$
        """
    )
