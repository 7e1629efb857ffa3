"""Every setting is documented where a newcomer looks: the README and `.env.example`."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfect_catch.settings import SECTIONS, Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()
    names = [
        *(name for name in Settings.model_fields if name not in SECTIONS),
        *(name for section in SECTIONS.values() for name in section.model_fields),
    ]
    missing = [name.upper() for name in names if name.upper() not in text]
    assert not missing, f"{document} does not mention {missing}"


def test_every_section_is_read_from_the_variables_of_its_fields() -> None:
    assert set(SECTIONS) == {"messaging", "workflows", "integrations", "suppliers", "monitoring"}
    assert set(SECTIONS) <= set(Settings.model_fields)
    names = [name for section in SECTIONS.values() for name in section.model_fields]
    assert len(names) == len(set(names)), "two sections share a variable name"
    assert not set(names) & set(Settings.model_fields), "a section field shadows a top-level one"


def test_no_machine_path_is_documented_as_a_default() -> None:
    for document in ("README.md", ".env.example"):
        text = (ROOT / document).read_text()
        assert str(ROOT) not in text, f"{document} names this checkout's folder"


def test_readme_quick_start_is_the_two_make_commands() -> None:
    text = (ROOT / "README.md").read_text()
    quick_start = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines()]
    assert [c for c in commands if c.startswith("make")] == ["make demo", "make test"]
