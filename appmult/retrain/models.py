"""The small CNN the retraining demo uses."""

from __future__ import annotations

from torch import nn

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Two 3x3 convolutions (each followed by ReLU and 2x2 max pooling) and one linear classifier.

    Input float [B, 1, S, S] with S divisible by 4; output logits [B, classes].
    Every Conv2d and Linear layer is a candidate for :func:`appmult.retrain.convert`.
    """

    def __init__(self, image_size: int, classes: int = 10, channels: tuple[int, int] = (8, 16)) -> None:
        super().__init__()
        first, second = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, first, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(first, second, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = image_size // 4
        self.classifier = nn.Linear(second * side * side, classes)

    def forward(self, x):  # noqa: ANN001, ANN201
        return self.classifier(self.features(x).flatten(1))
