"""The nianbao command line: each command parses arguments, calls one library function, prints, maps errors to exit codes.

Every word it prints, help and usage errors included, comes from workbook_templates/texts.toml in the reader's
language: Chinese by default, English with `--lang en` or NIANBAO_LANG=en. Help texts are catalogue codes
rendered when the help is shown, so the language is known by then (NianbaoGroup.main takes --lang first).
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import typer.core

from convert import __version__
from convert.checks.catalogue import DEFAULT_LANGUAGE, language, set_language, text
from convert.errors import NianbaoError, Phrase, UsageError

F = TypeVar("F", bound=Callable[..., Any])
LANG_OPTION = "--lang"
HELP_WIDTH = 80  # display columns of the help (a CJK character takes two)


# ---------------------------------------------------------------------------------------------
# Help and usage in the reader's language. typer (with its own copy of click) words its help and its
# usage errors in English; these classes render help from catalogue codes and turn click's usage errors
# into catalogue texts from the exception's own attributes (option name, parameter), never its English text.


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


_CLOSING = "，。、；：？！）」』”’》,.;:?!)"


def _wrap(s: str, width: int) -> list[str]:
    """Wrap text to display columns: at spaces between words, anywhere between CJK characters."""
    lines: list[str] = []
    for paragraph in s.splitlines() or [""]:
        line = ""
        for word in re.findall(r"[^\s\u3000-\u9fff\uff00-\uffef]+\s*|[\u3000-\u9fff\uff00-\uffef]\s*|\s+", paragraph):
            # A line never starts with closing punctuation: it stays on the line it closes.
            if line and _width(line + word.rstrip()) > width and word[0] not in _CLOSING:
                lines.append(line.rstrip())
                line = word.lstrip()
            else:
                line += word
        lines.append(line.rstrip())
    return lines


def _metavar(param: Any) -> str:
    """A parameter's placeholder (文件或文件夹, N …), from its catalogue code."""
    words = text(param.metavar) if param.metavar else param.name.upper()
    return words + ("..." if param.nargs != 1 else "")


def _option_names(param: Any) -> str:
    return ", ".join(sorted([*param.opts, *param.secondary_opts], key=lambda o: (len(o) > 2, o)))


def _help_record(command: Any, ctx: Any, param: Any) -> tuple[str, str] | None:
    if getattr(param, "hidden", False):
        return None
    if param is command.get_help_option(ctx):
        return _option_names(param), text("help-help")
    words = text(param.help) if param.help else ""
    if param.param_type_name == "argument":
        return _metavar(param), words
    name = _option_names(param) + ("" if getattr(param, "is_flag", False) else " " + _metavar(param))
    extra = []
    if param.required:
        extra.append(text("help-required"))
    elif param.default not in (None, False, (), []) and param.show_default is not False:
        extra.append(text("help-default", value=str(param.default)))
    return name, " ".join(p for p in (words, *extra) if p)


def _write_rows(formatter: Any, title: str, rows: list[tuple[str, str]]) -> None:
    """A help section: its title, then each name with its text wrapped beside it."""
    if not rows:
        return
    formatter.write_paragraph()
    formatter.write(f"{title}\n")
    first = min(max(_width(name) for name, _ in rows), 30)
    for name, words in rows:
        pad = 2 + first + 2
        lines = _wrap(words, max(20, HELP_WIDTH - pad))
        if _width(name) > first:
            formatter.write(f"  {name}\n")
            formatter.write("".join(" " * pad + line + "\n" for line in lines if line))
            continue
        head = f"  {name}" + " " * (first - _width(name) + 2)
        formatter.write(head + (lines[0] if lines else "") + "\n")
        formatter.write("".join(" " * pad + line + "\n" for line in lines[1:]))


class _Localised:
    """What the nianbao command and group share: usage line, help text and option list from the catalogue."""

    help: str | None
    options_metavar: str | None

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write(f"{text('cli-usage', command=ctx.command_path, arguments=' '.join(pieces))}\n")

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [text("cli-usage-options")] if self.options_metavar else []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if param.param_type_name == "argument":
                pieces.append(_metavar(param) if param.required else f"[{_metavar(param)}]")
        return pieces

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        if self.help:
            formatter.write_paragraph()
            formatter.write("".join(f"  {line}\n" for line in _wrap(text(self.help), HELP_WIDTH - 2)))

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args: list[tuple[str, str]] = []
        opts: list[tuple[str, str]] = []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            record = _help_record(self, ctx, param)
            if record is not None:
                (args if param.param_type_name == "argument" else opts).append(record)
        _write_rows(formatter, text("help-section-arguments"), args)
        _write_rows(formatter, text("help-section-options"), opts)

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        pass


