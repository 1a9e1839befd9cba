"""Files and the command line under hostile conditions: modes, killed runs, outputs that are the
program or not a regular file, unreadable inputs, names check and compile must agree on, CLI hints."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

import catnn
from catnn.cli import main
from catnn.compiler.pysource import RESERVED
from catnn.files import remove_stale_temporaries
from catnn.errors import CatnnError, ParseError

GOOD = "group S\nlayer edge : 2 -> 2\nmorphism sym = 1/2 * (id(2) + swap)\n"


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def program(tmp_path):
    path = tmp_path / "good.diag"
    path.write_text(GOOD)
    return path


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_compile_output_honours_the_umask(program, tmp_path, capsys, mask):
    old = os.umask(mask)
    try:
        status, _, _ = run(["compile", program, "-o", tmp_path / "out.py"], capsys)
    finally:
        os.umask(old)
    assert status == 0
    assert stat.S_IMODE(os.stat(tmp_path / "out.py").st_mode) == 0o666 & ~mask


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_of_killed_runs_are_removed(program, tmp_path, capsys):
    stale = tmp_path / f".catnn-{dead_pid()}-abc123.py.tmp"
    live = tmp_path / f".catnn-{os.getppid()}-def456.py.tmp"      # our parent runs: not ours to remove
    other = tmp_path / ".catnn-draw-xyz.tmp"                       # not a compile temporary
    for path in (stale, live, other):
        path.write_text("partial")
    assert run(["compile", program, "-o", tmp_path / "out.py"], capsys)[0] == 0
    assert not stale.exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(str(tmp_path)) == []


def test_a_killed_compile_leaves_nothing_after_the_next_run(program, tmp_path, capsys):
    """SIGKILL a compile stuck between writing and renaming; the next compile cleans up."""
    code = ("import os, sys, time; import catnn.files as c; "
            "os.replace = lambda *a: (print('ready', flush=True), time.sleep(60)); "
            f"c.write_atomic({str(tmp_path / 'out.py')!r}, 'x = 1\\n')")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert child.stdout.readline().strip() == "ready"
    child.kill()
    child.wait()
    assert [p.name for p in tmp_path.glob(".catnn-*.tmp")], "the killed run left its temporary"
    assert run(["compile", program, "-o", tmp_path / "out.py"], capsys)[0] == 0
    assert not list(tmp_path.glob(".catnn-*.tmp"))


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
@pytest.mark.parametrize("command,suffix", [("compile", ".py"), ("draw", ".svg")])
def test_refuses_to_write_over_the_program_through_links(program, tmp_path, capsys, kind, command, suffix):
    target = tmp_path / f"alias{suffix}"
    (os.symlink if kind == "symlink" else os.link)(program, target)
    status, _, err = run([command, program, "-o", target], capsys)
    assert status == 1 and "refusing to" in err and "over the program itself" in err
    assert program.read_text() == GOOD


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_refuses_non_regular_outputs(program, tmp_path, capsys):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    for target, kind in ((fifo, "a FIFO"), ("/dev/null", "a character device")):
        status, _, err = run(["compile", program, "-o", target], capsys)
        assert status == 1 and f"it is not a regular file ({kind})" in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_check_refuses_devices_quickly(capsys):
    start = time.monotonic()
    status, _, err = run(["check", "/dev/zero"], capsys)
    assert status == 1 and "not a regular file (a character device)" in err
    assert time.monotonic() - start < 5


def test_huge_files_are_refused(tmp_path, capsys, monkeypatch):
    import catnn.api
    monkeypatch.setattr(catnn.api, "MAX_SOURCE_BYTES", 64)
    path = tmp_path / "long.diag"
    path.write_text("group S\n" + "# padding\n" * 10)
    status, _, err = run(["check", path], capsys)
    assert status == 1 and "larger than 64 bytes" in err


def test_non_utf8_error_points_at_the_byte(tmp_path, capsys):
    path = tmp_path / "bad.diag"
    path.write_bytes("group S\nmorphism é = sw".encode() + b"\xff" + b"ap\n")
    with pytest.raises(ParseError) as info:
        catnn.load(path)
    err = info.value
    assert (err.span.line, err.span.column) == (2, 16)       # characters, not bytes: é is one column
    status, _, text = run(["check", path], capsys)
    lines = text.splitlines()
    assert status == 1 and lines[0].startswith(f"{path}:2:16: error: the file is not UTF-8 text: byte 0xff")
    assert lines[2].index("^") == lines[1].index("\ufffd")


def test_empty_file_error_has_a_caret(tmp_path, capsys):
    path = tmp_path / "empty.diag"
    path.write_text("")
    status, _, err = run(["check", path], capsys)
    assert status == 1
    assert err.splitlines()[0].startswith(f"{path}:1:1: error: empty program")
    assert err.splitlines()[2].strip() == "^"


def test_compile_text_accepts_a_bom_like_load(tmp_path):
    text = "\ufeffgroup S\nmorphism sym = 1/2 * (id(2) + swap)\n"
    path = tmp_path / "bom.diag"
    path.write_bytes(text.encode("utf-8"))
    assert catnn.compile(text).sym == catnn.load(path).sym


NAMES = sorted(RESERVED | {"class", "sum", "id", "_hidden", "a__b", "lambda", "print", "é"})


@pytest.mark.parametrize("name", NAMES)
def test_check_rejects_what_compile_rejects(name, tmp_path, capsys):
    path = tmp_path / "names.diag"
    path.write_text(f"group S\nmorphism {name} = swap\n", encoding="utf-8")
    status, _, err = run(["check", path], capsys)
    if status == 0:     # some names do not even parse; the ones that do must fail the same check
        pytest.fail(f"check accepted {name!r}")
    compiled, _, _ = run(["compile", path, "-o", tmp_path / "out.py"], capsys)
    drawn, _, _ = run(["draw", path, "-o", tmp_path / "out.svg"], capsys)
    assert compiled == drawn == 1
    assert f"{path}:2:10: error:" in err or "error:" in err.splitlines()[0]


def test_check_and_compile_agree_on_good_names(tmp_path, capsys):
    path = tmp_path / "names.diag"
    path.write_text("group S\nmorphism edge_2 = swap\nlayer Pool : 2 -> 0\n")
    assert run(["check", path], capsys)[0] == 0
    assert run(["compile", path, "-o", tmp_path / "out.py"], capsys)[0] == 0


def test_check_says_which_group_it_assumed(tmp_path, capsys):
    path = tmp_path / "nogroup.diag"
    path.write_text("morphism sym = 1/2 * (id(2) + swap)\n")
    status, out, _ = run(["check", path], capsys)
    assert status == 0 and "S(n) (assumed: the program has no group line)" in out
    path.write_text("group S\nmorphism sym = 1/2 * (id(2) + swap)\n")
    assert "assumed" not in run(["check", path], capsys)[1]


@pytest.mark.parametrize("name", ["Sp", "S", "O", "SO", "A"])
def test_basis_hint_names_a_size_the_group_accepts(name, capsys):
    status, _, err = run(["basis", name, "2", "2"], capsys)
    assert status == 1
    hint = err.rsplit(",", 1)[1].strip()
    assert hint.startswith(f"{name}(") and hint.endswith(")")
    n = int(hint[len(name) + 1:-1])
    assert f"--n {n}" in err
    catnn.group(name, n=n)        # the suggested size is one the group takes


def test_explain_refuses_an_n_that_contradicts_the_program(tmp_path, capsys):
    path = tmp_path / "fixed.diag"
    path.write_text("group S(4)\nmorphism sym = 1/2 * (id(2) + swap)\n")
    status, out, err = run(["explain", path, "--n", "5"], capsys)
    assert status == 1 and "fixes n=4" in err and not out
    assert run(["explain", path, "--n", "4"], capsys)[0] == 0
    assert run(["explain", path], capsys)[0] == 0


def test_catnn_errors_from_output_checks_are_catnn_errors(program, tmp_path):
    from catnn.files import check_output
    with pytest.raises(CatnnError):
        check_output(str(program), str(program), "{path}")
