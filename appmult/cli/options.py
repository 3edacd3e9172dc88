"""Options shared by several verbs, defined once as decorators."""

from __future__ import annotations

from collections.abc import Callable

import click

from appmult.core.progress import ProgressCallback, StderrProgress

__all__ = ["echo_status", "progress_for", "quiet_option"]

quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or status lines on stderr.")


def progress_for(label: str, quiet: bool) -> ProgressCallback | None:
    """A stderr progress reporter labelled ``label``, or None when quiet."""
    return None if quiet else StderrProgress(label)


def echo_status(quiet: bool) -> Callable[[str], None]:
    """A function printing status lines on stderr unless quiet."""
    return (lambda _message: None) if quiet else (lambda message: click.echo(message, err=True))
