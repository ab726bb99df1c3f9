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
from convert.errors import NianbaoError, UsageError

app = typer.Typer(
    name="nianbao",
    help="Read 政府信息公开工作年度报告 (annual government information disclosure reports) into records and "
    "standard Excel workbooks; check, reconcile and merge them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
store_app = typer.Typer(help="Keep records in a store (SQLite, PostgreSQL) with every revision.", no_args_is_help=True)
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
    limit: Annotated[
        list[str] | None,
        typer.Option(
            "--limit",
            help="Raise a safety limit, NAME=N (repeatable): max_file_bytes, max_text_bytes, max_uncompressed_bytes, "
            "max_ratio, max_members, max_sheets, max_rows_per_sheet, max_cells, max_pdf_pages, max_pdf_seconds, "
            "max_pdf_memory_bytes.",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Read, convert, check, store, reconcile and merge annual disclosure reports."""
    _state["debug"] = debug
    if limit:
        _set_limits(limit)


@handled
def _set_limits(items: list[str]) -> None:
    from convert.safety import configure_limits

    overrides: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise UsageError(f"--limit takes NAME=NUMBER, not {item!r}")
        overrides[name.strip().replace("-", "_")] = int(value)
    configure_limits(overrides)


def _inputs(paths: list[Path], outputs: list[Path | None] | None = None) -> list[Path]:
    """Expand folders into the files to read; print one line for each other file of a folder, with the reason.

    outputs: what the command writes (a workbook, or a folder of them), never read as its input.
    """
    from convert.inputs import select

    chosen = select(paths, outputs=outputs or ())
    for skipped in chosen.skipped:
        typer.echo(f"Skipped: {skipped.path}: {skipped.reason}", err=True)
    return chosen.inputs()


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
        typer.echo(
            f"{what} {total} inputs: {total - len(failed)} ok, {len(failed)} failed"
            + (f" ({names})" if failed else ""),
            err=True,
        )
    return code


@app.command()
@handled
def read(paths: Paths, jobs: Jobs = None) -> None:
    """Read reports or workbooks into records: one JSON line per input, in input order."""
    from convert.commands import read_inputs

    files = _inputs(paths)
    code = _finish(read_inputs(files, jobs, _state["debug"]), lambda o: typer.echo(o.value), "read")
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

    files = _inputs(paths, [out])
    code = _finish(convert_inputs(files, out, force, jobs, _state["debug"]), lambda o: typer.echo(o.value), "converted")
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

    def emit(outcome: Any) -> None:
        results.append({"path": str(outcome.path), **outcome.value})

    files = _inputs(paths, [annotate])
    code = _finish(check_inputs(files, previous, annotate, force, jobs, _state["debug"]), emit, "checked")
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        _print_check(results)
    errors = any(f["severity"] == "error" for r in results for f in r["findings"])
    raise typer.Exit(code or (1 if errors else 0))


def _print_check(results: list[dict[str, Any]]) -> None:
    """One input: its table. Several: a line each, worst first, then the tables of those that fail."""
    from rich.console import Console

    console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160, highlight=False)

    def counts(r: dict[str, Any]) -> tuple[int, int]:
        n_err = sum(f["severity"] == "error" for f in r["findings"])
        return n_err, len(r["findings"]) - n_err

    ordered = sorted(results, key=lambda r: tuple(-n for n in counts(r)))
    for r in ordered:
        n_err, n_warn = counts(r)
        rec = r.get("record") or {}
        status = "不通过 FAIL" if n_err else "通过 OK"
        console.print(
            f"{r['path']}: {rec.get('agency') or '?'} {rec.get('year') or '?'} ({rec.get('format')}) — "
            f"{status}, {n_err} errors, {n_warn} warnings",
            markup=False,
        )
    for r in ordered:
        if len(results) == 1 or counts(r)[0]:
            _print_findings(console, r)


def _print_findings(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    findings = sorted(result["findings"], key=lambda f: (f["severity"] != "error", f["code"]))
    if not findings:
        return
    shown = findings[:200]
    columns = [
        ("severity", lambda f: f["severity"]),
        ("code", lambda f: f["code"]),
        ("sheet!cell", lambda f: f"{f['sheet']}!{f['cell']}" if f["sheet"] else ""),
        ("key", lambda f: f["key"]),
        ("expected", lambda f: _s(f["expected"])),
        ("actual", lambda f: _s(f["actual"])),
        ("message", lambda f: f["message"]),
    ]
    # Compact: a column that is empty for every finding is left out.
    columns = [(name, get) for name, get in columns if any(get(f) for f in shown)]
    table = Table(title=result["path"] if len(findings) else None, title_justify="left")
    for name, _ in columns:
        table.add_column(name, overflow="fold")
    for f in shown:
        table.add_row(*(get(f) for _, get in columns))
    console.print(table)
    if len(findings) > 200:
        console.print(f"… and {len(findings) - 200} more (use --json for all)")


def _s(v: Any) -> str:
    return "" if v is None else str(v)


# ---------------------------------------------------------------------------------------------
# The store and reconcile (issue #5)

StorePath = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store: an SQLite file or a postgresql://USER@HOST/DATABASE URL (default: $NIANBAO_STORE, else nianbao.db in the current folder).",
        show_default=False,
    ),
]
Author = Annotated[
    str | None, typer.Option("--author", help="Who makes the revision (default: $USER).", show_default=False)
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why the revision is made (required with --force).")]
Agency = Annotated[str, typer.Argument(help="The agency (机关名称) as stored, e.g. 竹镇镇.", show_default=False)]
Year = Annotated[int, typer.Argument(help="The report year, e.g. 2019.", show_default=False)]


def _console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160, highlight=False)


def _table(*columns: str) -> Any:
    from rich.table import Table

    table = Table(show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


def _dump_json(data: Any) -> None:
    from convert.record import dumps

    typer.echo(dumps(data, indent=2))


@store_app.command("add")
@handled
def store_add(paths: Paths, store: StorePath = None, author: Author = None, reason: Reason = None) -> None:
    """Add reports (or converted workbooks) to the store: a new record, a new revision, or nothing if identical."""
    from convert.inputs import Skipped
    from convert.store import add_files, default_author, open_store

    code = 0
    with open_store(store) as st:
        for path, result in add_files(st, _inputs(paths), author=author or default_author(), reason=reason):
            if isinstance(result, Skipped):
                typer.echo(f"Skipped: {path}: {result.reason}", err=True)
            elif isinstance(result, NianbaoError):
                _err(f"{path}: {result}")
                code = max(code, result.exit_code)
            elif result.status == "identical":
                typer.echo(
                    f"{path}: {result.agency} {result.year} is identical to revision {result.revision}; nothing added"
                )
            else:
                what = "new record" if result.status == "new-report" else "new revision"
                typer.echo(f"{path}: {result.agency} {result.year} revision {result.revision} ({what})")
    raise typer.Exit(code)


@store_app.command("list")
@handled
def store_list(
    year: Annotated[int | None, typer.Option("--year", help="Only reports of this year.")] = None,
    store: StorePath = None,
    as_json: AsJson = False,
) -> None:
    """List the reports in the store with their latest revision."""
    from convert.store import open_store

    with open_store(store, create=False) as st:
        reports = st.list(year)
    if as_json:
        _dump_json([r.to_json() for r in reports])
        return
    table = _table("agency", "year", "format", "revisions", "last author", "updated (UTC)")
    for r in reports:
        table.add_row(r.agency, str(r.year), r.format, str(r.revisions), r.author, r.updated)
    console = _console()
    console.print(table)
    console.print(f"{len(reports)} report(s)")


@store_app.command("show")
@handled
def store_show(
    agency: Agency,
    year: Year,
    revision: Annotated[
        int | None, typer.Option("--revision", help="Show this revision (default: the latest).")
    ] = None,
    store: StorePath = None,
    as_json: AsJson = False,
) -> None:
    """Show one report's record at its latest (or a given) revision: who stored it, why, and every filled cell."""
    from convert.reconcile import cell_label
    from convert.store import open_store, value_text

    with open_store(store, create=False) as st:
        record, info = st.get(agency, year, revision)
    if as_json:
        _dump_json({"revision": info.to_json(), "record": record.to_json()})
        return
    console = _console()
    forced = " FORCED" if info.forced else ""
    console.print(
        f"{info.agency} {info.year} (format {info.format}) — revision {info.number} of {info.latest}{forced}, "
        f"by {info.author} at {info.created}" + (f": {info.reason}" if info.reason else ""),
        markup=False,
    )
    if record.title:
        console.print(record.title, markup=False)
    table = _table("key", "label", "value")
    blank = 0
    for key, value in record.cells.items():
        if value is None:
            blank += 1
            continue
        table.add_row(key, cell_label(record.format, key), value_text(value))
    console.print(table)
    console.print(f"{len(record.cells) - blank} filled cell(s); {blank} blank cell(s) not shown (use --json for all)")


@store_app.command("history")
@handled
def store_history(agency: Agency, year: Year, store: StorePath = None, as_json: AsJson = False) -> None:
    """Show every revision of a report: when, who, why, and which cells each one changed."""
    from convert.store import open_store

    with open_store(store, create=False) as st:
        entries = st.history(agency, year)
    if as_json:
        _dump_json([e.to_json() for e in entries])
        return
    table = _table("rev", "created (UTC)", "author", "reason", "source", "base", "forced", "changed cells")
    for e in entries:
        i = e.info
        changed = "\n".join(
            f"{c.key}: {c.old if c.old is not None else '(blank)'} → {c.new if c.new is not None else '(blank)'}"
            for c in e.changed[:20]
        )
        if len(e.changed) > 20:
            changed += f"\n… and {len(e.changed) - 20} more"
        table.add_row(
            str(i.number), i.created, i.author, i.reason or "", i.source_name or "",
            "" if i.base_revision is None else str(i.base_revision), "yes" if i.forced else "", changed,
        )  # fmt: skip
    console = _console()
    console.print(f"{agency} {year}: {len(entries)} revision(s)", markup=False)
    console.print(table)


@store_app.command("export")
@handled
def store_export(
    agency: Agency,
    year: Year,
    out: Annotated[Path, typer.Option("--out", "-o", help="The workbook to write (.xlsx).")],
    force: Force = False,
    store: StorePath = None,
) -> None:
    """Export the latest revision as a standard workbook that remembers its revision, to edit and reconcile."""
    from convert.store import open_store

    with open_store(store, create=False) as st:
        path, info = st.export(agency, year, out, force=force)
    typer.echo(f"exported {agency} {year} revision {info.number} to {path}")


@store_app.command("dump")
@handled
def store_dump(
    fmt: Annotated[str, typer.Option("--format", help="csv, jsonl or parquet.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    force: Force = False,
    store: StorePath = None,
) -> None:
    """Dump the latest cells of every report as one long table: agency, year, format, key, value."""
    from convert.store import open_store

    with open_store(store, create=False) as st:
        rows = st.dump(out, fmt.lower(), force=force)
    typer.echo(f"wrote {rows} rows to {out}")


@store_app.command("migrate")
@handled
def store_migrate(
    source: Annotated[str, typer.Option("--from", help="The store to copy: an SQLite file or a postgresql:// URL.")],
    target: Annotated[str, typer.Option("--to", help="The new, empty store to copy it into.")],
) -> None:
    """Copy every report with every revision into a new store (e.g. SQLite to PostgreSQL) and verify the copy."""
    from convert.checks.catalogue import text
    from convert.store.migrate import migrate

    done = migrate(source, target)
    typer.echo(text("store-migrated", **done.to_json()))


@app.command("reconcile")
@handled
def reconcile_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="Edited workbooks (.xlsx) exported from the store.", show_default=False)
    ],
    apply: Annotated[
        bool, typer.Option("--apply", help="Store the changes as a new revision (default: dry run).")
    ] = False,
    author: Author = None,
    reason: Reason = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Apply despite error findings or a conflict; needs --reason; marks the revision forced."
        ),
    ] = False,
    add: Annotated[
        bool, typer.Option("--add", help="Start a new record when the agency and year are not in the store.")
    ] = False,
    store: StorePath = None,
    as_json: AsJson = False,
) -> None:
    """Compare edited workbooks with the store and, with --apply, store each as a new revision. Exit 1 on findings or conflicts."""
    from convert.reconcile import reconcile
    from convert.store import open_store

    code = 0
    results: list[dict[str, Any]] = []
    with open_store(store, create=apply and add) as st:
        for path in _inputs(paths):
            try:
                result = reconcile(path, st, apply=apply, author=author, reason=reason, force=force, add=add)
            except NianbaoError as exc:
                if _state["debug"]:
                    raise
                code = max(code, exc.exit_code)
                if as_json:
                    results.append(
                        {"path": str(path), "status": "refused", "exit_code": exc.exit_code, "message": str(exc)}
                    )
                else:
                    _err(f"{path}: {exc}")
                continue
            code = max(code, result.exit_code)
            if as_json:
                results.append(result.to_json())
            else:
                _print_reconcile(result)
    if as_json:
        _dump_json(results)
    raise typer.Exit(code)


