"""Packaging: the import boundary, the folder mapping, package data, and the command line."""

from __future__ import annotations

import importlib.resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run outside the repository, with no PYTHONPATH: only what is installed can be imported."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    result = _run([sys.executable, "-c", code], cwd)
    assert "No module named 'catnn'" not in result.stderr, "install catnn first: pip install -e ."
    return result


def test_import_catnn_does_not_import_torch(tmp_path):
    code = ("import sys, catnn, catnn.grammar, catnn.compiler, catnn.groups, catnn.dense; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))")
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_top_level_grammar_or_compiler(tmp_path):
    code = ("import importlib.util as u, catnn.grammar, catnn.compiler; "
            "print(u.find_spec('grammar'), u.find_spec('compiler'))")
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None None"


def test_mapped_packages_resolve_to_the_folders():
    import catnn.compiler
    import catnn.grammar
    assert Path(catnn.grammar.__file__).parent.name == "grammar"
    assert Path(catnn.compiler.__file__).parent.name == "compiler"


def test_package_data():
    assert importlib.resources.files("catnn").joinpath("py.typed").is_file()
    if not (ROOT / "grammar" / "diagram.lark").is_file():
        pytest.skip("grammar/diagram.lark does not exist yet")
    assert importlib.resources.files("catnn.grammar").joinpath("diagram.lark").is_file()


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_pyproject_declares_the_layout():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tools = config["tool"]["setuptools"]
    assert tools["package-dir"]["catnn.grammar"] == "grammar"
    assert tools["package-dir"]["catnn.compiler"] == "compiler"
    assert "grammar" not in tools["packages"] and "compiler" not in tools["packages"]
    assert "*.lark" in config["tool"]["setuptools"]["package-data"]["catnn.grammar"]
    assert config["project"]["scripts"]["catnn"].startswith("catnn.cli:")
    import catnn
    assert catnn.__version__ == config["project"]["version"]


def test_public_names():
    import catnn
    for name in catnn.__all__:
        assert hasattr(catnn, name), name
    assert issubclass(catnn.CatnnError, Exception)


def test_cli_basis(tmp_path):
    result = _run([sys.executable, "-m", "catnn", "basis", "S", "2", "2", "--n", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "has dimension 14" in result.stdout and "basis of 14" in result.stdout
    assert "max error 0" in result.stdout
    assert result.stderr == ""


def test_cli_basis_orthogonal(capsys):
    from catnn.cli import main
    assert main(["basis", "O(3)", "2", "2"]) == 0
    assert "has dimension 3" in capsys.readouterr().out


def test_cli_unknown_group_subprocess(tmp_path):
    result = _run([sys.executable, "-m", "catnn", "basis", "Q", "2", "2", "--n", "3"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("catnn: error: unknown group 'Q'")
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("args, fragment", [
    (["basis", "Q", "2", "2", "--n", "3"], "unknown group 'Q'"),
    (["basis", "Sp", "2", "2", "--n", "3"], "Sp needs an even integer n >= 2, got n=3"),   # --n 0: a usage error
    (["basis", "S", "2", "2"], "basis depends on n"),
    (["basis", "S", "6", "6", "--n", "3"], "over the limit"),
])
def test_cli_errors(capsys, args, fragment):
    from catnn.cli import main
    assert main(args) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("catnn: error:"), captured.err
    assert fragment in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_cli_usage_error(tmp_path):
    result = _run([sys.executable, "-m", "catnn", "basis", "S", "two", "2"], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_console_script(tmp_path):
    exe = shutil.which("catnn")
    if exe is None:
        pytest.skip("the catnn console script is not on PATH")
    result = _run([exe, "basis", "S", "1", "1", "--n", "2"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dimension 2" in result.stdout


def test_cli_basis_large_does_not_hang(capsys):
    from catnn.cli import main
    assert main(["basis", "S", "4", "4", "--n", "5"]) == 0
    out = capsys.readouterr().out
    assert "basis of 3845" in out and "equivariance not checked" in out
