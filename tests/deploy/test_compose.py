"""docker/compose.yaml and docker/Dockerfile, checked without a container runtime: the compose
file against the Compose Specification's JSON schema, and every command, path and variable it
uses against what the image and the project hold."""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from deploy_files import DOCKER, ROOT, compose, dockerfile, image_env, image_files, long_running
from typer.testing import CliRunner

from perfect_catch.cli import app
from perfect_catch.settings import SECTIONS, Settings

BIN = Path(sys.executable).parent


def _schema() -> dict:
    files = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    return json.loads((files / "compose-spec.json").read_text())


def test_compose_file_follows_the_compose_specification() -> None:
    errors = sorted(
        jsonschema.Draft7Validator(_schema()).iter_errors(compose()), key=lambda e: e.json_path
    )
    assert not errors, [f"{e.json_path}: {e.message}" for e in errors]


def _commands() -> dict[str, list[str]]:
    return {name: s["command"] for name, s in compose()["services"].items() if "command" in s}


def test_the_stack_has_every_service_of_the_contract() -> None:
    services = compose()["services"]
    commands = {name: " ".join(cmd) for name, cmd in _commands().items()}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert any(v.startswith("pgdata:") for v in services["postgres"]["volumes"])
    assert "pgdata" in compose()["volumes"]
    assert "dagster code-server start" in commands["code"]
    assert commands["webserver"].startswith("dagster-webserver")
    assert commands["daemon"].startswith("dagster-daemon run")
    assert commands["webhooks"].startswith("perfect-catch serve-webhooks")
    assert commands["mcp"].startswith("perfect-catch mcp --http")
    assert commands["migrate"] == "perfect-catch instance setup"
    # The webserver and the daemon load the code from the code server, not by importing it.
    for name in ("webserver", "daemon"):
        assert "-w" in services[name]["command"]
        assert services[name]["depends_on"]["code"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_every_long_running_service_has_a_healthcheck_and_a_restart_policy() -> None:
    services = compose()["services"]
    running = long_running(services)
    assert set(running) == {"postgres", "code", "webserver", "daemon", "webhooks", "mcp"}
    for name, service in running.items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert service["restart"] in ("always", "unless-stopped", "on-failure"), name
    assert services["migrate"]["restart"] == "no"


def _cli_accepts(argv: list[str]) -> None:
    """`perfect-catch ARGV --help` resolves the subcommand and lists every option used."""
    words = [w for w in argv if not w.startswith("-")]
    options = [w for w in argv if w.startswith("--")]
    # Option values are words too; walk the command names until --help stops resolving.
    path: list[str] = []
    for word in words:
        result = CliRunner().invoke(app, [*path, word, "--help"])
        if result.exit_code != 0:
            break
        path.append(word)
    help_text = CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output
    assert path, f"perfect-catch {argv}: no such command"
    for option in options:
        assert option in help_text, f"perfect-catch {' '.join(path)} has no {option}"


@functools.cache
def _help(argv: tuple[str, ...]) -> str | None:
    """`argv --help`, or None when that is not a command."""
    result = subprocess.run([*argv, "--help"], capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def _dagster_accepts(argv: list[str]) -> None:
    executable = BIN / argv[0]
    assert executable.exists(), f"{argv[0]} is not installed with the project"
    path: tuple[str, ...] = (str(executable),)
    help_text = _help(path) or ""
    for word in argv[1:]:
        # A subcommand (listed or hidden, like `dagster api`) has a help of its own; an argument
        # of a command just repeats the command's.
        sub = _help((*path, word)) if not word.startswith("-") else None
        if sub is None or sub == help_text:
            break
        path, help_text = (*path, word), sub
    for option in (w for w in argv[1:] if w.startswith("-")):
        assert re.search(rf"(^|[\s,]){re.escape(option)}\b", help_text), (
            f"{' '.join([argv[0], *path[1:]])} has no {option}"
        )


def _every_command() -> list[list[str]]:
    commands = list(_commands().values())
    for service in compose()["services"].values():
        test = service.get("healthcheck", {}).get("test")
        if test and test[0] == "CMD":
            commands.append(test[1:])
    return commands


@pytest.mark.timeout(900)  # a few `dagster ... --help` processes, seconds each on a busy machine
def test_every_command_exists_in_the_image_with_its_options() -> None:
    for argv in _every_command():
        if argv[0] == "perfect-catch":
            _cli_accepts(argv[1:])
        elif argv[0] in ("dagster", "dagster-webserver", "dagster-daemon"):
            _dagster_accepts(argv)
        elif argv[0] == "python":
            compile(argv[2], "<healthcheck>", "exec")  # a probe that is valid Python
        elif argv[0] == "postgres":
            continue  # the postgres image's own server
        else:
            pytest.fail(f"unknown executable in compose: {argv[0]}")


def test_every_path_the_compose_file_names_is_in_the_image() -> None:
    files = image_files()
    for argv in _commands().values():
        for word in argv:
            if word.startswith("/opt/"):
                assert word in files, f"{word} is not copied into the image"
                assert files[word].exists(), f"{files[word]} does not exist in the repository"
    # The instance config is where DAGSTER_HOME points.
    assert f"{image_env()['DAGSTER_HOME']}/dagster.yaml" in files
    # The workspace file points at the code service on the port it serves.
    workspace = (DOCKER / "workspace.yaml").read_text()
    code = " ".join(_commands()["code"])
    assert "host: code" in workspace and "-p 4000" in code and "port: 4000" in workspace


def test_every_variable_the_compose_file_sets_is_read_by_the_code_or_dagster() -> None:
    settings = {name.upper() for name in Settings.model_fields} | {
        name.upper() for section in SECTIONS.values() for name in section.model_fields
    }
    dagster_yaml = (DOCKER / "dagster.yaml").read_text()
    for name, service in compose()["services"].items():
        if name == "postgres":
            continue
        for variable in service.get("environment") or {}:
            assert variable in settings or variable in dagster_yaml, (
                f"{name} sets {variable}, which nothing reads"
            )
    # Every ${VAR} the file interpolates is documented for the operator's .env.
    env_example = (ROOT / ".env.example").read_text()
    for variable in set(re.findall(r"\$\{([A-Z_]+)", (DOCKER / "compose.yaml").read_text())):
        if variable == "PERFECT_CATCH_TAG":
            continue
        assert re.search(rf"^{variable}=", env_example, re.M), f"{variable} not in .env.example"


def test_the_image_is_multi_stage_non_root_not_editable_with_a_healthcheck() -> None:
    text = dockerfile()
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, re.M)
    assert len(stages) >= 2
    last = text.split("\nFROM ")[-1]
    user = re.findall(r"^USER (\S+)", last, re.M)
    assert user and user[-1] not in ("root", "0")
    for line in re.findall(r"^RUN .+$", text, re.M):
        assert not re.search(r"pip install[^\n]*(\s-e\s|--editable)", line), line
    assert re.search(r"^HEALTHCHECK .+?CMD", text, re.M | re.S)
    assert "dbt parse" in text
    # The build copies nothing that is not in the repository.
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+) \S+$", text, re.M):
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    # The dbt project is where the code looks for it (DBT_PROJECT_DIR) and the workflows ship
    # inside the package (package data), so the image needs no source tree.
    assert image_env()["DBT_PROJECT_DIR"] in image_files()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"**/*.yaml"' in pyproject


def test_healthchecks_name_the_ports_their_services_listen_on() -> None:
    for name, service in compose()["services"].items():
        argv = service.get("command") or []
        test = service.get("healthcheck", {}).get("test") or []
        ports = [argv[i + 1] for i, w in enumerate(argv) if w in ("-p", "--port")]
        if ports and test:
            assert ports[0] in shlex.join(test), f"{name} checks another port than it serves"
