"""The nianbao command line: each command parses arguments, calls one library function, prints, maps errors to exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from convert import __version__
from convert.errors import NianbaoError

app = typer.Typer(
    name="nianbao",
    help="Read 政府信息公开工作年度报告 (annual government information disclosure reports) into records and "
    "standard Excel workbooks; check, reconcile and merge them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
store_app = typer.Typer(help="Keep records in a store (SQLite) with every revision.", no_args_is_help=True)
app.add_typer(store_app, name="store")

_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])

Paths = Annotated[list[Path], typer.Argument(help="Report or workbook files, or folders of them.", show_default=False)]
Jobs = Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes (default: the number of cores).")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _err(message: str) -> None:
    typer.echo(f"Error: {message}", err=True)


def handled(func: F) -> F:
    """Turn our exceptions into a one-line error and an exit code; a traceback only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except NianbaoError as exc:
            if _state["debug"]:
                raise
            _err(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _err("interrupted; nothing was left half-written")
            raise typer.Exit(130) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            _err(f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nianbao {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Read, convert, check, store, reconcile and merge annual disclosure reports."""
    _state["debug"] = debug


def _finish(outcomes: Iterable[Any], emit: Callable[[Any], None], what: str) -> int:
    """Print each outcome as it comes; errors one line each; a summary line for batches; return the exit code."""
    code, total, failed = 0, 0, []
    for outcome in outcomes:
        total += 1
        if outcome.ok:
            emit(outcome)
        else:
            _err(f"{outcome.path}: {outcome.error}")
            failed.append(outcome.path)
            code = max(code, outcome.exit_code)
    if total > 1:
        names = ", ".join(str(p) for p in failed[:10]) + (" …" if len(failed) > 10 else "")
        typer.echo(f"{what} {total} inputs: {total - len(failed)} ok, {len(failed)} failed" + (f" ({names})" if failed else ""), err=True)
    return code


@app.command()
@handled
def read(paths: Paths, jobs: Jobs = None) -> None:
    """Read reports or workbooks into records: one JSON line per input, in input order."""
    from convert.commands import read_inputs

    code = _finish(read_inputs(paths, jobs, _state["debug"]), lambda o: typer.echo(o.value), "read")
    raise typer.Exit(code)


@app.command("convert")
@handled
def convert_cmd(
    paths: Paths,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .xlsx (one input) or folder (several).")],
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Write one standard Excel workbook per report (one sheet per section, live formulas, check sheet)."""
    from convert.commands import convert_inputs

    code = _finish(convert_inputs(paths, out, force, jobs, _state["debug"]), lambda o: typer.echo(o.value), "converted")
    raise typer.Exit(code)


@app.command()
@handled
def check(
    paths: Paths,
    as_json: AsJson = False,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="Last year's report or workbook of the same agency.")
    ] = None,
    annotate: Annotated[
        Path | None, typer.Option("--annotate", help="Write a copy of the workbook with each finding highlighted.")
    ] = None,
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Check reports or workbooks: the 勾稽 rules, formulas, values and structure. Exit 1 on any error."""
    from convert.commands import check_inputs

    results: list[dict[str, Any]] = []
    errors = 0

    def emit(outcome: Any) -> None:
        nonlocal errors
        findings = outcome.value["findings"]
        errors += any(f["severity"] == "error" for f in findings)
        if as_json:
            results.append({"path": str(outcome.path), **outcome.value})
        else:
            _print_findings(outcome.path, outcome.value)

    outcomes = check_inputs(paths, previous, annotate, force, jobs, _state["debug"])
    code = _finish(outcomes, emit, "checked")
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    raise typer.Exit(code or (1 if errors else 0))


def _print_findings(path: Path, result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    findings = sorted(result["findings"], key=lambda f: (f["severity"] != "error", f["code"]))
    n_err = sum(f["severity"] == "error" for f in findings)
    n_warn = len(findings) - n_err
    rec = result.get("record") or {}
    status = "不通过 FAIL" if n_err else "通过 OK"
    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
    console.print(f"{path}: {rec.get('agency') or '?'} {rec.get('year') or '?'} ({rec.get('format')}) — {status}, {n_err} errors, {n_warn} warnings", markup=False, highlight=False)
    if not findings:
        return
    table = Table(show_lines=False)
    for col in ("severity", "code", "sheet!cell", "key", "expected", "actual", "message"):
        table.add_column(col)
    for f in findings[:200]:
        where = f"{f['sheet']}!{f['cell']}" if f["sheet"] else ""
        table.add_row(f["severity"], f["code"], where, f["key"], _s(f["expected"]), _s(f["actual"]), f["message"])
    console.print(table)
    if len(findings) > 200:
        console.print(f"… and {len(findings) - 200} more (use --json for all)")


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def main() -> None:
    """Entry point of the nianbao console script."""
    app()


if __name__ == "__main__":
    main()
