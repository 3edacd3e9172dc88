"""An artifact's tables as torch buffers, shared by every layer that uses the multiplier."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from appmult.core.artifact import Artifact
from appmult.core.artifact_file import SEPARABLE_FACTORS, load
from appmult.core.errors import ParameterError
from appmult.core.gradient import AxesGradient, Gradient, GradientTable
from appmult.lutgen.methods import STE, get_method, recommended_method
from appmult.retrain.lut_matmul import DEFAULT_CHUNK_ELEMENTS, lut_matmul
from appmult.retrain.quantize import QuantSpec

__all__ = ["LutMultiplier", "check_gradient"]

#: The tables a full-table gradient keeps as buffers.
_TABLES = ("d_a", "d_b")


def check_gradient(gradient: str) -> str:
    """Return ``gradient`` if it names a gradient method (:mod:`appmult.lutgen.methods`), else raise."""
    return get_method(gradient).name


def _buffers(gradient: Gradient) -> tuple[str, ...]:
    """The arrays of ``gradient`` the backward reads: none (exact), the tables, or the factors."""
    if isinstance(gradient, AxesGradient):
        return ()
    return _TABLES if isinstance(gradient, GradientTable) else SEPARABLE_FACTORS


class LutMultiplier(nn.Module):
    """Product table and gradient tables of one approximate multiplier.

    Buffers (not saved in ``state_dict``; they come from the artifact):
    ``product`` float32 [Na, Nb] (integer values, exact in float32 for
    every tabulable width); per gradient group ``NAME`` of the artifact,
    ``NAME_d_a`` and ``NAME_d_b`` float32 [Na, Nb] for full tables (LUT-2D),
    or ``NAME_u_a``, ``NAME_u_b`` [R, Na] and ``NAME_v_a``, ``NAME_v_b`` [R, Nb]
    for separable factors (LUT-1D). The exact multiplier's gradient (STE)
    needs no table: dAM/da = b and dAM/db = a are the codes themselves.

    Operand a is the activation, b the weight. ``spec_a``/``spec_b`` give the
    integer range each is quantized to.
    """

    def __init__(self, artifact: Artifact, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> None:
        super().__init__()
        artifact.require_table(
            "the retraining forward (AM(x, w) looked up for every operand pair of a layer)",
            "use its LUT-1D factors in your framework's own forward (docs/wide-operands.md)",
        )
        self.name = artifact.name
        self.spec_a = QuantSpec(artifact.width_a, artifact.signed_a)
        self.spec_b = QuantSpec(artifact.width_b, artifact.signed_b)
        self.offset_a = int(artifact.operand_a[0])
        self.offset_b = int(artifact.operand_b[0])
        self.max_abs_product = int(np.abs(artifact.product.astype(np.int64)).max())
        if self.max_abs_product >= 1 << 24:
            raise ParameterError(
                f"{artifact.name}: product values up to {self.max_abs_product} are not exact in float32"
            )
        self.chunk_elements = int(chunk_elements)
        product = torch.from_numpy(artifact.product.astype(np.float32))
        self.register_buffer("product", product, persistent=False)
        self._tables: dict[str, tuple[str, ...]] = {
            name: _buffers(gradient) for name, gradient in artifact.gradients.items()
        }
        self.gradients: tuple[str, ...] = tuple(self._tables)
        #: The method ``appmult tune-hws`` recommended ("" without a record): what gradient "auto" means.
        self.recommended = artifact.tuning.recommended if artifact.tuning is not None else ""
        for name, labels in self._tables.items():
            for label in labels:
                array = np.asarray(getattr(artifact.gradients[name], label), dtype=np.float32).copy()
                self.register_buffer(f"{name}_{label}", torch.from_numpy(array), persistent=False)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
    ) -> LutMultiplier:
        """Load the artifact at ``path`` (see :func:`appmult.core.artifact_file.load`)."""
        return cls(load(path), chunk_elements=chunk_elements)

    def resolve(self, gradient: str) -> str:
        """``gradient``, with ``auto`` replaced by the recommended method (ParameterError without one)."""
        return check_gradient(recommended_method(gradient, self.recommended))

    def require(self, gradient: str) -> None:
        """Raise ParameterError if this multiplier has no table for ``gradient``."""
        check_gradient(gradient)
        if gradient != STE.name and gradient not in self.gradients:
            raise ParameterError(
                f"{self.name}: the artifact has no /grad/{gradient} tables; run `appmult lutgen` on it first"
            )

    def matmul(self, x: torch.Tensor, w: torch.Tensor, gradient: str) -> torch.Tensor:
        """``sum_k AM(x[m, k], w[k, n])`` for codes x [M, K], w [K, N]; see :func:`lut_matmul`."""
        labels = self._tables.get(gradient, ())
        tables = {label: getattr(self, f"{gradient}_{label}") for label in labels}
        return lut_matmul(
            x,
            w,
            self.product,
            d_a=tables.get("d_a"),
            d_b=tables.get("d_b"),
            factors=tuple(tables[label] for label in labels) if labels == SEPARABLE_FACTORS else None,
            offset_a=self.offset_a,
            offset_b=self.offset_b,
            max_abs_product=self.max_abs_product,
            chunk_elements=self.chunk_elements,
        )

    def extra_repr(self) -> str:
        kind = lambda s: f"{s.width}-bit {'signed' if s.signed else 'unsigned'}"  # noqa: E731
        return f"name={self.name!r}, a={kind(self.spec_a)}, b={kind(self.spec_b)}, gradients={self.gradients}"
