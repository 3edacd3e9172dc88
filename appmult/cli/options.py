"""Options and helpers shared by several verbs, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from appmult.characterize.crosscheck import DEFAULT_SAMPLE_PAIRS, DEFAULT_SEED
from appmult.core.executor import (
    DEFAULT_SCHEDULER,
    SCHEDULER_HELP,
    SCHEDULER_METAVAR,
    Interrupted,
    check_scheduler,
)
from appmult.core.progress import ProgressCallback, StderrProgress
from appmult.lutgen.estimators import (
    ADAPTIVE_DEVIATION,
    ADAPTIVE_LARGEST,
    DEFAULT_FORM,
    DEFAULT_RANK,
    FORMS,
    MAX_RANK,
    WINDOWS,
)
from appmult.lutgen.half_window import TUNED
from appmult.lutgen.methods import GradientParameters

__all__ = [
    "comma_list",
    "echo_status",
    "gradient_options",
    "gradient_parameters",
    "half_window",
    "hws_option",
    "netlist_options",
    "progress_for",
    "quiet_option",
    "replaced_notice",
    "report_failures",
    "report_interrupted",
    "require_torch",
    "sample_options",
    "scheduler_options",
    "training_options",
]

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or status lines on stderr.")


def comma_list(text: str | None) -> tuple[str, ...] | None:
    """The non-empty, stripped items of a comma-separated option value; None when it was not given."""
    return tuple(item.strip() for item in text.split(",") if item.strip()) if text else None


def scheduler_options(command: Callable) -> Callable:
    """``--scheduler`` and ``-j/--jobs``, for every verb that runs many independent jobs."""
    command = click.option(
        "-j", "--jobs", "workers", type=int, help="Parallel workers (default: all cores)."
    )(command)
    return click.option(
        "--scheduler",
        default=DEFAULT_SCHEDULER,
        show_default=True,
        metavar=SCHEDULER_METAVAR,
        callback=lambda _ctx, _param, value: check_scheduler(value),
        help=f"Where the jobs run: {SCHEDULER_HELP}.",
    )(command)


_TORCH_MISSING = "{verb} needs PyTorch, which is not installed; install it with: pip install torch==2.13.0"


def require_torch(verb: str) -> None:
    """Raise a ClickException naming the pip command when PyTorch is missing."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise click.ClickException(_TORCH_MISSING.format(verb=verb)) from None


def training_options(command):  # noqa: ANN001, ANN201
    """The options a benchmark and a half-window search share (each default: the variant's)."""
    options = [
        click.option("--data", help="digits, mnist, animal-mnist, an .npz file with x and y arrays, or a "
                     "folder of class folders of images."),
        click.option("--pool", type=int, help="Average POOL x POOL pixel blocks of the images."),
        click.option("--network", help="small (2 conv + linear) or deep (6 conv + linear)."),
        click.option("--layers", help="Layer types on the multiplier, comma-separated: conv, linear."),
        click.option("--epochs", type=int, help="Retraining epochs per run."),
        click.option("--float-epochs", type=int, help="Float training epochs of each seed's start."),
        click.option("--lr", type=float, help="Adam learning rate of retraining."),
        click.option("--float-lr", type=float, help="Adam learning rate of the float training."),
        click.option("--seeds", type=int, help="Number of seeds (float starts)."),
        click.option("--device", help="cpu, cuda or auto (cuda when PyTorch sees one)."),
        click.option("--threads", type=int, help="PyTorch CPU threads per run (default 1)."),
    ]  # fmt: skip
    return _apply(command, options)


def _apply(command: Callable, options: list[Callable]) -> Callable:
    for option in reversed(options):
        command = option(command)
    return command


def netlist_options(command: Callable) -> Callable:
    """``--top`` and ``--signed/--unsigned``: how a netlist's top module and operands are read."""
    return _apply(
        command,
        [
            click.option("--top", help="Top module (default: the one module no other instantiates)."),
            click.option(
                "--signed/--unsigned",
                default=None,
                help="Read both operands as two's complement or unsigned (default: the ports' `signed` "
                "keyword; without one, the reading that fits the exact product best).",
            ),
        ],
    )


def sample_options(command: Callable) -> Callable:
    """``--sample-pairs`` and ``--seed``: the pairs a reference simulator checks on a wide multiplier."""
    return _apply(
        command,
        [
            click.option(
                "--sample-pairs",
                type=click.IntRange(min=0),
                default=DEFAULT_SAMPLE_PAIRS,
                show_default=True,
                help="Wide (13..16-bit) multipliers: random operand pairs the Icarus reference checks, "
                "besides every corner operand against every other.",
            ),
            click.option(
                "--seed",
                type=click.IntRange(min=0),
                default=DEFAULT_SEED,
                show_default=True,
                help="Seed of those random pairs (numpy PCG64), recorded in the artifact.",
            ),
        ],
    )


