"""Command-line hints (issue 15, item 4): a suggested group size is one the group accepts, and
``catnn explain --n`` never silently overrides a program's fixed n."""

from __future__ import annotations

import re

import pytest

import catnn
from catnn.cli import main


@pytest.mark.parametrize("name", ["S", "A", "O", "SO", "Sp", "B", "H"])
def test_basis_without_n_suggests_a_size_the_group_accepts(name, capsys):
    assert main(["basis", name, "1", "1"]) == 1
    err = capsys.readouterr().err
    match = re.search(r"--n (\d+)\) or write the group with its size, (\w+)\((\d+)\)", err)
    assert match and match.group(1) == match.group(3) and match.group(2) == name, err
    n = int(match.group(1))
    assert catnn.group(name, n=n).n == n                           # the hint is a valid size ...
    assert main(["basis", f"{name}({n})", "1", "1"]) == 0        # ... and following it works
    capsys.readouterr()


def test_sp_is_never_suggested_with_an_odd_size(capsys):
    main(["basis", "Sp", "2", "2"])
    assert "Sp(5)" not in capsys.readouterr().err


@pytest.mark.parametrize("given, status", [("3", 0), ("4", 1)])
def test_explain_n_must_agree_with_a_fixed_n(given, status, tmp_path, capsys):
    path = tmp_path / "o3.diag"
    path.write_text("group O(3)\nlayer q : 1 -> 1\n")
    assert main(["explain", str(path), "--n", given]) == status
    out, err = capsys.readouterr()
    if status:
        assert "the program fixes n=3 (O(3)): --n 4 would contradict it" in err and not out
    else:
        assert "at n=3" in out


def test_explain_n_sets_a_free_n(tmp_path, capsys):
    path = tmp_path / "o.diag"
    path.write_text("group O\nlayer q : 1 -> 1\n")
    assert main(["explain", str(path), "--n", "7"]) == 0
    assert "at n=7" in capsys.readouterr().out
