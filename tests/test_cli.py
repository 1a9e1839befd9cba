"""The command line: every subcommand's --help, and exit status 1 with a clear message on bad input.

A user error (a bad program, a missing file, an unwritable output, an unknown group, a bad
number) must give exit status 1 and ``FILE:LINE:COL: error: ...`` with the source line and a caret
under the column for program errors, ``catnn: error: ...`` otherwise, and never a traceback.
The caret is checked against the position of the offending text, found in the test by searching
the program text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from catnn.cli import COMMANDS, main

SUBCOMMANDS = ("check", "compile", "explain", "draw", "basis", "demo")
#: commands that read a program: (name, extra arguments); {out} is a path in the test's folder
PROGRAM_COMMANDS = (("check", []), ("compile", ["-o", "{out}.py"]), ("explain", []), ("draw", ["-o", "{out}.svg"]))

GOOD = "group S\nlayer edge : 2 -> 2\ndiagram t = {1, 2'} {2, 1'}\n"
#: bad programs and the text the caret must point at
BAD = {
    "syntax": ("group S\ndiagram x = {1, 1'\n", "{"),
    "unknown name": ("group S\nmorphism f = swap >> nosuch\n", "nosuch"),
    "arity": ("group S\nmorphism f = swap >> counit\n", "swap >> counit"),
    "bad group": ("group Q\nlayer edge : 2 -> 2\n", "Q"),
    "not a pairing": ("group O\ndiagram m = {1, 1', 2'}\n", "{1, 1', 2'}"),
}


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def caret_column(err: str, path: str) -> tuple[int, int, int]:
    """(line, column, caret column) of a ``path:L:C: error:`` report; the caret column is 1-based."""
    lines = err.splitlines()
    header = next(i for i, text in enumerate(lines) if text.startswith(f"{path}:"))
    match = re.match(re.escape(path) + r":(\d+):(\d+): error: .+", lines[header])
    assert match, lines[header]
    caret = lines[header + 2]
    assert caret.strip().startswith("^"), err
    return int(match.group(1)), int(match.group(2)), len(caret) - len(caret.lstrip()) - 1   # 2 spaces of indent


# -- help ---------------------------------------------------------------------------------------------
def test_the_subcommands_are_the_documented_ones():
    assert set(COMMANDS) == set(SUBCOMMANDS)


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_prints_usage_and_exits_0(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert out.startswith(f"usage: catnn {command}")
    assert COMMANDS[command][0].split()[0] in out          # the description is shown
    assert len(out.splitlines()) >= 5


def test_main_help_lists_every_command_and_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    for command in SUBCOMMANDS:
        assert re.search(rf"^\s+{command}\s", out, re.M), command
        assert f"catnn {command}" in out.split("examples:")[1]


def test_version(capsys):
    import catnn
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"catnn {catnn.__version__}"


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert "usage: catnn" in capsys.readouterr().err


# -- bad programs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command,extra", PROGRAM_COMMANDS)
@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_programs_give_a_caret_and_status_1(command, extra, kind, tmp_path, capsys):
    text, culprit = BAD[kind]
    path = tmp_path / "bad.diag"
    path.write_text(text)
    status, out, err = run([command, str(path), *(a.format(out=tmp_path / "out") for a in extra)], capsys)
    assert status == 1
    assert "Traceback" not in err + out
    line, column, caret = caret_column(err, str(path))
    offset = text.index(culprit)
    assert (line, column) == (text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset))
    assert caret == column
    assert err.splitlines()[1].strip() == text.splitlines()[line - 1].strip()
    assert not list(tmp_path.glob("out*")), "nothing is written for a bad program"


@pytest.mark.parametrize("command,extra", PROGRAM_COMMANDS)
def test_missing_files(command, extra, tmp_path, capsys):
    missing = tmp_path / "missing.diag"
    status, out, err = run([command, str(missing), *(a.format(out=tmp_path / "out") for a in extra)], capsys)
    assert status == 1
    assert err.strip() == f"catnn: error: cannot read {missing}: No such file or directory"


@pytest.mark.parametrize("command,extra", PROGRAM_COMMANDS)
def test_a_folder_is_not_a_program(command, extra, tmp_path, capsys):
    status, out, err = run([command, str(tmp_path), *(a.format(out=tmp_path / "out") for a in extra)], capsys)
    assert status == 1
    assert err.startswith(f"catnn: error: cannot read {tmp_path}") and "Traceback" not in err


def test_a_file_that_is_not_text(tmp_path, capsys):
    path = tmp_path / "binary.diag"
    path.write_bytes(b"\xff\xfe\x00\x81 group S")
    status, out, err = run(["check", str(path)], capsys)
    assert status == 1
    assert "not UTF-8" in err


# -- outputs ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command,suffix", (("compile", ".py"), ("draw", ".svg")))
def test_unwritable_outputs(command, suffix, tmp_path, capsys):
    program = tmp_path / "good.diag"
    program.write_text(GOOD)
    folder = tmp_path / f"folder{suffix}"
    folder.mkdir()
    targets = [tmp_path / "no" / "such" / f"out{suffix}", folder]            # a missing folder; a folder
    if hasattr(os, "geteuid") and os.geteuid() != 0:                          # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        targets.append(locked / f"out{suffix}")
    before = sorted(tmp_path.rglob("*"))
    for target in targets:
        status, out, err = run([command, str(program), "-o", str(target)], capsys)
        assert status == 1, target
        assert err.startswith(f"catnn: error: cannot write {target}"), err
        assert "Traceback" not in err and "internal error" not in err
    assert sorted(tmp_path.rglob("*")) == before, "no file, not even a temporary one, is left behind"


@pytest.mark.parametrize("command,name", (("compile", "good.diag"), ("draw", "good.svg")))
def test_refuses_to_overwrite_the_program(command, name, tmp_path, capsys):
    program = tmp_path / name
    program.write_text(GOOD)
    status, out, err = run([command, str(program), "-o", str(program)], capsys)
    assert status == 1 and "refusing" in err
    assert program.read_text() == GOOD


def test_draw_refuses_unknown_formats(tmp_path, capsys):
    program = tmp_path / "good.diag"
    program.write_text(GOOD)
    status, out, err = run(["draw", str(program), "-o", str(tmp_path / "out.txt")], capsys)
    assert status == 1 and ".svg or .png" in err


def test_compile_writes_an_importable_module(tmp_path, capsys):
    program = tmp_path / "good.diag"
    program.write_text(GOOD)
    status, out, err = run(["compile", str(program), "-o", str(tmp_path / "good_diag.py")], capsys)
    assert status == 0 and err == ""
    namespace: dict = {}
    exec(compile((tmp_path / "good_diag.py").read_text(), "good_diag.py", "exec"), namespace)
    assert {"edge", "t"} <= set(namespace)


# -- groups and numbers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Q", "S_", "O(-1)", "Sp(3)", "Aut"])
def test_basis_bad_groups(name, capsys):
    status, out, err = run(["basis", name, "1", "1", "--n", "3"] if name != "Sp(3)" else ["basis", name, "1", "1"],
                           capsys)
    assert status == 1
    assert err.startswith("catnn: error: ") and len(err.strip().splitlines()) == 1


def test_basis_without_n_says_how_to_give_it(capsys):
    status, out, err = run(["basis", "S", "2", "2"], capsys)
    assert status == 1 and "--n" in err


@pytest.mark.parametrize("argv", [
    ["basis", "S", "2", "2", "--n", "0"],
    ["basis", "S", "-1", "2", "--n", "3"],
    ["basis", "S", "1", "1", "--n", "3", "--samples", "0"],
    ["basis", "S", "1", "1", "--n", "3", "--samples", "10**30"],
    ["basis", "S", "1", "1", "--n", "3", "--samples", "1" + "0" * 30],
    ["explain", "{good}", "--n", "0"],
    ["explain", "{good}", "--n", "-4"],
    ["explain", "{good}", "--batch", "-2"],
    ["explain", "{good}", "--batch", "1" + "0" * 29],
    ["explain", "{good}", "--channels", "0"],
    ["demo", "--seconds", "0"],
    ["demo", "--seconds", "nan"],
    ["demo", "--seconds", "inf"],
    ["demo", "--seed", "-1"],
])
def test_bad_numbers_are_usage_errors(argv, tmp_path, capsys):
    """A bad option value exits 2 with the usage line and what the option takes, before any work."""
    program = tmp_path / "good.diag"
    program.write_text(GOOD)
    with pytest.raises(SystemExit) as exit_:
        main([a.format(good=program) for a in argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: catnn {argv[0]}") and "must be" in err and "Traceback" not in err


def test_orders_too_large_for_the_group_are_refused_not_hung(capsys):
    status, out, err = run(["basis", "S", "30", "30", "--n", "40"], capsys)
    assert status == 1
    assert err.startswith("catnn: error: ") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["basis", "S", "two", "2"], ["explain", "x.diag", "--n", "ten"],
                                  ["compile", "x.diag", "--backend", "jax"], ["demo", "--seconds", "soon"]])
def test_malformed_options_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: catnn {argv[0]}") and "Traceback" not in err


def test_basis_checks_equivariance(capsys):
    status, out, err = run(["basis", "S(3)", "1", "1"], capsys)
    assert status == 0
    assert "dimension 2" in out
    assert float(out.strip().rsplit(" ", 1)[1]) < 1e-12


# -- bugs and the real process --------------------------------------------------------------------------
def test_an_internal_error_is_one_line(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")
    help_text, arguments, _ = COMMANDS["check"]
    monkeypatch.setitem(COMMANDS, "check", (help_text, arguments, broken))
    status, out, err = run(["check", "x.diag"], capsys)
    assert status == 1
    assert err.strip() == "catnn: internal error: RuntimeError: boom (please report this)"


def test_the_installed_command_exits_1_without_a_traceback(tmp_path):
    path = tmp_path / "bad.diag"
    path.write_text(BAD["unknown name"][0])
    done = subprocess.run([sys.executable, "-m", "catnn", "check", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{path}:2:22: error:")