def _print_reconcile(result: Any) -> None:
    from convert.store import value_text

    console = _console()
    base = (
        "not exported from the store"
        if result.base_revision is None
        else f"exported from revision {result.base_revision}"
    )
    latest = "not in the store" if result.latest_revision is None else f"store at revision {result.latest_revision}"
    console.print(f"{result.path}: {result.agency or '?'} {result.year or '?'} — {base}, {latest}", markup=False)
    diff = result.diff
    if diff.cells:
        table = _table("key", "label", "old", "new")
        for c in diff.cells:
            table.add_row(c.key, c.label, value_text(c.old) or "(blank)", value_text(c.new) or "(blank)")
        console.print(table)
    for change in diff.texts + diff.meta:
        console.print(f"changed: {change.name}", markup=False)
    errors = [f for f in result.findings if f.severity == "error"]
    if errors:
        table = _table("severity", "code", "sheet!cell", "key", "message")
        for f in errors:
            table.add_row(f.severity, f.code, f"{f.sheet}!{f.cell}" if f.sheet else "", f.key, f.message)
        console.print(table)
    warnings = len(result.findings) - len(errors)
    if warnings:
        console.print(f"{warnings} warning(s) not shown (`nianbao check` lists them)")
    console.print(result.message, markup=False)


@app.command()
@handled
def merge(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Reports, workbooks or folders, in any mix.", show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The summary workbook (.xlsx) to write.")] = Path(
        "summary.xlsx"
    ),
    store: Annotated[
        str | None, typer.Option("--store", help="Merge a store's records instead of files (with --year).")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Merge only this year (default: every year, totals of the latest).")
    ] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="When an agency and year come twice, keep the later input.")
    ] = False,
    group_by: Annotated[
        Path | None, typer.Option("--group-by", help="MANIFEST.csv: file or agency, then group columns (county, city).")
    ] = None,
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Merge many reports into one summary workbook: detail rows per report, live totals, checks, charts."""
    from convert.merge import merge_inputs, merge_store

    if store is not None:
        if paths:
            raise UsageError("give either input files or --store, not both")
        if year is None:
            raise UsageError("--store needs --year")
        result = merge_store(store, year, out, group_by=group_by, force=force)
    else:
        files = _inputs(paths or [], [out])
        result = merge_inputs(
            files, out, year=year, latest=latest, group_by=group_by, force=force, jobs=jobs, debug=_state["debug"]
        )
    for path, reason in result.skipped:
        typer.echo(f"Skipped: {path}: {reason}", err=True)
    for path, error in result.refused:
        _err(f"{path}: {error}")
    errors = sum(1 for f in result.findings if f["severity"] == "error")
    typer.echo(
        f"merged {result.merged} report(s) into {result.path}: totals of {result.total_year} "
        f"(format {result.total_version}); years {', '.join(map(str, result.years))}; "
        f"{len(result.refused)} refused; {errors} continuity finding(s)"
    )
    raise typer.Exit(result.exit_code)


def main() -> None:
    """Entry point of the nianbao console script."""
    app()


if __name__ == "__main__":
    main()
