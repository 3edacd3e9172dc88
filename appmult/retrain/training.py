"""Training, calibration and evaluation loops on in-memory tensors (used by the demo)."""

from __future__ import annotations

import random
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["calibrate", "evaluate", "seed_everything", "train_epoch"]


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
) -> tuple[float, float]:
    """One pass over shuffled mini-batches with cross-entropy loss.

    Returns the seconds it took and the mean training loss over its batches
    (weighted by batch size). ``generator`` (a CPU generator) fixes the
    shuffling, so two runs given equally seeded generators see the same
    batches in the same order.
    """
    model.train()
    order = torch.randperm(len(labels), generator=generator).to(images.device)
    _synchronize(images.device)
    start = time.perf_counter()
    total = torch.zeros((), device=images.device)
    for first in range(0, len(labels), batch_size):
        batch = order[first : first + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images[batch]), labels[batch])
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(batch)
    _synchronize(images.device)
    return time.perf_counter() - start, float(total) / max(1, len(labels))


@torch.no_grad()
def calibrate(model: nn.Module, images: torch.Tensor, batch_size: int, batches: int) -> None:
    """Run ``batches`` training-mode forward passes without updating weights.

    This sets the activation ranges of approximate layers (their moving
    averages) before the first evaluation. The model is left in eval mode.
    """
    model.train()
    for index in range(batches):
        batch = images[index * batch_size : (index + 1) * batch_size]
        if len(batch) == 0:
            break
        model(batch)
    model.eval()


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 500) -> float:
    """Top-1 accuracy in [0, 1], in eval mode."""
    model.eval()
    correct = 0
    for first in range(0, len(labels), batch_size):
        logits = model(images[first : first + batch_size])
        correct += int((logits.argmax(1) == labels[first : first + batch_size]).sum())
    return correct / max(1, len(labels))
