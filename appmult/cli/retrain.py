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
    require_torch,
    scheduler_options,
    training_options,
)
from appmult.core.artifact import Artifact, sha256_of
from appmult.core.artifact_file import load, save
from appmult.core.atomic import writable_directory
from appmult.core.errors import ParameterError
from appmult.core.executor import Interrupted
from appmult.core.manifest import load_manifest
from appmult.lutgen.half_window import TUNED
from appmult.lutgen.methods import LUT1D, LUT2D, NAMES, STE

__all__ = ["PANEL_FOLDER", "PANEL_NETLISTS", "load_multipliers", "panel_netlists", "retrain_demo_command"]

#: The panel's netlists: the EvoApprox 8x8 multipliers shipped with the repository's tests.
PANEL_FOLDER = Path("tests/fixtures/evoapprox")
PANEL_NETLISTS = "mul8*.v"


@click.command("retrain-demo")
@click.option(
    "--quick", is_flag=True, help="The test suite's variant: 8x8 digits, small network, 1 seed, 1 epoch."
)
@click.option(
    "--panel",
    is_flag=True,
    help=f"The EvoApprox panel: the 8x8 netlists {PANEL_FOLDER}/{PANEL_NETLISTS} (run from the repository "
    f"root), kinds {STE.name},{LUT2D.name}@default,{LUT2D.name}@{TUNED},{LUT1D.name}:separable:2, frozen "
    "ranges, 3 seeds (1 with --quick); the options below override each part.",
)
@click.option(
    "--multipliers",
    help="Comma-separated built-in design names, artifact files (.h5), Verilog netlists (.v, characterized "
    "into --artifacts when missing) or folders of netlists (default: mul8u_trunc8).",
)
@click.option(
    "--kinds",
    help=f"Comma-separated gradient kinds: {', '.join(NAMES)}, {LUT1D.name}:FORM, "
    f"{LUT1D.name}:separable:RANK, each with an optional @H, its own half-window (an integer, auto: "
    "the tuned one, default: the artifact's default rule) "
    f"(default: every kind; {','.join(NAMES)} with --quick).",
)
@click.option(
    "--ranges",
    help="Comma-separated range policies: frozen, moving, observer "
    "(default: moving,frozen; frozen with --panel).",
)
@hws_option("the recorded one, else the lutgen default")
@training_options
@click.option(
    "--artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("artifacts"),
    show_default=True,
    help="Where built-in designs' and netlists' artifacts are read, and characterized when missing.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("artifacts/retrain-demo"),
    show_default=True,
    help="Directory for the results (retrain_demo*.csv, retrain_demo*.png) and the record of finished runs "
    "and float starts that a rerun takes instead of training again.",
)
@scheduler_options
@quiet_option
def retrain_demo_command(
    quick: bool,
    panel: bool,
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
    and PNG plots to OUTPUT. The default is the full benchmark (MNIST-5k at
    14x14, six-convolution network, mul8u_trunc8, 5 seeds: about 50 minutes
    on 2 cores). --data takes several data sets, comma-separated.

    Every finished run and float start is recorded in OUTPUT as it finishes;
    a rerun with the same inputs takes it from there, so an interrupted
    benchmark resumes where it stopped (delete OUTPUT/retrain_demo_finished.jsonl
    to train everything again).
    """
    require_torch("retrain-demo")
    from appmult.retrain.cache import RunStore
    from appmult.retrain.demo import FULL, PANEL_KINDS, QUICK, parse_kinds, run_demo
    from appmult.retrain.report import format_table, write_results

    base = QUICK if quick else FULL
    if panel:
        base = base.changed(kinds=PANEL_KINDS, **({} if quick else {"policies": ("frozen",), "seeds": 3}))
    items = comma_list(multipliers)
    if items is None and panel:
        items = tuple(str(path) for path in panel_netlists())
    sources = _data_sources(training.pop("data"))
    config = base.changed(
        multipliers=items,
        kinds=parse_kinds(kinds) if kinds else None,
        policies=comma_list(ranges),
        hws=hws,
        layers=comma_list(training.pop("layers")),
        **training,
    )
    configs = [config.changed(data=source) for source in sources] if sources else [config]
    for each in configs:
        each.check()
    writable_directory(output, create=False)
    status = echo_status(quiet)
    loaded = load_multipliers(config.multipliers, artifacts, status)
    store = RunStore(output)
    if len(store):
        status(f"{len(store)} finished runs on record in {store.runs_file}")
    results = []
    try:
        for each in configs:
            result = run_demo(
                each.changed(multipliers=tuple(loaded)), loaded, scheduler=scheduler, workers=workers,
                progress=progress_for(f"retrain-demo {each.data}", quiet), store=store,
            )  # fmt: skip
            status(
                f"{each.data}: trained {result.trained} of {len(result.runs)} runs and {result.started} "
                "float starts; the others were on record"
            )
            results.append(result)
    except Interrupted as exc:
        click.echo(
            f"interrupted: {len(exc.finished)} runs finished and are kept in {store.runs_file}, "
            f"{len(exc.unfinished)} not; run the same command again to resume",
            err=True,
        )
        raise SystemExit(exc.exit_status) from None
    for result in results:
        click.echo(format_table(result))
    names = ("retrain_demo.csv", "retrain_demo_runs.csv", "retrain_demo.png", "retrain_demo_nmed.png")
    notices = {output / name: replaced_notice(output / name) for name in names}
    for path in write_results(results, output):
        status(notices.get(path) or f"wrote {path}")


def _data_sources(text: str | None) -> tuple[str, ...] | None:
    """``--data``: comma-separated data sets, unless the whole value is one existing path."""
    if text is None or Path(text).exists():
        return None if text is None else (text,)
    return comma_list(text)


def panel_netlists(folder: Path = PANEL_FOLDER) -> list[Path]:
    """The panel's netlists (``PANEL_NETLISTS`` in ``folder``), in name order; ParameterError when none."""
    found = sorted(folder.glob(PANEL_NETLISTS)) if folder.is_dir() else []
    if not found:
        raise ParameterError(
            f"--panel: {folder} holds no EvoApprox 8x8 netlists ({PANEL_NETLISTS}); run from the repository "
            "root, or name the multipliers with --multipliers"
        )
    return found


def load_multipliers(
    items: tuple[str, ...], directory: Path, status: Callable[[str], None] = lambda _line: None
) -> dict[str, Artifact]:
    """The artifacts ``items`` names, by artifact name.

    An item is a built-in design name, an artifact file, a Verilog netlist
    (``.v``) or a folder (its ``*.v`` netlists, in name order). A built-in
    design's artifact is ``directory/<name>.h5``, a netlist's
    ``directory/<file stem>.h5``: read when it is there (a netlist's must
    record that netlist's SHA-256 among its sources), else characterized
    (backend ``auto``: bitsim where it can) and written there. An artifact
    file is read as it is. Only the product table (and a tuning record) is
    needed: each run computes its gradient tables. Raises ParameterError for
    an item that is none of these, a folder without netlists, an artifact
    made from another netlist, or two artifacts with one name.
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
            paths = [path]
        elif Path(item).is_dir():
            netlists = sorted(Path(item).glob("*.v"))
            if not netlists:
                raise ParameterError(f"--multipliers {item}: no Verilog netlists (*.v) in this folder")
            paths = [_netlist_artifact(netlist, directory, status) for netlist in netlists]
        elif Path(item).is_file() and Path(item).suffix == ".v":
            paths = [_netlist_artifact(Path(item), directory, status)]
        elif Path(item).is_file():
            paths = [Path(item)]
        else:
            raise ParameterError(
                f"--multipliers {item}: neither a built-in design (`appmult list` names them) nor an "
                "artifact file, a Verilog netlist (.v) or a folder of netlists"
            )
        for path in paths:
            artifact = load(path).materialize()
            if artifact.name in loaded:
                raise ParameterError(
                    f"--multipliers: two artifacts are named {artifact.name!r}; give each once"
                )
            loaded[artifact.name] = artifact
    return loaded


def _netlist_artifact(netlist: Path, directory: Path, status: Callable[[str], None]) -> Path:
    """``directory/<stem>.h5``, characterized from ``netlist`` when missing; checked to come from it."""
    path = directory / f"{netlist.stem}.h5"
    digest = sha256_of(netlist)
    if path.is_file():
        if digest not in load(path).source_sha256:
            raise ParameterError(
                f"{path}: was not characterized from {netlist} (its SHA-256 is not among the artifact's "
                "sources); remove the artifact or choose another --artifacts folder"
            )
        return path
    writable_directory(directory, "--artifacts")
    status(f"characterizing {netlist} into {path}")
    save(characterize([netlist]), path)
    return path
