"""Property-based fuzzing with hypothesis: programs generated from the grammar's rules, then mutated.

Each input is checked (``catnn.compile``) under a per-input time limit; a fraction of the small ones
that check is also compiled to a module and explained. The properties: only :class:`CatnnError`
escapes, nothing runs past the limit, every error from checking has a place, and every placed error
prints ``FILE:LINE:COL: error: ...`` with the source line and a caret under it.

The default run tries 10,000 inputs (4,000 generated programs, 3,000 token mutations of them, 3,000
byte mutations of the examples; derandomized, so every run tries the same inputs); ``pytest -m slow``
runs ten times as many with other seeds. The counts of each outcome are printed at the end.
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import catnn
from catnn.compiler.write import explain_program, write_module
from catnn.errors import CatnnError

#: seconds one input may take (check, and compile + explain for the deep ones) before it counts as a hang
TIME_LIMIT = 5.0
#: the groups a generated program declares ("" : no group line)
GROUPS = ["", "group S\n", "group S(4)\n", "group O\n", "group O(3)\n", "group SO(3)\n", "group SO(2)\n",
          "group Sp\n", "group Sp(4)\n", "group A(4)\n", "group B\n", "group H\n", "group O(1,3)\n", "group SO(4)\n",
          "graph G = cycle(5)\ngroup Aut(G)\n", "graph G = edges(0-1-2, 2-3)\ngroup Aut(G)\n",
          "graph G = adjacency[[0, 1], [1, 0]]\ngroup Aut(G)\n", "group Q\n", "group S(0)\n", "group Sp(3)\n"]
GENERATORS = ["id", "swap", "merge", "split", "unit", "counit", "cup", "cap", "eps", "adj", "id(2)", "id(0)",
              "eps(2, 1)", "eps(1, 1)", "eps(3, 0)", "id(49)", "zap"]
STAGES = ["relu", "tanh", "norm_relu", "gate", "sum", "mean", "gelu", "identity", "bogus"]
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((Path(__file__).parent.parent / "examples").glob("*.diag"))]
TOKEN = re.compile(r"\d+'?|[A-Za-z_]\w*|>>|->|\*\*|\S")
SNIPPETS = ["{", "}", "(", ")", "[", "]", ",", "'", ">>", "->", "@", "⊗", "∘", "*", "**", "/", "^", "-", "+", "=",
            ":", ";", "n", "0", "1", "2'", "9" * 60, "0.5", "1.2.3", "id", "swap", "outer(", "learn(", "group",
            "diagram", "morphism", "layer", "network", "graph", "relu", "#", "\n", " ", "→", "é", "\x00", "\ufeff",
            "\r", "\u2028", "** 30", "^ 999", "(((", ")))", "V2", "V**2", "4*V0 +", "@ 1", "eps[", "jelly[", "graph["]
COUNTS: Counter[str] = Counter()
LOCATED = re.compile(r"^[^\n]*:(\d+):(\d+): error: ")


class Hang(BaseException):
    """Raised by the alarm when an input runs past :data:`TIME_LIMIT` (not an Exception: nothing catches it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_located(err: CatnnError, text: str, stage: str) -> None:
    """A placed error prints FILE:LINE:COL, the line, and a caret under the column."""
    message = str(err)
    assert message and "Traceback" not in message
    if err.span is None:
        COUNTS[f"{stage}: unplaced error"] += 1
        assert stage != "check", f"an error from checking has no place: {message}\n--- program ---\n{text}"
        return
    lines = message.split("\n")
    match = LOCATED.match(lines[0])
    assert match, f"no FILE:LINE:COL in {lines[0]!r}"
    if err.span.text:
        assert len(lines) >= 3 and lines[2].lstrip(" ").startswith("^"), f"no caret under {message!r}"


def run(text: str, deep: bool) -> None:
    """Check ``text`` (and when ``deep``, compile and explain it); record the outcome; fail on anything
    but a CatnnError, a hang, or an error without its place."""
    COUNTS["inputs"] += 1
    stage = "check"
    try:
        with time_limit(TIME_LIMIT):
            program = catnn.compile(text, "fuzz.diag")
            COUNTS["checked ok"] += 1
            if deep and _small(program):
                stage = "compile"
                write_module(program)
                explain_program(program)
                COUNTS["compiled and explained"] += 1
    except CatnnError as err:
        COUNTS[f"{stage}: CatnnError"] += 1
        check_located(err, text, stage)
    except Hang:
        COUNTS["hangs"] += 1
        raise AssertionError(f"{stage} ran past {TIME_LIMIT} s on:\n{text}") from None
    except Exception as err:
        COUNTS["internal errors"] += 1
        raise AssertionError(f"{stage} raised {type(err).__name__}: {err}\n--- program ---\n{text}") from err


def _small(program: object) -> bool:
    """Programs cheap to plan: short terms lists and layers of few vertices."""
    for value in program.definitions.values():
        terms = getattr(value, "terms", None)
        if terms is not None and (len(terms) > 40 or value.k + value.l > 8):
            return False
        if isinstance(getattr(value, "k", None), int) and terms is None and value.k + value.l > 4:
            return False
    return True


# -- programs from the grammar ----------------------------------------------------------------------------
def literal(draw: st.DrawFn) -> str:
    """A diagram literal: a set partition of outputs 1..l and inputs 1'..k' (now and then malformed)."""
    k, l = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    labels = [f"{i}" for i in range(1, l + 1)] + [f"{i}'" for i in range(1, k + 1)]
    labels = draw(st.permutations(labels)) if labels else []
    if draw(st.integers(0, 9)) == 0:
        labels = labels + [draw(st.sampled_from(["0", "7", "1", "2'", "99'"]))]
    cuts = sorted(draw(st.sets(st.integers(1, max(len(labels) - 1, 1)), max_size=3))) if labels else []
    blocks, start = [], 0
    for cut in [*cuts, len(labels)]:
        if cut > start:
            blocks.append("{" + ", ".join(labels[start:cut]) + "}")
            start = cut
    head = draw(st.sampled_from(["", "", "", "eps[1] ", "jelly", "graph"]))
    body = " ".join(blocks) or "{}"
    if head == "jelly":
        return f"jelly[{body}]"
    if head == "graph":
        return f"graph[{body} ; 1-a, a-1']"
    return head + body


@st.composite
def expressions(draw: st.DrawFn, names: tuple[str, ...], depth: int = 0) -> str:
    """An expression: atoms (numbers, n, names, generators, literals), then operators up to depth 3."""
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        kind = draw(st.integers(0, 5))
        if kind == 0:
            return draw(st.sampled_from(["1", "2", "0", "1/2", "0.25", "3", "10", "n", "n^2", "n^-1", "-1"]))
        if kind == 1 and names:
            return draw(st.sampled_from(names))
        if kind == 2:
            return literal(draw)
        return draw(st.sampled_from(GENERATORS))
    op = draw(st.sampled_from([" + ", " - ", " >> ", " ∘ ", " @ ", " * ", " / ", "**", "^", "neg", "paren"]))
    left = draw(expressions(names, depth + 1))
    if op == "**":
        return f"({left}) ** {draw(st.integers(0, 6))}"
    if op == "^":
        return f"({left})^{draw(st.integers(-3, 6))}"
    if op == "neg":
        return f"-{left}"
    if op == "paren":
        return f"({left})"
    return left + op + draw(expressions(names, depth + 1))


@st.composite
def programs(draw: st.DrawFn) -> str:
    """A program: a group line, then diagrams, morphisms, layers and networks over earlier names."""
    lines = [draw(st.sampled_from(GROUPS))]
    names: list[str] = []
    layers: list[str] = []
    for i in range(draw(st.integers(1, 5))):
        name = draw(st.sampled_from([f"d{i}", f"d{i}", f"d{i}", "out", "x", "_private", "class", "n", "d0"]))
        kind = draw(st.integers(0, 5))
        if kind <= 1:
            arity = f" : {draw(st.integers(0, 3))} -> {draw(st.integers(0, 3))}" if draw(st.booleans()) else ""
            word = "diagram" if kind == 0 else "morphism"
            lines.append(f"{word} {name}{arity} = {draw(expressions(tuple(names)))}\n")
            names.append(name)
        elif kind <= 3:
            lines.append(f"layer {name} : {draw(_layer_signature())}{draw(_learn(tuple(names)))}\n")
            layers.append(name)
        elif kind == 4 and layers:
            stages = draw(st.lists(st.one_of(st.sampled_from(STAGES),
                                             st.builds(lambda n, a, b: f"{n}[{a} -> {b}]", st.sampled_from(layers),
                                                       st.integers(0, 4), st.integers(1, 4))), min_size=1, max_size=4))
            lines.append(f"network {name} : {draw(st.integers(0, 2))} -> {draw(st.integers(0, 2))} = "
                         + " >> ".join(stages) + "\n")
        else:
            lines.append(f"graph {name} = {draw(st.sampled_from(['cycle(4)', 'empty(3)', 'petersen', 'path(0)']))}\n")
    return "".join(lines)


def _layer_signature() -> st.SearchStrategy[str]:
    order = st.integers(0, 3)
    return st.one_of(
        st.builds(lambda k, l: f"{k} -> {l}", order, order),
        st.builds(lambda a, b, l, w: f"{w}{a} @ {b}{')' if w else ''} -> {l}", order, order, order,
                  st.sampled_from(["", "outer(", "inner("])),
        st.builds(lambda a, b, l: f"V{a} + V{b} -> V{l}", order, order, order))


def _learn(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    chosen = st.lists(expressions(names, 2), min_size=1, max_size=3)
    return st.one_of(st.just(""), st.just(""), chosen.map(lambda xs: " = learn(" + ", ".join(xs) + ")"))


# -- mutations ----------------------------------------------------------------------------------------------
@st.composite
def token_mutations(draw: st.DrawFn) -> str:
    """A generated program with one to three token edits: deleted, duplicated, swapped, or a snippet added."""
    text = draw(programs())
    for _ in range(draw(st.integers(1, 3))):
        tokens = list(TOKEN.finditer(text))
        if not tokens:
            break
        tok = tokens[draw(st.integers(0, len(tokens) - 1))]
        other = tokens[draw(st.integers(0, len(tokens) - 1))].group()
        new = draw(st.sampled_from(["", other, tok.group() + " " + tok.group(), "SNIPPET"]))
        if new == "SNIPPET":
            new = tok.group() + draw(st.sampled_from(SNIPPETS))
        text = text[:tok.start()] + new + text[tok.end():]
    return text


@st.composite
def byte_mutations(draw: st.DrawFn) -> str:
    """An example program (or a window of its lines) with bytes deleted, inserted or flipped."""
    source = draw(st.sampled_from(EXAMPLES))
    lines = source.splitlines()
    start = draw(st.integers(0, len(lines) - 1))
    text = "\n".join(lines[start:start + draw(st.integers(1, 8))]) + "\n"
    if draw(st.booleans()):
        text = next((line + "\n" for line in lines if line.startswith("group")), "") + text
    data = bytearray(text.encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data)))
        action = draw(st.integers(0, 2))
        if action == 0:
            del data[i:i + draw(st.integers(1, 3))]
        elif action == 1:
            data[i:i] = draw(st.binary(min_size=1, max_size=3))
        elif i < len(data):
            data[i] ^= 1 << draw(st.integers(0, 7))
    return data.decode("utf-8", errors="replace")