class NianbaoCommand(_Localised, typer.core.TyperCommand):
    """A command whose help speaks the reader's language."""


class NianbaoGroup(_Localised, typer.core.TyperGroup):
    """A group of commands whose help and usage errors speak the reader's language."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*super().collect_usage_pieces(ctx), text("cli-usage-command")]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        super().format_options(ctx, formatter)
        rows = [(name, text(cmd.help) if cmd.help else "") for name, cmd in self.commands.items() if not cmd.hidden]
        _write_rows(formatter, text("help-section-commands"), rows)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Take --lang first (help is rendered in it), run the command, render usage errors from the catalogue."""
        argv = list(sys.argv[1:] if args is None else args)
        try:
            argv = _take_language(argv)
            try:
                language()  # a NIANBAO_LANG nianbao does not speak is a usage error before anything runs
            except UsageError:
                set_language(DEFAULT_LANGUAGE)  # …said in the default language
                raise
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except NianbaoError as exc:
            typer.echo(text("cli-error", message=str(exc)), err=True)
            code = exc.exit_code
        except (typer.TyperException, typer.Abort) as exc:
            code = _show_click_error(exc)
        if not isinstance(code, int):
            code = 0  # a command that returned without raising Exit
        if standalone_mode:
            sys.exit(code)
        return code


def _take_language(argv: list[str]) -> list[str]:
    """Set the language from --lang X (or --lang=X) wherever it is before `--`, and return the other arguments."""
    set_language(None)  # without --lang, NIANBAO_LANG or Chinese: each run decides afresh
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == LANG_OPTION or arg.startswith(LANG_OPTION + "="):
            if arg == LANG_OPTION:
                if i + 1 >= len(argv):
                    raise UsageError("usage-needs-value", option=LANG_OPTION)
                value, i = argv[i + 1], i + 2
            else:
                value, i = arg.partition("=")[2], i + 1
            set_language(value.strip())  # worker processes are told it when they start (convert/batch.py)
            continue
        rest.append(arg)
        i += 1
    return rest


def _show_click_error(exc: Exception) -> int:
    """Print a usage error of typer's click in the reader's language; return its exit code."""
    kinds = {cls.__name__ for cls in type(exc).__mro__}
    ctx = getattr(exc, "ctx", None)
    if "NoArgsIsHelpError" in kinds and ctx is not None:
        typer.echo(ctx.get_help(), err=True)
        return 2
    if "Abort" in kinds:
        typer.echo(text("cli-aborted"), err=True)
        return 1
    if "UsageError" not in kinds:
        typer.echo(text("cli-error", message=text("usage-other", detail=str(exc))), err=True)
        return int(getattr(exc, "exit_code", 1))
    if ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
        typer.echo(text("cli-try-help", command=ctx.command_path) + "\n", err=True)
    typer.echo(text("cli-error", message=_usage_message(exc, kinds)), err=True)
    return 2


def _usage_message(exc: Any, kinds: set[str]) -> str:
    """What is wrong with the command line, from the exception's attributes (its own text is English)."""
    message = str(getattr(exc, "message", "") or "")
    param = getattr(exc, "param", None)
    if "NoSuchOption" in kinds:
        maybe = sorted(exc.possibilities or ())
        hint = Phrase("usage-did-you-mean", options=maybe) if maybe else ""
        return text("usage-no-such-option", option=exc.option_name, hint=hint)
    if "MissingParameter" in kinds and param is not None:
        if param.param_type_name == "argument":
            return text("usage-missing-argument", name=_metavar(param))
        return text("usage-missing-option", name=_option_names(param))
    if "BadParameter" in kinds and param is not None:
        if param.param_type_name == "argument":
            name: Phrase | str = Phrase("usage-argument", name=_metavar(param))
        else:
            name = _option_names(param)
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        if annotation is int or annotation == int | None:
            return text("usage-not-a-number", name=name)
        return text("usage-bad-value", name=name, detail=message)
    if "BadOptionUsage" in kinds:
        if "does not take a value" in message:
            return text("usage-takes-no-value", option=exc.option_name)
        return text("usage-needs-value", option=exc.option_name)
    m = re.match(r"Got unexpected extra arguments? ?(?:\(s\))? \((.*)\)$", message)
    if m:
        return text("usage-extra-arguments", arguments=m.group(1))
    m = re.match(r"No such command '(.+?)'\.(?: Did you mean (.+)\?)?$", message)
    if m:
        maybe = [s.strip().strip("'") for s in (m.group(2) or "").split(",") if s.strip()]
        hint = Phrase("usage-did-you-mean", options=maybe) if maybe else ""
        return text("usage-no-such-command", name=m.group(1), hint=hint)
    if message.startswith("Missing command"):
        return text("usage-missing-command")
    return text("usage-other", detail=message)


