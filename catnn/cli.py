"""The ``catnn`` command line: ``catnn basis | check | compile | explain | draw | demo``.

>>> main(["basis", "S", "1", "1", "--n", "3"])
S(3): Hom(V^1, V^1) has dimension 2; spanning set of 2 diagrams, basis of 2
  {1, 1'}
  {1} {1'}
equivariant under 3 random elements of S(3): max error 0
0

Every error is printed as ``catnn: error: ...`` (or with ``FILE:LINE:COL`` and a caret for
programs) and gives exit status 1; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import numpy as np

from .errors import CatnnError

__all__ = ["main", "COMMANDS", "whole", "seconds"]

#: subcommand name -> (help, add-arguments, run); ``run`` returns the exit status
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None]):
    """Register ``run(args) -> int`` as the subcommand ``name``."""
    def wrap(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = (help_text, arguments, run)
        return run
    return wrap


#: ``catnn basis`` checks equivariance densely only up to this many matrix entries
CHECK_LIMIT = 1 << 16
#: the largest value a numeric option takes (orders, sizes, batch and channel widths, samples, seconds)
OPTION_LIMITS = {"order": 1000, "size": 10 ** 9, "width": 10 ** 9, "samples": 10 ** 4, "seconds": 10 ** 6,
                 "seed": 2 ** 32 - 1}


def whole(kind: str, low: int = 1) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``OPTION_LIMITS[kind]``; anything else is a
    usage error (exit status 2, the usage line).

    >>> whole("size")("5")
    5
    >>> whole("size")("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a whole number from 1 to 1000000000, got '0'
    """
    from . import messages
    high = OPTION_LIMITS[kind]

    def parse(text: str) -> int:
        what = f"a whole number from {low} to {high}"
        if not (len(text) <= 20 and text.strip().lstrip("+-").isdigit()):
            raise argparse.ArgumentTypeError(messages.CLI_OPTION.format(what=what, value=text))
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(messages.CLI_OPTION.format(what=what, value=text))
        return value
    parse.__name__ = kind   # argparse names the type in some messages
    return parse


def seconds(text: str) -> float:
    """An argparse ``type``: a finite number of seconds above 0 (not nan, not inf)."""
    import math

    from . import messages
    high = OPTION_LIMITS["seconds"]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= high):
        raise argparse.ArgumentTypeError(messages.CLI_OPTION.format(what=f"a number of seconds above 0, at most "
                                                                         f"{high}", value=text))
    return value


def _basis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("group", help="S, A, O, SO, Sp, ... (aliases such as O(3) accepted)")
    p.add_argument("k", type=whole("order", 0), help="input order")
    p.add_argument("l", type=whole("order", 0), help="output order")
    p.add_argument("--n", type=whole("size"), default=None, help="the size n of the group (default: from the name)")
    p.add_argument("--samples", type=whole("samples"), default=3,
                   help=f"random group elements to check (default 3, at most {OPTION_LIMITS['samples']})")


@command("basis", "print a spanning set and basis of Hom_G(V^k, V^l) and check equivariance", _basis_args)
def _basis(args: argparse.Namespace) -> int:
    from . import messages
    from .groups import group
    G = group(args.group, n=args.n)
    if G.n is None:
        example = next(n for n in range(5, 64) if G.valid_size(n))   # Sp needs an even n
        raise CatnnError(messages.CLI_NEEDS_N.format(group=G.name, n=example))
    n = G.require_n("basis")
    spanning, basis = G.spanning_set(args.k, args.l), G.basis(args.k, args.l)
    print(f"{G}: Hom(V^{args.k}, V^{args.l}) has dimension {G.dimension(args.k, args.l)}; "
          f"spanning set of {len(spanning)} diagrams, basis of {len(basis)}")
    for d in basis:
        print(f"  {d}")
    size = n ** (args.k + args.l)
    if size > CHECK_LIMIT:      # dense checks cost (basis size) x n^(k+l): say so rather than hang
        print(f"equivariance not checked: each matrix has n^(k+l) = {size} entries (limit {CHECK_LIMIT})")
        return 0
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(args.samples):
        g = G.sample(rng)
        gk, gl = _kron_power(g, args.k, n), _kron_power(g, args.l, n)
        for d in basis:
            w = G.matrix(d).astype(float)
            worst = max(worst, float(np.abs(w @ gk - gl @ w).max(initial=0.0)))
    print(f"equivariant under {args.samples} random elements of {G}: max error {worst:.3g}")
    return 0


def _kron_power(g: np.ndarray, k: int, n: int) -> np.ndarray:
    out = np.ones((1, 1))
    for _ in range(k):
        out = np.kron(out, g)
    return out


