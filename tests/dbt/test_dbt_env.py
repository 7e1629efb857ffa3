"""The warehouse URL as dbt's profile variables."""

from __future__ import annotations

import os
import re

import yaml

from perfect_catch.settings import IntegrationSettings, load_settings
from perfect_catch.warehouse.dbt_env import PROJECT_DIR, applied, env_for_url, install_env


def test_embedded_server_socket_url_becomes_a_socket_directory_host() -> None:
    env = env_for_url("postgresql://postgres:@/postgres?host=/tmp/pc/socket")
    assert env == {
        "PC_DBT_HOST": "/tmp/pc/socket",
        "PC_DBT_PORT": "5432",
        "PC_DBT_USER": "postgres",
        "PC_DBT_PASSWORD": "",
        "PC_DBT_DBNAME": "postgres",
    }


def test_tcp_url_with_driver_and_password() -> None:
    env = env_for_url("postgresql+psycopg://pc:s3cr%40t@db.internal:6543/warehouse")
    assert env["PC_DBT_HOST"] == "db.internal"
    assert env["PC_DBT_PORT"] == "6543"
    assert env["PC_DBT_USER"] == "pc"
    assert env["PC_DBT_PASSWORD"] == "s3cr@t"
    assert env["PC_DBT_DBNAME"] == "warehouse"


def test_applied_restores_the_environment() -> None:
    os.environ.pop("PC_DBT_DBNAME", None)
    os.environ["PC_DBT_HOST"] = "before"
    with applied({"PC_DBT_HOST": "during", "PC_DBT_DBNAME": "x"}):
        assert os.environ["PC_DBT_HOST"] == "during"
    assert os.environ["PC_DBT_HOST"] == "before"
    assert "PC_DBT_DBNAME" not in os.environ
    del os.environ["PC_DBT_HOST"]


def test_cli_dbt_build_names_bad_vars(engine) -> None:
    from typer.testing import CliRunner

    from perfect_catch.cli import app

    result = CliRunner().invoke(app, ["dbt", "build", "--vars", "{not json"])
    assert result.exit_code == 2
    assert "--vars" in result.output


def test_dbt_install_fallbacks_are_the_settings_defaults() -> None:
    """The platform always passes INSTALL_JOB_TYPES and INSTALL_BUSINESS_UNITS (`install_env`);
    the fallbacks in dbt_project.yml serve only a bare `dbt build`, and must mean the same."""
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    fallbacks = {
        name: default
        for value in project["vars"].values()
        if isinstance(value, str)
        for name, default in re.findall(r"env_var\('(PC_INSTALL_\w+)', '([^']*)'\)", value)
    }
    defaults = IntegrationSettings()
    assert fallbacks == {
        "PC_INSTALL_JOB_TYPES": ",".join(defaults.install_job_types),
        "PC_INSTALL_BUSINESS_UNITS": ",".join(defaults.install_business_units),
    }
    assert set(fallbacks) == set(install_env(load_settings()))