app = typer.Typer(
    name="nianbao",
    cls=NianbaoGroup,
    help="help-app",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
store_app = typer.Typer(cls=NianbaoGroup, help="help-store", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(store_app, name="store")
command = functools.partial(app.command, cls=NianbaoCommand)
store_command = functools.partial(store_app.command, cls=NianbaoCommand)

_state = {"debug": False}

Paths = Annotated[list[Path], typer.Argument(help="help-paths", metavar="metavar-paths", show_default=False)]
Jobs = Annotated[int | None, typer.Option("--jobs", "-j", help="help-jobs", metavar="metavar-n")]
Force = Annotated[bool, typer.Option("--force", help="help-force")]
AsJson = Annotated[bool, typer.Option("--json", help="help-json")]


def _err(message: str) -> None:
    typer.echo(text("cli-error", message=message), err=True)


def _err_at(path: Any, message: Any) -> None:
    typer.echo(text("cli-error-at", path=str(path), message=str(message)), err=True)


def handled(func: F) -> F:
    """Turn our exceptions into a one-line error and an exit code; a traceback only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from convert.lifecycle import stoppable

        try:
            with stoppable():
                return func(*args, **kwargs)
        except typer.Exit:
            raise
        except NianbaoError as exc:
            if _state["debug"]:
                raise
            _err(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (convert.lifecycle.Interrupted)
            _err(text("interrupted"))
            raise typer.Exit(getattr(exc, "exit_code", 130)) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            _err(text("internal-error", kind=type(exc).__name__, detail=str(exc)))
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(text("cli-version", version=__version__))
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="help-debug")] = False,
    limit: Annotated[list[str] | None, typer.Option("--limit", help="help-limit", metavar="metavar-limit")] = None,
    lang: Annotated[
        str | None, typer.Option(LANG_OPTION, help="help-lang", metavar="metavar-lang", show_default=False)
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="help-version")] = False,
) -> None:
    """Read, convert, check, store, reconcile and merge annual disclosure reports."""
    # --lang was taken by NianbaoGroup.main before anything was parsed; it is declared here for the help.
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
            raise UsageError("limit-syntax", item=item)
        overrides[name.strip().replace("-", "_")] = int(value)
    configure_limits(overrides)


def _inputs(paths: list[Path], outputs: list[Path | None] | None = None) -> list[Path]:
    """Expand folders into the files to read; print one line for each other file of a folder, with the reason.

    outputs: what the command writes (a workbook, or a folder of them), never read as its input.
    """
    from convert.inputs import select

    chosen = select(paths, outputs=outputs or ())
    for skipped in chosen.skipped:
        typer.echo(text("cli-skipped", path=str(skipped.path), reason=str(skipped.reason)), err=True)
    return chosen.inputs()


def _names(paths: list[Any]) -> Phrase | str:
    """The files a closing line names, ten at most, in parentheses; nothing when there are none."""
    if not paths:
        return ""
    shown = [str(p) for p in paths[:10]] + (["…"] if len(paths) > 10 else [])
    return Phrase("in-parentheses", text=shown)


def _finish(outcomes: Iterable[Any], emit: Callable[[Any], None], summary: str | None) -> tuple[int, list[Any]]:
    """Print each outcome as it comes, errors one line each, a closing line for batches; return code and failures."""
    code, total, failed = 0, 0, []
    for outcome in outcomes:
        total += 1
        if outcome.ok:
            emit(outcome)
        else:
            _err_at(outcome.path, outcome.error)
            failed.append(outcome.path)
            code = max(code, outcome.exit_code)
    if summary and total > 1:
        names = _names(failed)
        if summary == "read":
            line = text("read-summary", total=total, ok=total - len(failed), failed=len(failed), names=names)
        else:
            line = text("convert-summary", total=total, ok=total - len(failed), failed=len(failed), names=names)
        typer.echo(line, err=True)
    return code, failed


@command("read", help="help-read")
@handled
def read(paths: Paths, jobs: Jobs = None) -> None:
    """Read reports or workbooks into records: one JSON line per input, in input order."""
    from convert.commands import read_inputs

    files = _inputs(paths)
    code, _ = _finish(read_inputs(files, jobs, _state["debug"]), lambda o: typer.echo(o.value), "read")
    raise typer.Exit(code)


@command("convert", help="help-convert")
@handled
def convert_cmd(
    paths: Paths,
    out: Annotated[Path, typer.Option("--out", "-o", help="help-convert-out", metavar="metavar-path")],
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Write one standard Excel workbook per report (one sheet per section, live formulas, check sheet)."""
    from convert.commands import convert_inputs

    files = _inputs(paths, [out])
    outcomes = convert_inputs(files, out, force, jobs, _state["debug"])
    code, _ = _finish(outcomes, lambda o: typer.echo(o.value), "convert")
    raise typer.Exit(code)


# ---------------------------------------------------------------------------------------------
# check: a verdict per report, the closing count of verdicts, the findings grouped by code


@command("check", help="help-check")
@handled
def check(
    paths: Paths,
    as_json: AsJson = False,
    previous: Annotated[
        list[Path] | None, typer.Option("--previous", help="help-previous", metavar="metavar-paths")
    ] = None,
    annotate: Annotated[Path | None, typer.Option("--annotate", help="help-annotate", metavar="metavar-path")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="help-all")] = False,
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Check reports or workbooks: the 勾稽 rules, formulas, values and structure. Exit 1 unless every one is 通过."""
    from convert.commands import check_inputs

    results: list[dict[str, Any]] = []

    def emit(outcome: Any) -> None:
        result = {"path": str(outcome.path), **outcome.value}
        result["verdict"] = _verdict(result)
        results.append(result)

    files = _inputs(paths, [annotate])
    before = _previous(previous, jobs)
    code, failed = _finish(check_inputs(files, before, annotate, force, jobs, _state["debug"]), emit, None)
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        _print_check(results, failed, show_all or len(files) == 1)
    unsure = any(r["verdict"]["state"] != "pass" for r in results)
    raise typer.Exit(max(code, 1 if unsure else 0))


def _previous(paths: list[Path] | None, jobs: int | None) -> Any:
    """Read last year's reports for --previous; say which could not be read (the check goes on without them)."""
    if not paths:
        return None
    from convert.commands import read_previous

    before = read_previous(_inputs(paths), jobs, _state["debug"])
    for path, error in before.refused:
        _err_at(path, error)
    return before


def _verdict(result: dict[str, Any]) -> dict[str, Any]:
    """The report's verdict as convert/commands.py gives it (convert/checks/verdict.py)."""
    verdict: dict[str, Any] = result["verdict"]
    return verdict


_RANK = {"fail": 0, "review": 1, "pass": 2}


def _print_check(results: list[dict[str, Any]], failed: list[Any], show_all: bool) -> None:
    """A line per report, worst first; the findings of those not 通过 (or of all); the closing count."""
    console = _console()
    ordered = sorted(results, key=lambda r: (_RANK.get(r["verdict"]["state"], 0), -len(r["findings"])))
    for r in ordered:
        console.print(_check_line(r))
    shown = [r for r in ordered if show_all or r["verdict"]["state"] != "pass"]
    for r in shown:
        _print_findings(console, r, heading=len(results) > 1)
    if len(results) + len(failed) > 1:
        states = [r["verdict"]["state"] for r in results]
        console.print(
            text(
                "check-summary",
                total=len(results) + len(failed),
                passed=states.count("pass"),
                failed=states.count("fail"),
                review=states.count("review"),
                unusable=Phrase("check-unusable", count=len(failed), names=_names(failed)) if failed else "",
            )
        )


def _check_line(result: dict[str, Any]) -> str:
    verdict = result["verdict"]
    rec = result.get("record") or {}
    warnings = sum(f["severity"] != "error" for f in result["findings"])
    counts = [Phrase("count-errors", count=verdict["errors"])]
    if verdict.get("unchecked"):
        counts.append(Phrase("count-unchecked", count=verdict["unchecked"]))
    counts.append(Phrase("count-warnings", count=warnings))
    return text(
        "check-line",
        path=result["path"],
        agency=rec.get("agency") or "?",
        year=rec.get("year") or "?",
        format=rec.get("format") or "?",
        verdict=verdict["label"],
        counts=counts,
    )


_GROUP_LIMIT = 10
_REASON_LIMIT = 5


def _print_findings(console: Any, result: dict[str, Any], heading: bool) -> None:
    """The findings of one report grouped by code, worst first: errors, then warnings that leave it 待核, then the rest."""
    from convert.checks.catalogue import needs_review
    from convert.errors import FormatDataError

    def unsure(code: str) -> bool:
        try:
            return needs_review(code)
        except FormatDataError:
            return True

    verdict = result["verdict"]
    if not result["findings"] and not verdict.get("reasons"):
        return
    if heading:
        console.print("")
        console.print(_check_line(result))
    if verdict["state"] == "review":
        reasons = verdict.get("reasons", [])
        for reason in reasons[:_REASON_LIMIT]:
            console.print("  " + text("check-reason", reason=reason))
        if len(reasons) > _REASON_LIMIT:
            console.print("  " + text("check-more-reasons", count=len(reasons) - _REASON_LIMIT))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in result["findings"]:
        groups.setdefault((f["severity"], f["code"]), []).append(f)
    fmt = (result.get("record") or {}).get("format")
    for (severity, code), items in sorted(
        groups.items(), key=lambda g: (g[0][0] != "error", not unsure(g[0][1]), -len(g[1]), g[0][1])
    ):
        word = text("severity", case="error" if severity == "error" else "warning")
        console.print("  " + text("check-group", severity=word, code=code, count=len(items)))
        # The same words in many places are said once, with the places under them.
        by_message: dict[str, list[dict[str, Any]]] = {}
        for f in items:
            by_message.setdefault(f["message"], []).append(f)
        for message, same in by_message.items():
            places = [w for w in (_where(f, fmt) for f in same) if w]
            if len(same) == 1 or not places:
                console.print("    " + (text("check-item-at", where=places[0], message=message) if places else message))
                quoted = _excerpt_line(same[0], message) if len(same) == 1 else ""
                if quoted:
                    console.print("      " + quoted)
                continue
            console.print("    " + text("check-same-message", message=message, count=len(same)))
            for where in places[:_GROUP_LIMIT]:
                console.print("      " + where)
            if len(places) > _GROUP_LIMIT:
                console.print("      " + text("check-more", count=len(places) - _GROUP_LIMIT))


_EXCERPT_SHOWN = 100


def _excerpt_line(finding: dict[str, Any], message: str) -> str:
    """The one line under a warning quoting the input it came from, when that says more than the message."""
    from convert.checks.positions import quoted
    from convert.record import excerpts_from_json

    excerpts = excerpts_from_json(finding.get("excerpts"))
    if not excerpts:
        return ""
    first = excerpts[0]
    # A message that already holds the row (its label, and its cells as printed, gaps too) says it all.
    label, _, cells = first.text.partition(" | ")
    if label in message and cells in message:
        return ""
    more = Phrase("check-excerpt-more", count=len(excerpts) - 1) if len(excerpts) > 1 else ""
    return quoted(first, limit=_EXCERPT_SHOWN, more=more)


def _where(finding: dict[str, Any], fmt: str | None) -> str:
    """A finding's position in words (section · row · column) and its cell, as far as they are known."""
    key = finding.get("key") or ""
    parts = [position(key, fmt)] if key else []
    if finding.get("sheet"):
        parts.append(f"{finding['sheet']}!{finding['cell']}")
    return " ".join(p for p in parts if p)


def position(key: str, fmt: str | None) -> str:
    """A finding's or cell's key in words (convert.checks.positions.place)."""
    from convert.checks.positions import place

    return place(key, fmt)


# ---------------------------------------------------------------------------------------------
# The store and reconcile (issue #5)

StorePath = Annotated[
    str | None,
    typer.Option("--store", help="help-store-path", metavar="metavar-store", show_default=False),
]
Author = Annotated[str | None, typer.Option("--author", help="help-author", metavar="metavar-name", show_default=False)]
Reason = Annotated[str | None, typer.Option("--reason", help="help-reason", metavar="metavar-text")]
Agency = Annotated[str, typer.Argument(help="help-agency", metavar="metavar-agency", show_default=False)]
Year = Annotated[int, typer.Argument(help="help-year", metavar="metavar-year", show_default=False)]


def _console() -> Any:
    from rich.console import Console

    # Data is never markup: report text, names and reasons may hold [brackets] or :colons: of their own.
    return Console(
        soft_wrap=True,
        width=None if sys.stdout.isatty() else 160,
        highlight=False,
        markup=False,
        emoji=False,
    )


def _table(*columns: str) -> Any:
    """A table with these column headers (catalogue codes); cells are added as plain text, never markup."""
    from rich.table import Table

    table = Table(show_lines=False)
    for col in columns:
        table.add_column(text(col), overflow="fold")
    return table


def _row(table: Any, *cells: Any) -> None:
    from rich.text import Text

    table.add_row(*(Text("" if c is None else str(c)) for c in cells))


def _dump_json(data: Any) -> None:
    from convert.record import dumps

    typer.echo(dumps(data, indent=2))


def _shown(value: Any) -> str:
    """A stored value as text; a blank in words."""
    from convert.store import value_text

    shown = value_text(value)
    return text("value-blank") if shown is None else shown


@store_command("add", help="help-store-add")
@handled
def store_add(paths: Paths, store: StorePath = None, author: Author = None, reason: Reason = None) -> None:
    """Add reports (or converted workbooks) to the store: a new record, a new revision, or nothing if identical."""
    from convert.inputs import Skipped
    from convert.store import add_files, default_author, open_store

    code = 0
    with open_store(store) as st:
        added = add_files(st, _inputs(paths), author=author or default_author(), reason=reason, debug=_state["debug"])
        for path, result in added:
            if isinstance(result, Skipped):
                typer.echo(text("cli-skipped", path=str(path), reason=str(result.reason)), err=True)
            elif isinstance(result, NianbaoError):
                _err_at(path, result)
                code = max(code, result.exit_code)
            elif result.status == "identical":
                typer.echo(
                    text("store-add-identical", path=str(path), agency=result.agency, year=result.year,
                         revision=result.revision)
                )  # fmt: skip
            else:
                what = Phrase("store-new-record") if result.status == "new-report" else Phrase("store-new-revision")
                typer.echo(
                    text("store-added", path=str(path), agency=result.agency, year=result.year,
                         revision=result.revision, what=what)
                )  # fmt: skip
    raise typer.Exit(code)


@store_command("list", help="help-store-list")
@handled
def store_list(
    year: Annotated[int | None, typer.Option("--year", help="help-list-year", metavar="metavar-year")] = None,
    store: StorePath = None,
    as_json: AsJson = False,
) -> None:
    """List the reports in the store with their latest revision."""
    from convert.store import local_time, open_store

    with open_store(store, create=False) as st:
        reports = st.list(year)
    if as_json:
        _dump_json([r.to_json() for r in reports])
        return
    table = _table("col-agency", "col-year", "col-format", "col-revisions", "col-last-author", "col-updated")
    for r in reports:
        _row(table, r.agency, r.year, r.format, r.revisions, r.author, local_time(r.updated))
    console = _console()
    console.print(table)
    console.print(text("store-list-count", count=len(reports)))


@store_command("show", help="help-store-show")
@handled
def store_show(
    agency: Agency,
    year: Year,
    revision: Annotated[int | None, typer.Option("--revision", help="help-revision", metavar="metavar-n")] = None,
    store: StorePath = None,
    as_json: AsJson = False,
) -> None:
    """Show one report's record at its latest (or a given) revision: who stored it, why, and every filled cell."""
    from convert.store import local_time, open_store

    with open_store(store, create=False) as st:
        record, info = st.get(agency, year, revision)
    if as_json:
        _dump_json({"revision": info.to_json(), "record": record.to_json()})
        return
    console = _console()
    console.print(
        text(
            "store-show-head",
            agency=info.agency,
            year=info.year,
            format=info.format,
            number=info.number,
            latest=info.latest,
            forced=Phrase("store-forced-mark") if info.forced else "",
            author=info.author,
            created=local_time(info.created),
            reason=Phrase("store-reason", reason=info.reason) if info.reason else "",
        )
    )
    if record.title:
        console.print(record.title)
    table = _table("col-position", "col-value", "col-key")
    blank = 0
    for key, value in record.cells.items():
        if value is None:
            blank += 1
            continue
        _row(table, position(key, record.format), _shown(value), key)
    console.print(table)
    console.print(text("store-show-count", filled=len(record.cells) - blank, blank=blank))


@store_command("history", help="help-store-history")
@handled
def store_history(agency: Agency, year: Year, store: StorePath = None, as_json: AsJson = False) -> None:
    """Show every revision of a report: when, who, why, and which cells each one changed."""
    from convert.store import local_time, open_store

    with open_store(store, create=False) as st:
        entries = st.history(agency, year)
    if as_json:
        _dump_json([e.to_json() for e in entries])
        return
    table = _table(
        "col-revision", "col-created", "col-author", "col-reason", "col-source", "col-base", "col-forced",
        "col-changed",
    )  # fmt: skip
    for e in entries:
        i = e.info
        changed = "\n".join(
            text("store-change", key=position(c.key, i.format), old=_shown(c.old), new=_shown(c.new))
            for c in e.changed[:20]
        )
        if len(e.changed) > 20:
            changed += "\n" + text("store-more-changes", count=len(e.changed) - 20)
        _row(
            table, i.number, local_time(i.created), i.author, i.reason or "", i.source_name or "",
            "" if i.base_revision is None else i.base_revision, text("yes") if i.forced else "", changed,
        )  # fmt: skip
    console = _console()
    console.print(text("store-history-head", agency=agency, year=year, count=len(entries)))
    console.print(table)


@store_command("export", help="help-store-export")
@handled
def store_export(
    agency: Agency,
    year: Year,
    out: Annotated[Path, typer.Option("--out", "-o", help="help-export-out", metavar="metavar-path")],
    force: Force = False,
    store: StorePath = None,
) -> None:
    """Export the latest revision as a standard workbook that remembers its revision, to edit and reconcile."""
    from convert.store import open_store

    with open_store(store, create=False) as st:
        path, info = st.export(agency, year, out, force=force)
    typer.echo(text("store-exported", agency=agency, year=year, revision=info.number, path=str(path)))


@store_command("dump", help="help-store-dump")
@handled
def store_dump(
    fmt: Annotated[str, typer.Option("--format", help="help-dump-format", metavar="metavar-format")],
    out: Annotated[Path, typer.Option("--out", "-o", help="help-dump-out", metavar="metavar-path")],
    force: Force = False,
    store: StorePath = None,
) -> None:
    """Dump the latest cells of every report as one long table: agency, year, format, key, value."""
    from convert.store import open_store

    with open_store(store, create=False) as st:
        rows = st.dump(out, fmt.lower(), force=force)
    typer.echo(text("store-dumped", count=rows, path=str(out)))


@store_command("migrate", help="help-store-migrate")
@handled
def store_migrate(
    source: Annotated[str, typer.Option("--from", help="help-migrate-from", metavar="metavar-store")],
    target: Annotated[str, typer.Option("--to", help="help-migrate-to", metavar="metavar-store")],
) -> None:
    """Copy every report with every revision into a new store (e.g. SQLite to PostgreSQL) and verify the copy."""
    from convert.store.migrate import migrate

    done = migrate(source, target)
    typer.echo(text("store-migrated", **done.to_json()))


@command("reconcile", help="help-reconcile")
@handled
def reconcile_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="help-reconcile-paths", metavar="metavar-workbooks", show_default=False),
    ],
    apply: Annotated[bool, typer.Option("--apply", help="help-apply")] = False,
    author: Author = None,
    reason: Reason = None,
    force: Annotated[bool, typer.Option("--force", help="help-reconcile-force")] = False,
    add: Annotated[bool, typer.Option("--add", help="help-add")] = False,
    store: StorePath = None,
    as_json: AsJson = False,
) -> None:
    """Compare edited workbooks with the store and, with --apply, store each as a new revision. Exit 1 on findings or conflicts."""
    from convert.reconcile import reconcile_files
    from convert.store import open_store

    code = 0
    results: list[dict[str, Any]] = []
    with open_store(store, create=apply and add) as st:
        options = {"apply": apply, "author": author, "reason": reason, "force": force, "add": add}
        for path, result in reconcile_files(_inputs(paths), st, debug=_state["debug"], **options):
            if isinstance(result, NianbaoError):
                exc = result
                code = max(code, exc.exit_code)
                if as_json:
                    results.append(
                        {"path": str(path), "status": "refused", "exit_code": exc.exit_code, "message": str(exc)}
                    )
                else:
                    _err_at(path, exc)
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
    console = _console()
    base = (
        Phrase("reconcile-not-exported")
        if result.base_revision is None
        else Phrase("reconcile-exported-from", revision=result.base_revision)
    )
    latest = (
        Phrase("reconcile-not-stored")
        if result.latest_revision is None
        else Phrase("reconcile-store-at", revision=result.latest_revision)
    )
    console.print(
        text(
            "reconcile-head",
            path=str(result.path),
            agency=result.agency or "?",
            year=result.year or "?",
            base=base,
            latest=latest,
        )
    )
    diff = result.diff
    if diff.cells:
        table = _table("col-position", "col-old", "col-new", "col-key")
        for c in diff.cells:
            _row(table, position(c.key, result.format), _shown(c.old), _shown(c.new), c.key)
        console.print(table)
    for change in diff.texts + diff.meta:
        console.print(text("reconcile-changed", name=change.name))
    errors = [f for f in result.findings if f.severity == "error"]
    if errors:
        findings = [f.to_json() for f in errors]
        verdict = {"state": "fail", "reasons": []}
        report = {"findings": findings, "verdict": verdict, "record": {"format": result.format}}
        _print_findings(console, report, heading=False)
    warnings = len(result.findings) - len(errors)
    if warnings:
        console.print(text("reconcile-warnings-hidden", count=warnings))
    console.print(str(result.message))


