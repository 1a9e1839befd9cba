"""Shared pytest setup: every test starts from the same random state.

The ``slow`` and ``gpu`` markers are declared in pyproject.toml; nothing is registered here.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest

SEED = 1234


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed Python's and numpy's global generators, and torch's, before each test.

    torch is seeded when a test module has imported it (tests that need torch import it at module
    level, so it is in ``sys.modules`` before this fixture runs); importing it here would cost every
    run seconds and hide an accidental ``import torch`` in catnn from the packaging test.
    """
    random.seed(SEED)
    np.random.seed(SEED)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(SEED)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh seeded numpy Generator for the test."""
    return np.random.default_rng(SEED)


@pytest.fixture(scope="module")
def torch_one_thread():
    """One torch thread for a module: its tiny float64 matmuls stall in a busy OpenMP pool."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
