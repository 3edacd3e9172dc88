"""The gradient methods of stage 2: one registry, name -> how the estimate is built.

Each :class:`GradientMethod` is one group ``/grad/<name>`` an artifact can
hold. Every other list of gradient names (the command line's ``--methods``,
``--gradient`` and ``--kinds`` choices, the consumer's kinds, the plots'
colours) is derived from :data:`METHODS`; a test fails if a name is spelled
out anywhere else. Adding a method is one record here and its builder.

The builders receive the artifact and :class:`GradientParameters` whose
half-windows are already resolved to integers (see
:func:`appmult.lutgen.gradients.gradient_tables`, which applies the default
rules and checks every parameter before anything is computed). A wide
artifact, which has no table, is served by a method's ``stream`` builder,
which also receives the rows of its table (:mod:`appmult.lutgen.streamed`)
and how to run a pass over them; a method without one needs the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from appmult.core.artifact import Artifact
from appmult.core.errors import ArtifactError, ParameterError
from appmult.core.executor import Job
from appmult.core.gradient import AxesGradient, Gradient, GradientTable, SeparableGradient
from appmult.lutgen.estimators import (
    DEFAULT_FORM,
    DEFAULT_RANK,
    EDGE_SIGNED,
    EDGE_UNSIGNED,
    FORMS,
    HWS_FORMS,
    lut1d,
    lut2d,
)
from appmult.lutgen.streamed import ProductRows, streamed_lut1d

__all__ = [
    "LUT1D",
    "LUT2D",
    "METHODS",
    "NAMES",
    "RECOMMENDED",
    "STE",
    "GradientMethod",
    "GradientParameters",
    "get_method",
    "gradient_of",
    "in_registry_order",
    "kind_label",
    "parse_kind",
    "parse_methods",
    "recommended_method",
]


@dataclass(frozen=True)
class GradientParameters:
    """The estimators' parameters, as they travel from the command line to a builder.

    ``hws_a``, ``hws_b``
        LUT-2D half-windows (in operand steps) along a and b, also used by
        the LUT-1D forms ``separable`` and ``mean``: an int >= 1, ``"auto"``
        (the one ``appmult tune-hws`` recorded) or None (the default rule).
    ``form``
        The LUT-1D form (:data:`appmult.lutgen.estimators.FORMS`).
    ``rank``
        Terms of the ``separable`` LUT-1D form (1 .. 8); the other forms have rank 1.
    ``hws_rule``
        How resolved half-windows were chosen (:mod:`appmult.lutgen.half_window`);
        set when they are resolved, recorded by the builders as ``hws_rule``.
    ``window``
        How LUT-2D (and the LUT-1D forms built on it) apply the half-windows:
        ``fixed`` (DATE 2025) or ``adaptive`` (grown per line until close to
        STE; :func:`appmult.lutgen.estimators.lut2d`). A table built with the
        adaptive window records ``window``.
    """

    hws_a: int | str | None = None
    hws_b: int | str | None = None
    form: str = DEFAULT_FORM
    rank: int = DEFAULT_RANK
    hws_rule: str | None = None
    window: str = "fixed"


@dataclass(frozen=True)
class GradientMethod:
    """One gradient method: its group name, how tables and plots show it, and its builder.

    ``build(artifact, parameters)`` returns the estimate with its parameters
    in ``attrs``; ``uses_hws(parameters)`` says whether it needs half-windows
    (so the default rules and checks run only when they matter);
    ``stream(artifact, parameters, rows, run)`` builds it for a wide artifact
    from a :class:`~appmult.lutgen.streamed.ProductRows` source and a pass
    runner (None: the method needs the table).
    """

    name: str
    label: str
    colour: str
    build: Callable[[Artifact, GradientParameters], Gradient]
    uses_hws: Callable[[GradientParameters], bool]
    description: str
    stream: (
        Callable[[Artifact, GradientParameters, ProductRows, Callable[[Sequence[Job]], list]], Gradient]
        | None
    ) = None

    def kind_label(self, parameters: GradientParameters) -> str:
        """``STE``, ``LUT-2D``, ``LUT-1D separable r2``, ``LUT-1D mean``: one table row's name."""
        if self is not LUT1D:
            return self.label
        if parameters.form == "separable":
            return f"{self.label} {parameters.form} r{parameters.rank}"
        return f"{self.label} {parameters.form}"