@command("merge", help="help-merge")
@handled
def merge(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="help-merge-paths", metavar="metavar-paths", show_default=False),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="help-merge-out", metavar="metavar-path")] = Path(
        "summary.xlsx"
    ),
    store: Annotated[str | None, typer.Option("--store", help="help-merge-store", metavar="metavar-store")] = None,
    year: Annotated[int | None, typer.Option("--year", help="help-merge-year", metavar="metavar-year")] = None,
    latest: Annotated[bool, typer.Option("--latest", help="help-latest")] = False,
    group_by: Annotated[
        Path | None, typer.Option("--group-by", help="help-group-by", metavar="metavar-manifest")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="help-title", metavar="metavar-text")] = None,
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Merge many reports into one summary workbook: detail rows per report, live totals, checks, charts."""
    from convert.merge import merge_inputs, merge_store

    if store is not None:
        if paths:
            raise UsageError("merge-files-or-store")
        if year is None:
            raise UsageError("merge-store-needs-year")
        result = merge_store(store, year, out, group_by=group_by, title=title, force=force)
    else:
        files = _inputs(paths or [], [out])
        result = merge_inputs(
            files, out, year=year, latest=latest, group_by=group_by, force=force, jobs=jobs, debug=_state["debug"],
            title=title,
        )  # fmt: skip
    for path, reason in result.skipped:
        typer.echo(text("cli-skipped", path=str(path), reason=str(reason)), err=True)
    for path, error in result.refused:
        _err_at(path, error)
    errors = sum(1 for f in result.findings if f["severity"] == "error")
    typer.echo(
        text(
            "merge-summary",
            count=result.merged,
            path=str(result.path),
            year=result.total_year,
            format=result.total_version,
            years=[str(y) for y in result.years],
            refused=len(result.refused),
            findings=errors,
        )
    )
    raise typer.Exit(result.exit_code)


@command("notice", help="help-notice")
@handled
def notice(
    paths: Annotated[list[Path], typer.Argument(help="help-notice-paths", metavar="metavar-paths", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="help-notice-out", metavar="metavar-path")],
    previous: Annotated[
        list[Path] | None, typer.Option("--previous", help="help-previous", metavar="metavar-paths")
    ] = None,
    latest: Annotated[bool, typer.Option("--latest", help="help-latest")] = False,
    issuer: Annotated[str | None, typer.Option("--issuer", help="help-issuer", metavar="metavar-text")] = None,
    due: Annotated[str | None, typer.Option("--due", help="help-due", metavar="metavar-text")] = None,
    force: Force = False,
    jobs: Jobs = None,
) -> None:
    """Write a 整改通知 (.docx) for each report that is not 通过, and an overview workbook of them."""
    from convert.checks.verdict import state_label
    from convert.notice import write_notices

    result = write_notices(
        _inputs(paths, [out]), out, previous=_previous(previous, jobs), latest=latest, issuer=issuer, due=due,
        force=force, jobs=jobs, debug=_state["debug"],
    )  # fmt: skip
    for source, error in result.refused:
        _err_at(source, error)
    for row, path in result.written:
        errors = sum(p.kind == "error" for p in row.problems)
        reviews = sum(p.kind == "review" for p in row.problems)
        typer.echo(
            text("notice-written", path=str(path), agency=row.agency, year=row.year or "",
                 verdict=state_label(row.state), errors=errors, reviews=reviews)
        )  # fmt: skip
    typer.echo(
        text("notice-done", count=result.reports, notices=len(result.written), passed=len(result.passed),
             refused=len(result.refused), overview=str(result.overview))
    )  # fmt: skip
    raise typer.Exit(result.exit_code)


# ---------------------------------------------------------------------------------------------
# The web page (issue #16)


@command("serve", help="help-serve")
@handled
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="help-serve-host", metavar="metavar-host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="help-serve-port", metavar="metavar-n")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", help="help-serve-token", metavar="metavar-text", envvar="NIANBAO_WEB_TOKEN", show_default=False
        ),
    ] = None,
    store: StorePath = None,
    jobs: Jobs = None,
) -> None:
    """Serve the web page on this machine: collect and check, one report, the summary, the store."""
    from convert.web import require

    require()
    from convert.web.app import Settings
    from convert.web.server import address, serve

    def announce(settings: Settings) -> None:
        typer.echo(text("web-started", address=address(settings)))
        if settings.token:
            typer.echo(text("web-started-token"))

    serve(Settings(host=host, port=port, token=token, store=str(store) if store else None, jobs=jobs), announce)


def main() -> NoReturn:
    """Entry point of the nianbao console script."""
    from convert.lifecycle import catch_stop_signals, quiet_leftovers

    catch_stop_signals()
    quiet_leftovers(lambda: _state["debug"])
    app()
    raise SystemExit(0)  # pragma: no cover - the group exits itself


if __name__ == "__main__":
    main()