# -- the properties -----------------------------------------------------------------------------------------
def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck), phases=[p for p in Phase if p is not Phase.explain])


@_settings(4_000)
@given(programs(), st.integers(0, 9))
def test_generated_programs(text: str, roll: int) -> None:
    run(text, deep=roll == 0)


@_settings(3_000)
@given(token_mutations(), st.integers(0, 9))
def test_token_mutations(text: str, roll: int) -> None:
    run(text, deep=roll == 0)


@_settings(3_000)
@given(byte_mutations())
def test_byte_mutations(text: str) -> None:
    run(text, deep=False)


@pytest.mark.slow
@seed(1)
@settings(_settings(40_000), derandomize=False)
@given(programs(), st.integers(0, 9))
def test_generated_programs_slow(text: str, roll: int) -> None:
    run(text, deep=roll == 0)


@pytest.mark.slow
@seed(2)
@settings(_settings(30_000), derandomize=False)
@given(token_mutations(), st.integers(0, 9))
def test_token_mutations_slow(text: str, roll: int) -> None:
    run(text, deep=roll == 0)


@pytest.mark.slow
@seed(3)
@settings(_settings(30_000), derandomize=False)
@given(byte_mutations())
def test_byte_mutations_slow(text: str) -> None:
    run(text, deep=False)


def test_zz_the_fuzzers_reached_both_outcomes(request: pytest.FixtureRequest) -> None:
    """Runs last (file order): the inputs must both check and fail often, so the strategies are not stuck."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("fuzz counts: " + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())))
    if COUNTS["inputs"] < 1_000:
        pytest.skip("run with the fuzz tests of this file to see their counts")
    assert COUNTS["checked ok"] > COUNTS["inputs"] // 20, COUNTS
    assert COUNTS["check: CatnnError"] > COUNTS["inputs"] // 5, COUNTS