def _build_ste(artifact: Artifact, parameters: GradientParameters) -> Gradient:
    return AxesGradient(artifact.operand_a, artifact.operand_b)


def _build_lut2d(artifact: Artifact, parameters: GradientParameters) -> Gradient:
    signed = artifact.output_signed
    d_a, d_b = lut2d(
        artifact.product, parameters.hws_a, parameters.hws_b, signed=signed, window=parameters.window,
        operand_a=artifact.operand_a, operand_b=artifact.operand_b,
    )  # fmt: skip
    attrs = {
        "hws_a": parameters.hws_a,
        "hws_b": parameters.hws_b,
        "hws_rule": parameters.hws_rule or "given",
        "edge": EDGE_SIGNED if signed else EDGE_UNSIGNED,
        **_window_attrs(parameters),
    }
    return GradientTable(d_a=d_a, d_b=d_b, attrs=attrs)


def _window_attrs(parameters: GradientParameters) -> dict[str, object]:
    """``{"window": "adaptive"}`` for a table built with the adaptive window; nothing for the fixed one."""
    return {} if parameters.window == "fixed" else {"window": parameters.window}


def _lut1d_parameters(parameters: GradientParameters) -> tuple[str, int, int, int]:
    """``(form, rank, hws_a, hws_b)`` as the LUT-1D group records them (0: no half-window)."""
    form = parameters.form
    hws_a, hws_b = (parameters.hws_a, parameters.hws_b) if form in HWS_FORMS else (0, 0)
    return form, parameters.rank if form == "separable" else 1, hws_a, hws_b


def _stream_lut1d(
    artifact: Artifact,
    parameters: GradientParameters,
    rows: ProductRows,
    run: Callable[[Sequence[Job]], list],
) -> Gradient:
    form, rank, hws_a, hws_b = _lut1d_parameters(parameters)
    factors, record = streamed_lut1d(
        rows, artifact.operand_a, artifact.operand_b, form, rank=rank, hws_a=hws_a, hws_b=hws_b,
        signed=artifact.output_signed, run=run,
    )  # fmt: skip
    attrs = {"form": form, "rank": rank, "hws_a": hws_a, "hws_b": hws_b, "streamed": True, **record}
    return SeparableGradient(*factors, attrs=attrs)


def _build_lut1d(artifact: Artifact, parameters: GradientParameters) -> Gradient:
    form, rank, hws_a, hws_b = _lut1d_parameters(parameters)
    factors = lut1d(
        artifact.product,
        artifact.operand_a,
        artifact.operand_b,
        form,
        rank=rank,
        hws_a=hws_a,
        hws_b=hws_b,
        signed=artifact.output_signed,
        window=parameters.window,
    )
    attrs = {"form": form, "rank": rank, "hws_a": hws_a, "hws_b": hws_b}
    if form in HWS_FORMS:
        attrs["hws_rule"] = parameters.hws_rule or "given"
        attrs.update(_window_attrs(parameters))
    return SeparableGradient(*factors, attrs=attrs)


STE = GradientMethod(
    name="ste",
    label="STE",
    colour="black",
    build=_build_ste,
    uses_hws=lambda parameters: False,
    description="the exact multiplier's gradient, dAM/da = b, dAM/db = a (straight-through estimator)",
    stream=lambda artifact, parameters, rows, run: _build_ste(artifact, parameters),
)
LUT2D = GradientMethod(
    name="lut2d",
    label="LUT-2D",
    colour="tab:blue",
    build=_build_lut2d,
    uses_hws=lambda parameters: True,
    description="moving average, then central differences, full tables (Meng et al., DATE 2025)",
)
LUT1D = GradientMethod(
    name="lut1d",
    label="LUT-1D",
    colour="tab:orange",
    build=_build_lut1d,
    uses_hws=lambda parameters: parameters.form in HWS_FORMS,
    description="separable factors of the LUT-2D table, or other-operand reductions",
    stream=_stream_lut1d,
)

#: The kind meaning "the method ``appmult tune-hws`` recommended for this artifact".
RECOMMENDED = "auto"

