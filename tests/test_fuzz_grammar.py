"""Property-based fuzzing with hypothesis: programs generated from the grammar's rules, then mutated.

Each input is checked (``catnn.compile``) under a per-input CPU-time limit; a fraction of the small ones
that check is also compiled to a module and explained. The properties: only :class:`CatnnError`
escapes, nothing runs past the limit, every error from checking has a place, and every placed error
prints ``FILE:LINE:COL: error: ...`` with the source line and a caret under it.

The default run tries 10,000 inputs (4,000 generated programs, 3,000 token mutations of them, 3,000
byte mutations of the examples; derandomized: every run tries the same inputs; about 40 s of CPU);
``pytest -m slow`` runs ten times as many with other seeds. The counts of each outcome are printed
at the end.
"""

from __future__ import annotations

import random
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

#: CPU seconds checking one input may take, and compiling + explaining it, before either counts as a hang
#: (CPU time, not wall time, so that a loaded machine does not make hangs; a real hang runs for minutes)
TIME_LIMIT = {"check": 10.0, "compile": 30.0}
#: the groups a generated program declares ("" : no group line)
GROUPS = ["", "group S\n", "group S(4)\n", "group O\n", "group O(3)\n", "group SO(3)\n", "group SO(2)\n",
          "group Sp\n", "group Sp(4)\n", "group A(4)\n", "group B\n", "group H\n", "group O(1,3)\n", "group SO(4)\n",
          "graph G = cycle(5)\ngroup Aut(G)\n", "graph G = edges(0-1-2, 2-3)\ngroup Aut(G)\n",
          "graph G = adjacency[[0, 1], [1, 0]]\ngroup Aut(G)\n"]
#: group lines that are errors, used one time in ten
BAD_GROUPS = ["group Q\n", "group S(0)\n", "group Sp(3)\n", "group Aut(X)\n"]
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


#: set when the alarm fires, in case the Hang is raised somewhere that swallows it (a gc callback)
FIRED: list[bool] = []


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        FIRED.append(True)
        raise Hang()
    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)      # counts this process's CPU time
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


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
    FIRED.clear()
    stage = "check"
    try:
        with time_limit(TIME_LIMIT[stage]):
            program = catnn.compile(text, "fuzz.diag")
        COUNTS["checked ok"] += 1
        if deep and _small(program):
            stage = "compile"
            with time_limit(TIME_LIMIT[stage]):
                write_module(program)
                explain_program(program)
            COUNTS["compiled and explained"] += 1
    except CatnnError as err:
        COUNTS[f"{stage}: CatnnError"] += 1
        check_located(err, text, stage)
    except Hang:
        FIRED.append(True)
    except Exception as err:
        COUNTS["internal errors"] += 1
        raise AssertionError(f"{stage} raised {type(err).__name__}: {err}\n--- program ---\n{text}") from err
    if FIRED:
        COUNTS["hangs"] += 1
        raise AssertionError(f"{stage} ran past {TIME_LIMIT[stage]} CPU seconds on:\n{text}")


def _small(program: object) -> bool:
    """Programs cheap to plan: short terms lists and layers of few vertices (fewer for Aut(G), whose
    planning is slower)."""
    from catnn.spec import LayerSpec, MixedLayerSpec
    most = 3 if program.group.name == "Aut" else 4
    for value in program.definitions.values():
        terms = getattr(value, "terms", None)
        if terms is not None and (len(terms) > 40 or value.k + value.l > 8):
            return False
        if isinstance(value, LayerSpec) and value.k + value.l > most:
            return False
        if isinstance(value, MixedLayerSpec) and max(value.in_orders) + max(value.out_orders) > most:
            return False
    return True


