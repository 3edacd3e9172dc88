"""The ``appmult`` command line: one thin click command per verb.

Each verb lives in its own module of this package and only parses options,
calls the library and prints the result. Library errors
(:class:`appmult.core.errors.AppMultError`) become a one-line ``error: ...``
message on stderr and exit status 1, without a traceback.
"""

from __future__ import annotations

import sys

import click

from appmult.cli.characterize import characterize_command
from appmult.cli.cost import cost_command
from appmult.cli.export import export_command, import_command
from appmult.cli.lutgen import lutgen_command
from appmult.cli.pareto import pareto_command
from appmult.cli.report import report_command
from appmult.cli.retrain import retrain_demo_command
from appmult.cli.show import info_command, list_command
from appmult.cli.tune import tune_hws_command
from appmult.cli.verify import verify_command
from appmult.core.errors import AppMultError
from appmult.core.executor.interrupts import last_signal
from appmult.core.version import __version__

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="appmult")
def cli() -> None:
    """Approximate-multiplier RTL to product tables and gradient LUTs for retraining."""


for _command in (
    characterize_command,
    cost_command,
    export_command,
    import_command,
    list_command,
    info_command,
    lutgen_command,
    pareto_command,
    report_command,
    retrain_demo_command,
    tune_hws_command,
    verify_command,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning library errors into one-line messages."""
    try:
        cli.main(args=argv, prog_name="appmult", standalone_mode=False)
    except AppMultError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:  # Ctrl-C or SIGTERM outside a many-job run
        click.echo("aborted", err=True)
        sys.exit(128 + last_signal())
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