#: Every gradient method, by name, in the order they are computed, listed and plotted.
METHODS: dict[str, GradientMethod] = {method.name: method for method in (STE, LUT2D, LUT1D)}
#: Their names, in that order.
NAMES: tuple[str, ...] = tuple(METHODS)


def recommended_method(name: str, recommended: str) -> str:
    """``name``, or for :data:`RECOMMENDED` the recommendation ``recommended`` of a tuning record.

    ``recommended`` is empty when the artifact has no record with a
    recommendation; :data:`RECOMMENDED` then raises ParameterError saying
    how to get one.
    """
    if name != RECOMMENDED:
        return name
    if not recommended:
        raise ParameterError(
            f"gradient {RECOMMENDED!r} uses the kind `appmult tune-hws` recommends, and this artifact has no "
            "such recommendation; run appmult tune-hws on it first, or name a gradient method"
        )
    return get_method(recommended).name


def get_method(name: str) -> GradientMethod:
    """The method called ``name``; ParameterError naming the choices otherwise."""
    try:
        return METHODS[name]
    except KeyError:
        raise ParameterError(f"unknown gradient method {name!r}; choose from {', '.join(NAMES)}") from None


def parse_methods(methods: str | Iterable[str]) -> tuple[str, ...]:
    """Normalize ``"ste,lut2d"`` or ``["ste", "lut2d"]`` to known method names, in registry order.

    Raises :class:`ParameterError` for an unknown or empty selection.
    """
    names = methods.split(",") if isinstance(methods, str) else list(methods)
    chosen = {name.strip() for name in names if name.strip()}
    unknown = sorted(chosen - set(NAMES))
    if unknown:
        raise ParameterError(
            f"unknown gradient method(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}"
        )
    if not chosen:
        raise ParameterError(f"no gradient method given; choose from {', '.join(NAMES)}")
    return tuple(name for name in NAMES if name in chosen)


def parse_kind(item: str) -> tuple[GradientMethod, GradientParameters]:
    """One retraining kind: ``NAME``, or ``LUT1D:FORM`` / ``LUT1D:separable:RANK`` for the LUT-1D forms.

    A LUT-1D kind without a form takes the default form and rank; a form
    without a rank takes the default rank (separable) or 1.
    """
    name, *details = item.strip().split(":")
    method = METHODS.get(name)
    if method is None or (method is not LUT1D and details) or len(details) > 2:
        raise ParameterError(
            f"gradient kind {item!r}: expected one of {', '.join(NAMES)}, "
            f"{LUT1D.name}:FORM, {LUT1D.name}:separable:RANK or {RECOMMENDED}"
        )
    if method is not LUT1D:
        return method, GradientParameters()
    form = details[0] if details else DEFAULT_FORM
    if form not in FORMS:
        raise ParameterError(
            f"gradient kind {item!r}: unknown LUT-1D form {form!r}; choose from {', '.join(FORMS)}"
        )
    try:
        rank = int(details[1]) if len(details) == 2 else (DEFAULT_RANK if form == "separable" else 1)
    except ValueError:
        raise ParameterError(f"gradient kind {item!r}: the rank must be an integer") from None
    return method, GradientParameters(form=form, rank=rank)


def in_registry_order(groups: dict[str, Gradient]) -> dict[str, Gradient]:
    """``groups`` ordered as the registry lists the methods (other names after them, by name)."""
    rank = {name: index for index, name in enumerate(NAMES)}
    return dict(sorted(groups.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def kind_label(name: str, parameters: GradientParameters) -> str:
    """The row label of method ``name`` with ``parameters`` (:meth:`GradientMethod.kind_label`)."""
    return get_method(name).kind_label(parameters)


def gradient_of(artifact: Artifact, name: str) -> Gradient:
    """The group ``name`` of ``artifact``; STE is always available (built from the axes).

    Raises :class:`ArtifactError` for another method the artifact does not hold.
    """
    if name in artifact.gradients:
        return artifact.gradients[name]
    if name == STE.name:
        return STE.build(artifact, GradientParameters())
    have = ", ".join(artifact.gradients) or "none"
    raise ArtifactError(
        f"{artifact.name}: no /grad/{name} group (it holds {have}); run `appmult lutgen` on it"
    )
