"""Fuzzing: seeded mutations of the example programs; only CatnnError may escape.

The default run checks 10,000 mutations (about 12 s); ``pytest -m slow`` runs 50,000 more.

Each case is a whole example program (one time in four) or a window of a few of its lines, edited
one to three times: characters or tokens deleted, inserted, duplicated or swapped, lines spliced in
from other programs. The result must compile or fail with a :class:`catnn.CatnnError`.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import catnn
from catnn.errors import CatnnError

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.diag"))
SOURCES = [path.read_text(encoding="utf-8") for path in EXAMPLES]
LINES = [line for text in SOURCES for line in text.splitlines() if line.strip()]
TOKEN = re.compile(r"\d+'?|[A-Za-z_]\w*|>>|->|\*\*|\S")
#: text worth inserting: the language's own tokens, plus digits, junk and look-alike characters
SNIPPETS = ["{", "}", "(", ")", "[", "]", ",", "'", ">>", "->", "@", "⊗", "∘", "*", "**", "/", "^", "-", "+",
            "=", ":", "n", "0", "1", "2'", "99999", "0.5", "1.2.3", "id", "swap", "cap", "cup", "learn(",
            "group", "diagram", "morphism", "layer", "network", "relu", "#", "\n", " ", "→", "é", "\x00",
            "\t", "\ufeff", "1e5", "{}", "n^-1", "** 9", "(((", ")))", "group O\n", "group Sp(3)\n"]


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits of ``text``."""
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(_EDITS)(text, rng)
    return text


def _delete_chars(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + text[i + rng.randint(1, 4):]


def _insert(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(SNIPPETS) + text[i:]


def _duplicate_chars(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text) + 1)
    return text[:i] + text[i:i + rng.randint(1, 6)] * rng.randint(2, 3) + text[i:]


def _token_edit(text: str, rng: random.Random) -> str:
    tokens = list(TOKEN.finditer(text))
    if not tokens:
        return text
    tok = rng.choice(tokens)
    other = rng.choice(tokens).group()
    replacement = rng.choice(["", other, tok.group() + " " + tok.group(), other + " " + tok.group()])
    return text[:tok.start()] + replacement + text[tok.end():]


def _splice_lines(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines) + 1)
    choice = rng.random()
    if choice < 0.4:
        lines.insert(i, rng.choice(LINES))
    elif choice < 0.7 and lines:
        del lines[min(i, len(lines) - 1)]
    elif lines:
        j = rng.randrange(len(lines))
        lines[min(i, len(lines) - 1)], lines[j] = lines[j], lines[min(i, len(lines) - 1)]
    return "\n".join(lines) + "\n"


_EDITS = [_delete_chars, _insert, _duplicate_chars, _token_edit, _token_edit, _splice_lines]


def sample_program(rng: random.Random) -> str:
    """A whole example (one time in four) or a window of a few of its lines, to keep runs fast."""
    text = rng.choice(SOURCES)
    if rng.random() < 0.25:
        return text
    lines = text.splitlines()
    start = rng.randrange(len(lines))
    window = lines[start:start + rng.randint(1, 8)]
    header = [line for line in lines if line.startswith("group")]
    return "\n".join(header[:rng.randint(0, 1)] + window) + "\n"


def run_fuzz(count: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    outcomes = {"ok": 0, "error": 0}
    for i in range(count):
        text = mutate(sample_program(rng), rng)
        try:
            catnn.compile(text, filename=f"mutant{i}.diag")
            outcomes["ok"] += 1
        except CatnnError as err:
            message = str(err)  # formatting the message must not fail either
            assert message and "Traceback" not in message
            outcomes["error"] += 1
        except Exception as err:  # pragma: no cover - a failure shows the program that broke
            raise AssertionError(f"mutation {i} raised {type(err).__name__}: {err}\n--- program ---\n{text}") from err
    return outcomes


def test_examples_exist():
    assert len(SOURCES) >= 4


def test_fuzz_mutations():
    outcomes = run_fuzz(10_000, seed=12345)  # about 12 s
    # the mutations must exercise both paths: many programs still compile, most break
    assert outcomes["ok"] > 1_000 and outcomes["error"] > 5_000, outcomes


@pytest.mark.slow
def test_fuzz_mutations_slow():
    outcomes = run_fuzz(50_000, seed=2718)
    assert outcomes["ok"] > 5_000 and outcomes["error"] > 25_000, outcomes
