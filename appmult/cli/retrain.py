"""``appmult retrain-demo``: which gradient table retrains a network on an approximate multiplier better."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from appmult.characterize import characterize
from appmult.cli.options import (
    comma_list,
    echo_status,
    hws_option,
    progress_for,
    quiet_option,
    replaced_notice,
    report_interrupted,
    require_torch,
    scheduler_options,
    training_options,
)
from appmult.core.artifact import Artifact
from appmult.core.artifact_file import load, save
from appmult.core.atomic import writable_directory
from appmult.core.errors import ParameterError
from appmult.core.executor import Interrupted
from appmult.core.manifest import load_manifest
from appmult.lutgen.methods import LUT1D, NAMES

__all__ = ["load_multipliers", "retrain_demo_command"]


@click.command("retrain-demo")
@click.option(
    "--quick", is_flag=True, help="The test suite's variant: 8x8 digits, small network, 1 seed, 1 epoch."
)
@click.option(
    "--multipliers",
    help="Comma-separated built-in design names or artifact files (.h5) (default: mul8u_trunc8).",
)
@click.option(
    "--kinds",
    help=f"Comma-separated gradient kinds: {', '.join(NAMES)}, {LUT1D.name}:FORM, "
    f"{LUT1D.name}:separable:RANK (default: every kind; {','.join(NAMES)} with --quick).",
)
@click.option("--ranges", help="Comma-separated activation range policies: moving, frozen (default: both).")
@hws_option("the recorded one, else the lutgen default")
@training_options
@click.option(
    "--artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("artifacts"),
    show_default=True,
    help="Where built-in designs' artifacts are read, and characterized when missing.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("artifacts/retrain-demo"),
    show_default=True,
    help="Directory for retrain_demo.csv, retrain_demo_runs.csv and retrain_demo.png.",
)
@scheduler_options
@quiet_option
def retrain_demo_command(
    quick: bool,
    multipliers: str | None,
    kinds: str | None,
    ranges: str | None,
    hws: int | str | None,
    artifacts: Path,
    output: Path,
    scheduler: str,
    workers: int | None,
    quiet: bool,
    **training: object,
) -> None:
    """Retrain a network on approximate multipliers with each gradient kind and compare them.

    Per seed, the network is trained in float once; every multiplier, range
    policy and gradient kind retrains a copy of it on the same batches.
    Prints accuracy before and after retraining (mean ± std over seeds), the
    gain over STE paired by seed, and seconds per epoch; writes them as CSV
    and a PNG plot to OUTPUT. The default is the full benchmark (MNIST-5k at
    14x14, six-convolution network, mul8u_trunc8, 5 seeds: about 50 minutes
    on 2 cores).
    """
    require_torch("retrain-demo")
    from appmult.retrain.demo import FULL, QUICK, run_demo
    from appmult.retrain.report import format_table, write_results
    from appmult.retrain.runs import parse_kinds

    base = QUICK if quick else FULL
    config = base.changed(
        multipliers=comma_list(multipliers),
        kinds=parse_kinds(kinds) if kinds else None,
        policies=comma_list(ranges),
        hws=hws,
        layers=comma_list(training.pop("layers")),
        **training,
    )
    config.check()
    writable_directory(output, create=False)
    status = echo_status(quiet)
    loaded = load_multipliers(config.multipliers, artifacts, status)
    config = config.changed(multipliers=tuple(loaded))
    try:
        result = run_demo(
            config, loaded, scheduler=scheduler, workers=workers, progress=progress_for("retrain-demo", quiet)
        )
    except Interrupted as exc:
        report_interrupted(exc, "runs")
    click.echo(format_table(result))
    names = ("retrain_demo.csv", "retrain_demo_runs.csv", "retrain_demo.png")
    notices = [replaced_notice(output / name) for name in names]
    for path in write_results(result, output):
        status(f"wrote {path}")
    for notice in filter(None, notices):
        status(notice)


def load_multipliers(
    items: tuple[str, ...], directory: Path, status: Callable[[str], None] = lambda _line: None
) -> dict[str, Artifact]:
    """The artifacts ``items`` names, by artifact name: built-in design names or artifact files.

    A built-in design's ``directory/<name>.h5`` is read, or characterized
    (backend ``auto``) and written there when missing. A file is read as it
    is. Only the product table (and a tuning record) is needed: each run
    computes its gradient tables. Raises ParameterError for an item that is
    neither, or two artifacts with one name.
    """
    designs = {design.name: design for design in load_manifest()}
    loaded: dict[str, Artifact] = {}
    for item in items:
        if item in designs:
            design = designs[item]
            path = directory / f"{design.name}.h5"
            if not path.is_file():
                writable_directory(directory, "--artifacts")
                status(f"characterizing {design.name} into {path}")
                save(characterize(design.files, top=design.top, signed=design.signed, name=design.name), path)
        elif Path(item).is_file():
            path = Path(item)
        else:
            raise ParameterError(
                f"--multipliers {item}: neither a built-in design (`appmult list` names them) "
                "nor an artifact file"
            )
        artifact = load(path).materialize()
        if artifact.name in loaded:
            raise ParameterError(f"--multipliers: two artifacts are named {artifact.name!r}; give each once")
        loaded[artifact.name] = artifact
    return loaded
