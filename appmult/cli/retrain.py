"""``appmult retrain-demo``: retrain a small CNN on approximate multipliers with STE, LUT-2D and LUT-1D."""

from __future__ import annotations

from pathlib import Path

import click

from appmult.characterize import characterize
from appmult.cli.options import echo_status, progress_for, quiet_option
from appmult.core.artifact import load, save
from appmult.core.manifest import select_designs
from appmult.lutgen import add_gradients, gradient_tables

__all__ = ["retrain_demo_command"]

_TORCH_MISSING = (
    "retrain-demo needs PyTorch, which is not installed; install it with: pip install torch==2.13.0"
)


@click.command("retrain-demo")
@click.option("--quick", is_flag=True, help="scikit-learn's 8x8 digits, one multiplier, one seed, one epoch.")
@click.option(
    "--multipliers", help="Comma-separated built-in design names (default: four large-error designs)."
)
@click.option("--seeds", type=int, help="Number of seeds (default 3; 1 with --quick).")
@click.option("--epochs", type=int, help="Retraining epochs per run (default 3; 1 with --quick).")
@click.option(
    "--dataset", type=click.Choice(["mnist", "digits"]), help="Data set (default mnist; digits with --quick)."
)
@click.option(
    "--gradients", default="ste,lut2d,lut1d", show_default=True, help="Comma-separated gradient kinds."
)
@click.option(
    "--artifacts",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("artifacts"),
    show_default=True,
    help="Where artifacts are read, and made when missing.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("artifacts/retrain-demo"),
    show_default=True,
    help="Directory for retrain_demo.csv, retrain_demo_runs.csv and retrain_demo.png.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--threads", type=int, default=1, show_default=True, help="CPU threads for PyTorch.")
@quiet_option
def retrain_demo_command(
    quick: bool,
    multipliers: str | None,
    seeds: int | None,
    epochs: int | None,
    dataset: str | None,
    gradients: str,
    artifacts: Path,
    output: Path,
    device: str,
    threads: int,
    quiet: bool,
) -> None:
    """Train a small CNN in float, move it onto approximate multipliers, retrain with each gradient.

    Prints a table of test accuracy before retraining and after retraining
    with STE, LUT-2D and LUT-1D (mean ± std over seeds), the paired gain over
    STE, and seconds per epoch; writes it as CSV and a PNG plot to OUTPUT.
    """
    try:
        import torch  # noqa: F401
    except ImportError:
        raise click.ClickException(_TORCH_MISSING) from None
    from appmult.retrain.demo import FULL, QUICK, run_demo, with_options
    from appmult.retrain.report import format_table, write_results

    names = tuple(n.strip() for n in multipliers.split(",") if n.strip()) if multipliers else None
    kinds = tuple(g.strip() for g in gradients.split(",") if g.strip())
    config = with_options(
        QUICK if quick else FULL,
        multipliers=names,
        seeds=seeds,
        epochs=epochs,
        dataset=dataset,
        gradients=kinds,
        artifacts=artifacts,
        device=device,
        threads=threads,
    )
    config.check()
    paths = prepare_artifacts(config.multipliers, config.artifacts)
    result = run_demo(config, paths, progress=progress_for("retrain-demo", quiet))
    click.echo(format_table(result))
    for path in write_results(result, output):
        echo_status(quiet)(f"wrote {path}")


def prepare_artifacts(names: tuple[str, ...], directory: Path) -> dict[str, Path]:
    """Paths ``directory/<name>.h5`` of built-in designs, made when missing.

    A missing artifact is characterized (backend ``auto``) and written with
    its STE, LUT-2D and LUT-1D tables (the manifest's half-windows); an
    existing one lacking LUT-2D or LUT-1D tables gets them added. Raises
    ParameterError for an unknown design name.
    """
    designs = select_designs(names)
    paths = {}
    for design in designs:
        path = directory / f"{design.name}.h5"
        hws = {"hws_a": design.hws_a, "hws_b": design.hws_b}
        if not path.is_file():
            directory.mkdir(parents=True, exist_ok=True)
            artifact = characterize(
                design.files, top=design.top, signed=design.signed, name=design.name, backend="auto"
            )
            artifact.gradients.update(gradient_tables(artifact, **hws))
            save(artifact, path)
        else:
            missing = [m for m in ("lut2d", "lut1d") if m not in load(path).gradients]
            if missing:
                add_gradients(path, missing, **hws)
        paths[design.name] = path
    return paths
