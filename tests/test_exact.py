"""Exact coefficients: compiled modules and in-memory objects evaluate each coefficient exactly at the
run's n and round once; a coefficient that does not fit the dtype is a clear error naming the definition.

Oracles: the coefficient computed here with :class:`fractions.Fraction` straight from the program text,
and dense products written out from the diagrams' definitions.
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction

import pytest
import torch

import catnn
from catnn.api import InMemoryModule
from catnn.compiler.write import write_module
from catnn.compiler.pysource import coefficient_table, table_source
from catnn.errors import CatnnError, RangeError

PROGRAM = """\
group S
morphism fifth = (n - 1000)^5 / 7 * swap
morphism cubic = (n - 1001)^3 / 3 * id(1) + (n^2 - 2002 * n + 1001^2) * (counit >> unit)
morphism scalar = (n - 10^9)^3 / 3 * id(0)
morphism big = n^60 * id(1)
morphism huge = 10^400 * id(1)
morphism wide = n^20 * id(1)
layer q : 1 -> 1 = learn((n - 1000)^5 / 7 * id(1), id(1) - (n - 1001)^3 * (counit >> unit))
layer h : 1 -> 1 = learn(n^60 * id(1))
layer b : 1 @ 1 -> 1 = learn((n - 1000)^5 / 7 * {1, 1', 2'}, {1, 2'} {1'})
"""

#: the coefficients above, written out with Fractions
FIFTH = Fraction(1001 - 1000) ** 5 / 7


@pytest.fixture(scope="module")
def program():
    return catnn.compile(PROGRAM, "exact.diag")


@pytest.fixture(scope="module", params=["torch", "einsum"])
def module(request, program, tmp_path_factory):
    path = tmp_path_factory.mktemp(request.param) / f"exact_{request.param}.py"
    path.write_text(write_module(program, backend=request.param))
    spec = importlib.util.spec_from_file_location(f"exact_{request.param}", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return request.param, loaded


def both(program, module, name):
    """The compiled and the in-memory object of a definition (same backend)."""
    backend, loaded = module
    return getattr(loaded, name), getattr(InMemoryModule(program, backend), name)


def test_cancelling_polynomial_on_a_swap(program, module):
    """(n - 1000)^5 / 7 at n = 1001 is 1/7 (term-by-term floats gave 0.15625)."""
    x = torch.randn(2, 1001, 1001, dtype=torch.float64)
    expected = x.transpose(-1, -2) * float(FIFTH)
    for f in both(program, module, "fifth"):
        torch.testing.assert_close(f(x), expected, rtol=1e-15, atol=0)


def test_cancelling_polynomials_with_a_sum(program, module):
    """cubic at n = 1001: (n-1001)^3/3 and (n-1001)^2 both vanish, so the map is zero exactly."""
    x = torch.randn(3, 1001, dtype=torch.float64)
    for f in both(program, module, "cubic"):
        assert torch.equal(f(x), torch.zeros_like(x))
    x = torch.randn(3, 1004, dtype=torch.float64)
    c1, c2 = Fraction(3) ** 3 / 3, Fraction(1004 - 1001) ** 2
    expected = float(c1) * x + float(c2) * x.sum(-1, keepdim=True)
    for f in both(program, module, "cubic"):
        torch.testing.assert_close(f(x), expected, rtol=1e-14, atol=1e-9)


def test_cancelling_polynomial_at_a_billion(program, module):
    """(n - 10^9)^3 / 3 at n = 10^9 + 1 is 1/3 (term-by-term floats gave 6.87e10); a 0 -> 0 map."""
    x = torch.ones(4, dtype=torch.float64)
    for f in both(program, module, "scalar"):
        torch.testing.assert_close(f(x, n=10**9 + 1), x / 3, rtol=1e-15, atol=0)


def test_coefficient_beyond_float64_names_the_definition(program, module):
    for name, n in (("big", 10**6), ("huge", 3)):
        compiled, memory = both(program, module, name)
        x = torch.ones(2, n, dtype=torch.float64)
        with pytest.raises(OverflowError, match=f"morphism {name}: coefficient 0 is about 10\\^"):
            compiled(x)
        with pytest.raises(RangeError, match=f"morphism {name}: coefficient 0 is about 10\\^") as info:
            memory(x)
        assert isinstance(info.value, CatnnError)


def test_coefficient_beyond_float32_only(program, module):
    """n^20 at n = 1000 is 1e60: fine in float64 (exactly rounded), an error in float32."""
    for f in both(program, module, "wide"):
        x = torch.ones(1, 1000, dtype=torch.float64)
        assert f(x)[0, 0].item() == float(Fraction(1000) ** 20)
        with pytest.raises(OverflowError, match="morphism wide"):
            f(x.float())


def mixing_oracle(weight, x, coefficients):
    """Σ_j c_j W_j x for a 1 -> 1 layer whose entries are c_j id(1) at this n (the sums vanish)."""
    w = sum(float(c) * weight[j] for j, c in enumerate(coefficients))
    return torch.einsum("oc,bci->boi", w, x)


def test_layer_mixing_is_exact(program, module):
    """learn((n-1000)^5/7 id, id - (n-1001)^3 sum) at n = 1001: W_0 / 7 + W_1, compiled = in memory."""
    backend, loaded = module
    compiled = loaded.q(2, 3).double()
    memory = catnn.nn.EquivariantLinear.from_spec(program.definitions["q"], 2, 3, backend=backend).double()
    with torch.no_grad():
        compiled.bias.zero_()
    memory.load_state_dict(compiled.state_dict())
    x = torch.randn(2, 2, 1001, dtype=torch.float64)
    expected = mixing_oracle(compiled.weight.detach(), x, [FIFTH, 1])
    for layer in (compiled, memory):
        torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_bilinear_mixing_is_exact(program, module):
    """The bilinear writer's mixing (write_network) too: entry 0 is (n-1000)^5/7 x_i y_i at n = 1001."""
    compiled, memory = (f(2, 1).double() for f in both(program, module, "b"))
    x = torch.randn(2, 2, 1001, dtype=torch.float64)
    expected = (x[:, :1] * x[:, :1]) * float(FIFTH)
    for layer in (compiled, memory):
        with torch.no_grad():
            layer.weight.zero_()
            layer.weight[0, 0, 0] = 1.0
            if layer.bias is not None:
                layer.bias.zero_()
        torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_layer_coefficient_overflow_names_the_layer(program, module):
    backend, loaded = module
    memory = catnn.nn.EquivariantLinear.from_spec(program.definitions["h"], 1, 1, backend=backend)
    x = torch.ones(1, 1, 10**6)
    with pytest.raises(OverflowError, match="layer h: coefficient 0"):
        loaded.h(1, 1)(x)
    with pytest.raises(RangeError, match="layer h: coefficient 0"):
        memory(x)


