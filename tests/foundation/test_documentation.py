"""Every setting is documented where a newcomer looks: the README and `.env.example`."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfect_catch.integrations.config import IntegrationSettings
from perfect_catch.messaging.config import MessagingSettings
from perfect_catch.settings import Settings
from perfect_catch.workflows.config import WorkflowSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()
    names = [
        *Settings.model_fields,
        *IntegrationSettings.model_fields,
        *WorkflowSettings.model_fields,
        *MessagingSettings.model_fields,
    ]
    missing = [name.upper() for name in names if name.upper() not in text]
    assert not missing, f"{document} does not mention {missing}"


def test_readme_quick_start_is_the_two_make_commands() -> None:
    text = (ROOT / "README.md").read_text()
    quick_start = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines()]
    assert [c for c in commands if c.startswith("make")] == ["make demo", "make test"]
