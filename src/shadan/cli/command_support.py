"""What the commands share: the services built from the settings with refusals printed, the operator at
this terminal, a progress bar, and a verifier key shown or written."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shadan.domain.errors import DomainError, InvalidInput
from shadan.domain.japan_time import in_japan
from shadan.services.identity import Actor

if TYPE_CHECKING:
    from shadan.bootstrap import Shadan


@contextmanager
def built(console: Console, *, bad_input_exit: int = 1) -> Iterator[Shadan]:
    """The services, closed afterwards. A refusal (DomainError) is printed and ends the command: exit 1,
    or `bad_input_exit` for bad input where the command counts that as a usage error."""
    from shadan.bootstrap import build
    from shadan.config import Settings

    try:
        shadan = build(Settings())  # a setting's file that cannot be used (a witness key) stops here
    except DomainError as exc:
        _refused(console, exc, bad_input_exit)
    try:
        yield shadan
    except DomainError as exc:
        _refused(console, exc, bad_input_exit)
    finally:
        shadan.close()


def _refused(console: Console, exc: DomainError, bad_input_exit: int) -> NoReturn:
    console.print(f"[red]{escape(exc.message)}[/red]")
    raise typer.Exit(bad_input_exit if isinstance(exc, InvalidInput) else 1) from exc


def os_user() -> str:
    """Who runs the command: the operating-system user ("unknown" where the system has no entry for it,
    e.g. an anonymous container user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def terminal_operator() -> Actor:
    """The person at this terminal: the OS user, since the CLI has no login of its own. Every command
    records the same account id for the same person (`cli:<user>`), so the log ties its work together."""
    return Actor.operator(os_user(), terminal_id=os.uname().nodename)


def operator_account() -> str:
    """The terminal operator's account id, for services that take an account id rather than an actor."""
    return terminal_operator().account_id


@contextmanager
def progress_bar(console: Console, description: str) -> Iterator[Callable[[int, int], None]]:
    """A bar that disappears when done, and its update(total, done)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=None)

        def update(total: int, done: int) -> None:
            progress.update(task, total=total, completed=done)

        yield update


def show_key(key: str, output: Path | None, console: Console) -> None:
    """A verifier key on the console, or written to `output`."""
    if output is None:
        console.print(key, markup=False)
        return
    output.write_text(key + "\n", encoding="ascii")
    console.print(f"検証鍵を {escape(str(output))} に書き出しました / verifier key written")


def jst(moment: dt.datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored (UTC) time as people here read it: in Japan time, said so."""
    return f"{jst_cell(moment, fmt)} JST"


def jst_cell(moment: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """The same in a table column whose header already says （JST）; empty where there is no time."""
    return "" if moment is None else in_japan(moment).strftime(fmt)


def show_failure(console: Console, titles: tuple[str, str], exit_code: int, *details: str) -> None:
    """One finding or refusal as every check command prints it: both titles, its exit code, then each
    detail on its own line (escaped: details may quote what was checked)."""
    ja, en = titles
    console.print(f"[red]✗ {ja} / {en}[/red] (exit {exit_code})")
    for detail in details:
        console.print(f"  {escape(detail)}")