def test_a_coefficient_past_the_float_range_compiles_and_refuses_to_run(tmp_path):
    """learn(10^400 id): the initialisation does not overflow; running says why it cannot."""
    from catnn.cli import main
    source = tmp_path / "big.diag"
    source.write_text("group S\nlayer q : 1 -> 1 = learn(10^400 * id(1))\n")
    assert main(["compile", str(source), "-o", str(tmp_path / "big.py")]) == 0
    layer = catnn.load(source).nn.q(1, 1)
    with pytest.raises(RangeError, match="layer q: coefficient 0 is about 10\\^399 at n=3"):
        layer(torch.ones(1, 1, 3))


def test_table_round_trips_through_fractions():
    """The integer table evaluates (with Fractions, here) to the polynomial's exact value."""
    from catnn.coeff import Poly
    n = Poly.n()
    polys = [(n - 1000) ** 5 / 7, n ** -2 * Fraction(3, 4) - 5, Poly(), Poly.const(10 ** 400) / n]
    table = coefficient_table(polys)
    assert eval(table_source(polys)) == table  # noqa: S307 - our own literal
    for value in (1, 7, 1001, 10**9 + 1):
        for poly, (den, shift, terms) in zip(polys, table):
            exact = sum((Fraction(a) * value ** p for p, a in terms), Fraction(0)) / (den * Fraction(value) ** shift)
            assert exact == sum((c * Fraction(value) ** e for e, c in poly.terms.items()), Fraction(0))


def test_hex_literals_for_long_integers():
    """Integers past 2**64 are hex in the source (Python refuses decimal literals over 4300 digits)."""
    from catnn.coeff import Poly
    text = table_source([Poly.const(-(10 ** 5000))])
    assert "0x" in text and eval(text)[0][2][0][1] == -(10 ** 5000)  # noqa: S307 - our own literal
