"""Golden bad programs: each tests/golden/NAME.diag must fail with exactly NAME.err.

The expected text is what ``catnn check`` prints: ``FILE:LINE:COL: error: message``, the source
line and a caret. ``{KNOWN_GROUPS}`` in an .err file stands for the registered group names, which
grow as groups are added. After changing a message on purpose, regenerate with
``CATNN_REGEN_GOLDEN=1 python -m pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import catnn
from catnn.cli import main
from catnn.errors import CatnnError, CheckError, ParseError
from catnn.groups import REGISTRY

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.diag"))


def known_groups() -> str:
    return ", ".join(sorted({cls.name for cls in REGISTRY.values()}))


def error_text(path: Path) -> str:
    with pytest.raises(CatnnError) as info:
        catnn.compile(path.read_text(encoding="utf-8"), filename=path.name)
    assert isinstance(info.value, (ParseError, CheckError)), type(info.value)
    return str(info.value) + "\n"


def test_there_are_enough_golden_programs():
    assert len(CASES) >= 25
    assert all(case.with_suffix(".err").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path):
    actual = error_text(case)
    expected_file = case.with_suffix(".err")
    if os.environ.get("CATNN_REGEN_GOLDEN"):
        expected_file.write_text(actual.replace(known_groups(), "{KNOWN_GROUPS}"), encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8").replace("{KNOWN_GROUPS}", known_groups())
    assert actual == expected


def test_cli_prints_the_golden_text(capsys, monkeypatch):
    case = GOLDEN / "arity_compose.diag"
    monkeypatch.chdir(GOLDEN)
    assert main(["check", case.name]) == 1
    assert capsys.readouterr().err == case.with_suffix(".err").read_text(encoding="utf-8")