def hws_option(help_default: str) -> Callable:
    """``--hws``: the LUT-2D half-window of both operands, or ``auto``; ``help_default``: what None means."""
    return click.option(
        "--hws",
        callback=half_window,
        help="LUT-2D half-window (operand steps) for both operands, or 'auto': the one "
        f"`appmult tune-hws` recorded (default: {help_default}).",
    )


def gradient_options(command: Callable) -> Callable:
    """The estimators' parameters: ``--hws``, ``--hws-a``, ``--hws-b``, ``--lut1d-form``, ``--lut1d-rank``,
    ``--lut2d-window``.

    The command receives them as keyword arguments; :func:`gradient_parameters`
    turns them into one :class:`~appmult.lutgen.methods.GradientParameters`.
    """
    return _apply(
        command,
        [
            hws_option("the manifest's for a built-in design, else the rule of `appmult lutgen --help`"),
            click.option(
                "--hws-a",
                callback=half_window,
                help="LUT-2D half-window along operand a (for dAM/da), or auto.",
            ),
            click.option(
                "--hws-b",
                callback=half_window,
                help="LUT-2D half-window along operand b (for dAM/db), or auto.",
            ),
            click.option(
                "--lut1d-form",
                type=click.Choice(FORMS),
                default=DEFAULT_FORM,
                show_default=True,
                help="LUT-1D form: the best rank-R separable approximation of LUT-2D, or a "
                "one-operand reduction (mean, lsq, range).",
            ),
            click.option(
                "--lut1d-rank",
                type=int,
                default=DEFAULT_RANK,
                show_default=True,
                help=f"Terms of the separable LUT-1D form (1..{MAX_RANK}).",
            ),
            click.option(
                "--lut2d-window",
                type=click.Choice(WINDOWS),
                default="fixed",
                show_default=True,
                help="How LUT-2D (and LUT-1D separable, mean) apply the half-window: the same h on every "
                "line (DATE 2025), or adaptive: h doubled on each line whose estimate deviates from STE "
                f"by more than {ADAPTIVE_DEVIATION} (up to {ADAPTIVE_LARGEST}).",
            ),
        ],
    )


def gradient_parameters(
    hws: int | str | None,
    hws_a: int | str | None,
    hws_b: int | str | None,
    lut1d_form: str,
    lut1d_rank: int,
    lut2d_window: str,
) -> GradientParameters:
    """The options of :func:`gradient_options` as one typed parameter object."""
    if hws is not None:
        if hws_a is not None or hws_b is not None:
            raise click.UsageError("give either --hws or --hws-a/--hws-b, not both")
        hws_a = hws_b = hws
    return GradientParameters(hws_a=hws_a, hws_b=hws_b, form=lut1d_form, rank=lut1d_rank, window=lut2d_window)


def half_window(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | str | None:
    """Click callback for a half-window option: an integer, or ``auto`` (the tuning record's)."""
    if value is None or value == TUNED:
        return value
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an integer or 'auto'") from None


def progress_for(label: str, quiet: bool) -> ProgressCallback | None:
    """A stderr progress reporter labelled ``label``, or None when quiet."""
    return None if quiet else StderrProgress(label)


def echo_status(quiet: bool) -> Callable[[str], None]:
    """A function printing status lines on stderr unless quiet."""
    return (lambda _message: None) if quiet else (lambda message: click.echo(message, err=True))


def replaced_notice(path: Path, detail: str = "") -> str | None:
    """``"replaced PATH ..."`` when ``path`` exists (call before writing it), else None.

    The tool's one overwrite rule: an output that exists is replaced, atomically,
    and the replacement is named on stderr.
    """
    return f"replaced {path}{f' ({detail})' if detail else ''}" if path.exists() else None


def report_failures(failures: list[tuple[str, str]], total: int, what: str) -> None:
    """List every ``(label, one-line error)`` on stderr and exit 1, when there are any."""
    if not failures:
        return
    click.echo(f"{len(failures)} of {total} {what} failed:", err=True)
    for label, error in failures:
        click.echo(f"  {label}: {error}" if not error.startswith(label) else f"  {error}", err=True)
    raise SystemExit(1)


def report_interrupted(exc: Interrupted, what: str) -> None:
    """Say which outputs were written before Ctrl-C or SIGTERM and which were not; exit 130 or 143."""
    click.echo(f"interrupted: {len(exc.finished)} {what} finished, {len(exc.unfinished)} not", err=True)
    for label in exc.unfinished:
        click.echo(f"  not written: {label}", err=True)
    raise SystemExit(exc.exit_status)
