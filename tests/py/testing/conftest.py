import pytest
import torch


@pytest.fixture(autouse=True)
def _seed() -> None:
    # Deterministic random inputs, so a failure reproduces.
    torch.manual_seed(0)