#: the main --help's closing lines
EXAMPLES = """examples:
  catnn demo                                 compile the examples, train a graph network (about a minute)
  catnn check model.diag                     check a program; errors point at FILE:LINE:COL with a caret
  catnn compile model.diag -o model_diag.py  write a standalone torch module
  catnn explain model.diag --n 32            print the plans: steps, shapes, costs against dense
  catnn draw model.diag -o model.svg         draw the diagrams
  catnn basis "S(5)" 2 2                     a basis of the S_5-equivariant maps on n x n matrices

'catnn COMMAND --help' describes each command. Exit status: 0 ok, 1 error, 2 bad usage."""


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every registered subcommand."""
    from . import __version__
    parser = argparse.ArgumentParser(prog="catnn", description="String diagrams compiled to equivariant tensor code.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"catnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 error, 2 usage)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CatnnError as err:
        text = str(err)
        print(text if err.span is not None else f"catnn: error: {text}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("catnn: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug in catnn: say so in one line, never a traceback
        print(f"catnn: internal error: {type(err).__name__}: {err} (please report this)", file=sys.stderr)
        return 1


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE.diag", help="programs to check")
    p.add_argument("-q", "--quiet", action="store_true", help="print only 'ok' or the errors")


@command("check", "parse and check .diag programs: 'ok' with a summary, or the errors (exit status 1)",
         _check_args)
def _check(args: argparse.Namespace) -> int:
    from .api import load
    status = 0
    for path in args.files:
        try:
            program = load(path)
        except CatnnError as err:
            print(str(err) if err.span is not None else f"catnn: error: {err}", file=sys.stderr)
            status = 1
            continue
        if not args.quiet:
            count = len(program)
            assumed = " (assumed: the program has no group line)" if getattr(program, "group_assumed", False) else ""
            sorts = getattr(program, "sorts", None)      # a product with named sorts: points: S(n) x space: O(3)
            group = " x ".join(f"{sort}: {factor}" if sort else str(factor)
                               for sort, factor in zip(sorts, program.group.factors)) if sorts else program.group
            print(f"{path}: {group}{assumed}, {count} definition{'' if count == 1 else 's'}")
            for line in program.summary():
                print(f"  {line}")
        print("ok" if len(args.files) == 1 else f"ok: {path}")
    return status


def _draw_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.diag", help="the program whose definitions to draw")
    p.add_argument("-o", "--output", metavar="OUT.svg|OUT.png", default=None,
                   help="where to write the drawing (default: FILE.svg beside the program; '-' for SVG "
                        "on standard output; .png needs matplotlib, pip install 'catnn[draw]')")
    p.add_argument("--name", metavar="DEF", action="append", default=None,
                   help="draw only this definition (repeat for several; default: all, in source order)")


@command("draw", "draw a program's diagrams, morphisms, layers and networks as SVG or PNG", _draw_args)
def _draw(args: argparse.Namespace) -> int:
    import os

    from . import draw, messages
    from .api import load
    output = args.output or os.path.splitext(args.file)[0] + ".svg"
    fmt = "svg" if output == "-" else draw.output_format(output)   # refuse a bad name before any work
    if output != "-":
        from .files import check_output
        check_output(output, args.file, messages.DRAW_SAME_FILE)
    program = load(args.file)
    names = args.name or list(program.definitions)
    for name in names:
        if name not in program.definitions:
            known = ", ".join(program.definitions) or "none"
            raise CatnnError(messages.DRAW_NO_DEFINITION.format(name=name, known=known))
    if not names:
        raise CatnnError(messages.DRAW_NOTHING.format(path=args.file))
    data = draw.render(draw.layout_program(program, names), fmt)
    if output == "-":
        sys.stdout.write(data.decode("utf-8"))
        return 0
    draw.write(data, output)
    print(f"wrote {output} ({len(names)} definition{'' if len(names) == 1 else 's'})")
    return 0


# >>> catnn compiler/runtime (issue 4): `catnn compile` and `catnn explain`
def _compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.diag", help="the program to compile")
    p.add_argument("-o", "--output", metavar="OUT.py", help="the module to write (default: FILE_diag.py)")
    p.add_argument("--backend", choices=("torch", "einsum"), default="torch",
                   help="torch (native ops, default) or einsum (opt_einsum expressions)")


@command("compile", "compile a .diag program to a standalone Python module (imports torch only)", _compile_args)
def _compile(args: argparse.Namespace) -> int:
    from . import messages
    from .api import load
    from .compiler.write import write_module
    from .files import check_output, write_atomic
    output = args.output or _default_output(args.file)
    check_output(output, args.file, messages.COMPILE_SAME_FILE)
    program = load(args.file)
    try:
        write_atomic(output, write_module(program, backend=args.backend))
    except OSError as err:
        raise CatnnError(messages.FILE_UNWRITABLE.format(path=output, reason=err.strerror or err)) from None
    print(f"wrote {output}")
    return 0


def _default_output(path: str) -> str:
    import os
    root, ext = os.path.splitext(path)
    return f"{root}_diag.py" if ext == ".diag" else f"{path}.py"


def _explain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE.diag", help="the program whose plans to print")
    p.add_argument("--n", type=whole("size"), default=None,
                   help="the size n for the costs (default: the group's n, else 16; a program with a fixed n "
                        "accepts only that n)")
    p.add_argument("--batch", type=whole("width"), default=1, help="batch size for the costs (default 1)")
    p.add_argument("--channels", type=whole("width"), default=1,
                   help="channel widths for layers used outside a network (default 1)")


@command("explain", "print the plan of every morphism, layer and network stage of a .diag program", _explain_args)
def _explain(args: argparse.Namespace) -> int:
    from . import messages
    from .api import load
    from .compiler.write import explain_program
    program = load(args.file)
    fixed = getattr(program.group, "n", None)   # a product has one size per sort: --n sets the free ones
    if args.n is not None and fixed is not None and args.n != fixed:
        raise CatnnError(messages.EXPLAIN_FIXED_N.format(n=fixed, group=program.group, given=args.n))
    print(explain_program(program, n=args.n, batch=args.batch, channels=args.channels))
    return 0
# <<< catnn compiler/runtime (issue 4)


# >>> the demo (issue 7)
def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=seconds, default=40.0,
                   help="training time of the S_n network in seconds (default 40; the baseline then takes "
                        "the same number of optimiser steps)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of every step (small data, 40 training steps: too short to learn much)")
    p.add_argument("--seed", type=whole("seed", 0), default=0, help="seed for the data and the initial weights (default 0)")


@command("demo", "compile the bundled examples, print a plan, and train an S_n graph network to count "
                 "triangles against a message-passing baseline (about a minute on CPU)", _demo_args)
def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo
    return run_demo(seconds=args.seconds, quick=args.quick, seed=args.seed)
# <<< the demo (issue 7)
