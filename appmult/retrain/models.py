"""The networks the retraining benchmark and ``tune-hws`` train, by name.

Every ``Conv2d`` and ``Linear`` layer is a candidate for :func:`appmult.retrain.convert`.
Inputs are float [B, 1, S, S]; outputs are logits [B, classes].
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from appmult.core.errors import ParameterError

__all__ = ["NETWORKS", "DeepCNN", "SmallCNN", "build_network", "check_network"]


class SmallCNN(nn.Module):
    """Two 3x3 convolutions (each followed by ReLU and 2x2 max pooling) and one linear classifier.

    S >= 4 (pooling rounds down: 14 -> 7 -> 3).
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


class DeepCNN(nn.Module):
    """Six 3x3 convolutions in three stages (16, 32, 32 channels; 2x2 max pooling after the
    first two) and one linear classifier: seven layers on the multiplier, the deepest stack the
    benchmark uses to let errors compound. S >= 4 (pooling rounds down: 14 -> 7 -> 3).
    """

    def __init__(
        self, image_size: int, classes: int = 10, channels: tuple[int, int, int] = (16, 32, 32)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 1
        for stage, width in enumerate(channels):
            layers += [nn.Conv2d(previous, width, 3, padding=1), nn.ReLU()]
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
            if stage < 2:
                layers.append(nn.MaxPool2d(2))
            previous = width
        self.features = nn.Sequential(*layers)
        side = image_size // 4
        self.classifier = nn.Linear(channels[-1] * side * side, classes)

    def forward(self, x):  # noqa: ANN001, ANN201
        return self.classifier(self.features(x).flatten(1))


#: Network name -> constructor taking (image_size, classes).
NETWORKS: dict[str, Callable[[int, int], nn.Module]] = {"small": SmallCNN, "deep": DeepCNN}


def check_network(name: str) -> str:
    """Return ``name`` if it is one of :data:`NETWORKS`, else raise ParameterError listing them."""
    if name not in NETWORKS:
        raise ParameterError(f"unknown network {name!r}; choose one of {', '.join(NETWORKS)}")
    return name


def build_network(name: str, image_size: int, classes: int) -> nn.Module:
    """A fresh network ``name`` for ``image_size`` x ``image_size`` inputs; the error lists the names."""
    check_network(name)
    if image_size < 4:
        raise ParameterError(f"the {name} network needs images of at least 4 x 4 pixels, got {image_size}")
    return NETWORKS[name](image_size, classes)
