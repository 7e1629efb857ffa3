"""The deployment files as data, for the tests of this folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def image_env() -> dict[str, str]:
    """The ENV of the image's last stage (where the services run)."""
    last = dockerfile().split("\nFROM ")[-1]
    env: dict[str, str] = {}
    for block in re.findall(r"^ENV (.+?)(?<!\\)$", last, flags=re.M | re.S):
        for name, value in re.findall(r"([A-Z_]+)=(\S+)", block.replace("\\\n", " ")):
            env[name] = value
    return env


def image_files() -> dict[str, Path]:
    """Paths in the image that COPY puts there from the repository: image path -> source."""
    files: dict[str, Path] = {}
    for source, target in re.findall(r"^COPY (?:--\S+ )*(\S+) (\S+)$", dockerfile(), re.M):
        if not source.startswith("/"):
            files[target] = ROOT / source
    return files


def long_running(services: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in services.items() if s.get("restart", "no") != "no"}