# -- programs from the grammar ----------------------------------------------------------------------------
class Programs:
    """Programs built rule by rule from the grammar (group lines, definitions, expressions, literals,
    signatures, stages), with a seeded :class:`random.Random` making every choice: hypothesis draws the
    seeds, so a failing input is reproduced by its seed and printed whole."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def program(self) -> str:
        r = self.rng
        lines = [r.choice(BAD_GROUPS if r.random() < 0.1 else GROUPS)]
        names: list[str] = []
        layers: list[str] = []
        for i in range(r.randint(1, 5)):
            name = f"d{i}" if r.random() < 0.97 else r.choice(["out", "x", "_private", "class", "n", "d0"])
            kind = r.randrange(6)
            if kind <= 1:
                arity = f" : {r.randint(0, 3)} -> {r.randint(0, 3)}" if r.random() < 0.4 else ""
                lines.append(f"{('diagram', 'morphism')[kind]} {name}{arity} = {self.expression(names)}\n")
                names.append(name)
            elif kind <= 3:
                lines.append(f"layer {name} : {self.signature()}{self.learn(names)}\n")
                layers.append(name)
            elif kind == 4 and layers:
                stages = [r.choice(STAGES) if r.random() < 0.4 else
                          f"{r.choice(layers)}[{r.randint(0, 4)} -> {r.randint(1, 4)}]" for _ in range(r.randint(1, 4))]
                lines.append(f"network {name} : {r.randint(0, 2)} -> {r.randint(0, 2)} = {' >> '.join(stages)}\n")
            else:
                lines.append(f"graph {name} = {r.choice(['cycle(4)', 'empty(3)', 'petersen', 'path(3)', 'star(2)'])}\n")
        return "".join(lines)

    def expression(self, names: list[str], depth: int = 0) -> str:
        """Atoms (numbers, n, names, generators, literals), then operators up to depth 3."""
        r = self.rng
        if depth >= 3 or r.random() < 0.35:
            kind = r.randrange(6)
            if kind == 0:
                return r.choice(["1", "2", "0", "1/2", "0.25", "3", "10", "n", "n^2", "n^-1", "-1"])
            if kind == 1 and names:
                return r.choice(names)
            if kind == 2:
                return self.literal()
            return r.choice(GENERATORS)
        op = r.choice([" + ", " - ", " >> ", " ∘ ", " @ ", " * ", " / ", "**", "^", "neg", "paren"])
        left = self.expression(names, depth + 1)
        if op == "**":
            return f"({left}) ** {r.randint(0, 6)}"
        if op == "^":
            return f"({left})^{r.randint(-3, 6)}"
        if op == "neg":
            return f"-{left}"
        if op == "paren":
            return f"({left})"
        return left + op + self.expression(names, depth + 1)

    def literal(self) -> str:
        """A set partition of outputs 1..l and inputs 1'..k' (now and then malformed), maybe tagged."""
        r = self.rng
        k, l = r.randint(0, 3), r.randint(0, 3)
        labels = [f"{i}" for i in range(1, l + 1)] + [f"{i}'" for i in range(1, k + 1)]
        r.shuffle(labels)
        if r.random() < 0.1:
            labels.append(r.choice(["0", "7", "1", "2'", "99'"]))
        cuts = sorted(r.sample(range(1, len(labels)), r.randint(0, min(3, len(labels) - 1)))) if len(labels) > 1 else []
        bounds = [0, *cuts, len(labels)]
        body = " ".join("{" + ", ".join(labels[a:b]) + "}" for a, b in zip(bounds, bounds[1:])) or "{}"
        head = r.choice(["", "", "", "eps[1] ", "jelly", "graph"])
        if head == "jelly":
            return f"jelly[{body}]"
        if head == "graph":
            return f"graph[{body} ; 1-a, a-1']"
        return head + body

    def signature(self) -> str:
        r = self.rng
        a, b, l = r.randint(0, 3), r.randint(0, 3), r.randint(0, 3)
        kind = r.randrange(4)
        if kind == 0:
            return f"{a} -> {l}"
        if kind == 1:
            return f"{a} @ {b} -> {l}"
        if kind == 2:
            return f"{r.choice(['outer'] * 9 + ['inner'])}({a} @ {b}) -> {l}"
        return f"V{a} + V{b} -> V{l}"

    def learn(self, names: list[str]) -> str:
        if self.rng.random() < 0.6:
            return ""
        return " = learn(" + ", ".join(self.expression(names, 2) for _ in range(self.rng.randint(1, 3))) + ")"


def token_mutation(seed: int) -> str:
    """A generated program with one to three token edits: deleted, duplicated, swapped, or a snippet added."""
    gen = Programs(seed)
    r, text = gen.rng, gen.program()
    for _ in range(r.randint(1, 3)):
        tokens = list(TOKEN.finditer(text))
        if not tokens:
            break
        tok, other = r.choice(tokens), r.choice(tokens).group()
        new = r.choice(["", other, tok.group() + " " + tok.group(), tok.group() + r.choice(SNIPPETS)])
        text = text[:tok.start()] + new + text[tok.end():]
    return text


def byte_mutation(seed: int) -> str:
    """An example program (or a window of its lines) with bytes deleted, inserted or flipped."""
    r = random.Random(seed)
    lines = r.choice(EXAMPLES).splitlines()
    start = r.randrange(len(lines))
    text = "\n".join(lines[start:start + r.randint(1, 8)]) + "\n"
    if r.random() < 0.5:
        text = next((line + "\n" for line in lines if line.startswith("group")), "") + text
    data = bytearray(text.encode("utf-8"))
    for _ in range(r.randint(1, 4)):
        i = r.randint(0, len(data))
        action = r.randrange(3)
        if action == 0:
            del data[i:i + r.randint(1, 3)]
        elif action == 1:
            data[i:i] = bytes(r.randrange(256) for _ in range(r.randint(1, 3)))
        elif i < len(data):
            data[i] ^= 1 << r.randrange(8)
    return data.decode("utf-8", errors="replace")


# -- the properties -----------------------------------------------------------------------------------------
def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck), phases=[p for p in Phase if p is not Phase.explain])


SEEDS = st.integers(0, 2**64 - 1)


def test_the_time_limit_stops_a_busy_loop():
    """The hang detector itself: CPU spent past the limit raises Hang (and is recorded)."""
    FIRED.clear()
    with pytest.raises(Hang), time_limit(0.2):
        while True:
            pass
    assert FIRED


@_settings(4_000)
@given(SEEDS)
def test_generated_programs(key: int) -> None:
    run(Programs(key).program(), deep=key % 20 == 0)


@_settings(3_000)
@given(SEEDS)
def test_token_mutations(key: int) -> None:
    run(token_mutation(key), deep=key % 20 == 0)


@_settings(3_000)
@given(SEEDS)
def test_byte_mutations(key: int) -> None:
    run(byte_mutation(key), deep=False)


@pytest.mark.slow
@seed(1)
@settings(_settings(40_000), derandomize=False)
@given(SEEDS)
def test_generated_programs_slow(key: int) -> None:
    run(Programs(key).program(), deep=key % 20 == 0)


@pytest.mark.slow
@seed(2)
@settings(_settings(30_000), derandomize=False)
@given(SEEDS)
def test_token_mutations_slow(key: int) -> None:
    run(token_mutation(key), deep=key % 20 == 0)


@pytest.mark.slow
@seed(3)
@settings(_settings(30_000), derandomize=False)
@given(SEEDS)
def test_byte_mutations_slow(key: int) -> None:
    run(byte_mutation(key), deep=False)


@pytest.fixture(scope="module", autouse=True)
def fuzz_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module's tests: print the counts of each outcome, and require both outcomes to be
    common (so that the strategies are not stuck on one path)."""
    COUNTS.clear()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and COUNTS:
        reporter.write_line("\nfuzz counts: " + ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items())))
    if COUNTS["inputs"] >= 1_000:
        assert COUNTS["checked ok"] > COUNTS["inputs"] // 500, COUNTS      # mutants mostly break
        assert COUNTS["check: CatnnError"] > COUNTS["inputs"] // 5, COUNTS
