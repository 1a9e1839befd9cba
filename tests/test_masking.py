"""Padded variable-size batches: a node mask makes every graph's result equal to running it alone
(to float64 rounding: a batch of one and a padded batch may sum in another order)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.write import write_module
from catnn.errors import CatnnError
from catnn.networks import Bilinear, Gate, MixedLinear, Network, NormNonlinearity, Pointwise, Pool, node_mask
from catnn.nn import EquivariantLinear, ShapeError

SIZES = (3, 6, 1, 4, 5)
N = 7


def padded(rng: np.random.Generator, channels: int, k: int, sizes=SIZES, garbage: float = 100.0):
    """(padded batch with garbage in the padding, mask, the graphs alone)."""
    alone = [torch.from_numpy(rng.standard_normal((1, channels) + (s,) * k)) for s in sizes]
    x = torch.full((len(sizes), channels) + (N,) * k, garbage, dtype=torch.float64)
    mask = torch.zeros(len(sizes), N, dtype=torch.bool)
    for b, (s, t) in enumerate(zip(sizes, alone)):
        x[(b, slice(None)) + (slice(0, s),) * k] = t[0]
        mask[b, :s] = True
    return x, mask, alone


def crop(t: torch.Tensor, s: int, k: int) -> torch.Tensor:
    return t[(slice(None),) + (slice(0, s),) * k]


def padding_of(t: torch.Tensor, s: int, k: int) -> torch.Tensor:
    """The entries of one sample that lie outside its real nodes."""
    keep = torch.zeros(t.shape, dtype=torch.bool)
    keep[(slice(None),) + (slice(0, s),) * k] = True
    return t[~keep]


def randomize(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.5)


def graph_network(name: str) -> Network:
    """Every stage kind, normalize=True wherever a layer has it, sigmoid so that f(0) != 0."""
    G = catnn.group(name)
    if name in ("S", "B"):
        stages = [EquivariantLinear(G, 2, 2, 2, 3, normalize=True), Pointwise("sigmoid") if name == "S" else
                  NormNonlinearity("norm_sigmoid", G, "3*V2"),
                  MixedLinear(G, "3*V2", "2*V0 + 2*V1 + 2*V2", normalize=True), Gate(G, "2*V0 + 2*V1 + 2*V2"),
                  MixedLinear(G, "2*V0 + 2*V1 + 2*V2", "3*V1", normalize=True), Bilinear(G, 1, 1, 2, 3, 2, normalize=True),
                  NormNonlinearity("norm_softplus", G, "2*V2"), EquivariantLinear(G, 2, 1, 2, 2, normalize=True)]
    else:                                            # O(n), H_n: orders of one parity, no pointwise maps on tensors
        stages = [EquivariantLinear(G, 2, 2, 2, 3, normalize=True), NormNonlinearity("norm_sigmoid", G, "3*V2"),
                  MixedLinear(G, "3*V2", "2*V0 + 2*V2", normalize=True), Gate(G, "2*V0 + 2*V2"),
                  MixedLinear(G, "2*V0 + 2*V2", "2*V2", normalize=True),
                  Bilinear(G, 2, 2, 2, 2, 2, normalize=True), EquivariantLinear(G, 2, 2, 2, 2, normalize=True)]
    return Network(G, stages).double()


@pytest.mark.parametrize("name", ["S", "O", "H", "B"])
def test_a_padded_batch_equals_each_graph_alone(name):
    torch.manual_seed(0)
    net = graph_network(name)
    randomize(net)
    k = net.out_space.orders[0]
    x, mask, alone = padded(np.random.default_rng(1), 2, 2)
    y = net(x, mask=mask)
    for b, (s, t) in enumerate(zip(SIZES, alone)):
        single = net(t)[0]
        assert float(single.detach().abs().max()) > 1e-3
        torch.testing.assert_close(crop(y[b], s, k), single, rtol=1e-12, atol=1e-10)
        assert (padding_of(y[b], s, k) == 0).all()          # padding never leaks into outputs


@pytest.mark.parametrize("pool", ["sum", "mean"])
def test_pooled_readouts_respect_the_mask(pool):
    net = Network("S", [EquivariantLinear("S", 2, 2, 2, 3, normalize=True), Pointwise("sigmoid"),
                        MixedLinear("S", "3*V2", "2*V0 + 2*V1"), Pool(pool), EquivariantLinear("S", 0, 0, 4, 2)])
    net = net.double()
    randomize(net)
    x, mask, alone = padded(np.random.default_rng(2), 2, 2)
    y = net(x, mask=mask)
    for b, t in enumerate(alone):
        torch.testing.assert_close(y[b:b + 1], net(t), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("k,l", [(2, 2), (2, 0), (0, 2), (1, 3), (3, 1)])
def test_single_layers_with_a_mask(k, l, normalize, backend):
    layer = EquivariantLinear("S", k, l, 2, 3, normalize=normalize, backend=backend).double()
    randomize(layer)
    rng = np.random.default_rng(3)
    if k:
        x, mask, alone = padded(rng, 2, k)
    else:
        x = torch.from_numpy(rng.standard_normal((len(SIZES), 2)))
        mask = torch.arange(N)[None, :] < torch.tensor(SIZES)[:, None]
        alone = [x[b:b + 1] for b in range(len(SIZES))]
    y = layer(x, mask=mask)
    for b, (s, t) in enumerate(zip(SIZES, alone)):
        single = layer(t) if k else EquivariantLinear("S", 0, l, 2, 3, n=s, normalize=normalize).double()
        if not k:
            single.load_state_dict(layer.state_dict())
            single = single(t)
        torch.testing.assert_close(crop(y[b], s, l), single[0], rtol=1e-12, atol=1e-10)
        assert (padding_of(y[b], s, l) == 0).all()


def test_node_mask_and_mask_errors():
    mask = torch.tensor([[True, False, True]])
    assert node_mask(mask, 2, torch.zeros(1)).squeeze().tolist() == [[1, 0, 1], [0, 0, 0], [1, 0, 1]]
    layer = EquivariantLinear("S", 2, 2, 1, 1)
    with pytest.raises(ShapeError, match="the node mask must be \\(batch, n\\) = \\(2, 4\\) booleans, got shape \\(2, 5\\)"):
        layer(torch.randn(2, 1, 4, 4), mask=torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ShapeError, match="is built for n=4: masks are for layers whose n is left free"):
        EquivariantLinear("S", 2, 2, 1, 1, n=4)(torch.randn(2, 1, 4, 4), mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(CatnnError):
        layer(torch.randn(2, 3, 4, 4), mask=torch.ones(2, 4, dtype=torch.bool))


def test_masks_are_refused_where_diagrams_depend_on_n():
    # SO(n)'s and A_n's diagrams carry Levi-Civita symbols with n legs: a padded graph would need another n
    mask = torch.ones(1, 4, dtype=torch.bool)
    for G in (catnn.group("SO", n=4), catnn.group("A", n=4)):
        with pytest.raises(ShapeError, match="masks are for layers whose n is left free"):
            MixedLinear(G, "2*V2", "2*V2")({2: torch.randn(1, 2, 4, 4)}, mask=mask)


@pytest.mark.parametrize("normalize", [False, True])
def test_sp_masks_keep_whole_pairs_and_equal_each_sample_alone(normalize):
    """Sp(n) with n left free: samples of sizes 2 and 4 padded to 6 equal each sample run alone (J at the
    padded size restricted to whole pairs is the sample's own J); a mask splitting a pair is refused."""
    torch.manual_seed(0)
    layer = MixedLinear("Sp", "2*V1 + 1*V2", "1*V0 + 2*V2", normalize=normalize).double()
    for p in layer.parameters():
        torch.nn.init.normal_(p)
    sizes, N = (2, 4), 6
    x = {1: torch.randn(2, 2, N, dtype=torch.float64), 2: torch.randn(2, 1, N, N, dtype=torch.float64)}
    mask = torch.arange(N)[None, :] < torch.tensor(sizes)[:, None]
    y = layer(x, mask=mask)
    for b, s in enumerate(sizes):
        alone = layer({1: x[1][b:b + 1, :, :s], 2: x[2][b:b + 1, :, :s, :s]})
        torch.testing.assert_close(y[0][b:b + 1], alone[0], rtol=1e-12, atol=1e-10)
        torch.testing.assert_close(y[2][b:b + 1, :, :s, :s], alone[2], rtol=1e-12, atol=1e-10)
        assert (y[2][b, :, s:, :] == 0).all() and (y[2][b, :, :, s:] == 0).all()
    split = torch.tensor([[True, False, True, True, False, False]] * 2)
    with pytest.raises(ShapeError, match="whole symplectic pairs"):
        layer(x, mask=split)


def load(text: str, path):
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compiled_networks_take_the_same_masks(tmp_path):
    prog = catnn.compile("""group S
layer edge : 2 -> 2
layer mix : V2 -> V0 + V1 + V2
layer node : V0 + V1 + V2 -> V1
layer pair : 1 @ 1 -> 2
layer lift : 0 -> 2
network net : 2 -> 0 = edge[2 -> 3] >> sigmoid >> mix[3 -> 2*V0 + 2*V1 + 2*V2] >> gate >> norm_silu
    >> node[2*V0 + 2*V1 + 2*V2 -> 2] >> pair[2 -> 3] >> softplus >> mean >> lift[3 -> 2] >> mean
""")
    module = load(write_module(prog), tmp_path / "masked.py")
    memory = prog.nn.net().double()
    randomize(memory)
    compiled = module.net().double()
    compiled.load_state_dict(memory.state_dict())
    x, mask, alone = padded(np.random.default_rng(5), 2, 2)
    y = memory(x, mask=mask)
    torch.testing.assert_close(compiled(x, mask=mask), y, rtol=0, atol=0)
    for b, t in enumerate(alone):
        torch.testing.assert_close(y[b:b + 1], memory(t), rtol=1e-12, atol=1e-10)
        torch.testing.assert_close(compiled(t), memory(t), rtol=0, atol=0)
