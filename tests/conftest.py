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
    """Seed Python's, numpy's global and (if already importable) torch's generators before each test."""
    random.seed(SEED)
    np.random.seed(SEED)
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch  # noqa: F401  (only seeded if installed; catnn itself must not need it)
        except ImportError:
            torch = None
    if torch is not None:
        torch.manual_seed(SEED)
    yield


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh seeded numpy Generator for the test."""
    return np.random.default_rng(SEED)
