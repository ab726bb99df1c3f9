"""The interface speaks one language: Chinese by default, English with --lang en; data is printed as written."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from convert.cli import app
from convert.formats import known_versions, load_format
from convert.reader import read_report
from convert.store import local_time, open_store
from tests.test_cli import all_commands

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# Words an English-free Chinese screen may still show: the tool, file kinds and formats, the programs named in
# advice, encodings, units, language codes. Options (--jobs), codes in [brackets], record keys (requests.x.y),
# names with underscores (max_cells, NIANBAO_LANG) and file names are taken out before the words are looked at.
ALLOWED_ASCII = {
    "nianbao", "JSON", "CSV", "SQLite", "PDF", "Excel", "Word", "WPS", "LibreOffice", "xlsx", "docx", "txt", "md",
    "html", "csv", "jsonl", "parquet", "zh", "en", "UTF", "GBK", "GB", "KB", "MB", "pip", "install", "apt", "get",
    "PNG", "JPEG", "GIF", "TIFF", "BMP", "ZIP", "RAR", "RTF", "HTML", "XML", "DTD", "PowerPoint", "OpenDocument",
    "PostgreSQL", "postgresql",  # the PostgreSQL store and its URLs
    # The commands, as typed: nianbao check, nianbao store show.
    "read", "convert", "check", "reconcile", "merge", "serve", "store", "add", "list", "show", "history", "export", "dump",
    "notice", "migrate",
}  # fmt: skip


def english_words(output: str, names: list[str]) -> list[str]:
    """Return the English words of an output that a Chinese reader would meet (see ALLOWED_ASCII)."""
    for name in sorted(names, key=len, reverse=True):
        output = output.replace(name, " ")
    output = re.sub(r"(?:/[\w.-]+)+|[\w-]+\.(?:xlsx|txt|db|csv)\b", " ", output)  # paths and file names
    output = re.sub(r"\[[a-z][a-z0-9-]*\]", " ", output)  # a finding's code, the secondary tag
    output = re.sub(r"--?[a-z][a-z-]*", " ", output)  # option names
    output = re.sub(r"\b[a-z_]+(?:\.[a-z_*0-9]+)+\b", " ", output)  # record keys
    output = re.sub(r"\b\w*_\w*\b", " ", output)  # limit names, environment variables
    output = re.sub(r"'nianbao\[\w+\]'", " ", output)  # an extra to install
    return [w for w in re.findall(r"[A-Za-z]{2,}", output) if w not in ALLOWED_ASCII]


def official_words() -> set[str]:
    """Every label the format prints (sections, tables, rows, columns, rules) and the samples' agencies and titles."""
    words: set[str] = set()
    for version in known_versions():
        fmt = load_format(version)
        for section in fmt.sections:
            words |= {section.heading, section.sheet, f"{section.number}、{section.heading}"}
        for table in fmt.tables.values():
            words |= {row.label for row in table.rows} | {col.label for col in table.columns}
            words |= {col.group for col in table.columns if col.group}
        words |= {rule.title for rule in fmt.rules}
    for sample in (ROOT / "samples").iterdir():
        record = read_report(sample)
        words |= {record.agency or "", record.title or ""}
    return {w for w in words if w}


def chinese_left(output: str, allowed: set[str]) -> list[str]:
    """Return the Chinese of an English output that is neither report content nor an official label."""
    while re.search(r"「[^「」]*」|“[^“”]*”", output):  # quoted labels and text of the report, inner ones first
        output = re.sub(r"「[^「」]*」|“[^“”]*”", " ", output)
    for word in sorted(allowed, key=len, reverse=True):
        output = output.replace(word, " ")
    return re.findall(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+", output)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the samples, a picture named like a report, and nothing else yet."""
    folder = tmp_path_factory.mktemp("lang")
    shutil.copytree(ROOT / "samples", folder / "samples")
    (folder / "bad").mkdir()
    (folder / "bad" / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return folder


def session(work: Path, lang: list[str], tag: str) -> Iterator[tuple[str, str]]:
    """Run the main commands as a user would, yielding (command, everything it printed)."""
    out, db = work / f"out-{tag}", str(work / f"{tag}.db")
    samples, zhuzhen = str(work / "samples"), str(work / "samples" / "zhuzhen-2019.txt")
    book = str(work / f"zhuzhen-{tag}.xlsx")

    def run(*args: str) -> str:
        result = runner.invoke(app, [*lang, *args])
        assert "Traceback" not in result.output, result.output
        return result.output

    yield "help", run("--help")
    for name, _ in all_commands():
        yield f"{name} --help", run(*name.split(), "--help")
    yield "no such option", run("read", "--no-such-option")
    yield "missing option", run("convert", zhuzhen)
    yield "not a number", run("check", "--jobs", "many", zhuzhen)
    yield "no such command", run("chek", zhuzhen)
    yield "unreadable", run("read", str(work / "nothere.txt"), str(work / "bad" / "scan.txt"))
    yield "skipped", run("read", str(work / "bad"), zhuzhen, "--jobs", "1").split("{", 1)[0]
    yield "convert", run("convert", samples, "-o", str(out), "--jobs", "1")
    # (The reader's own warnings on the samples' text are reworded under issue #13's warnings part.)
    yield "check", run("check", str(out), str(work / "samples" / "houhe-2021.txt"), "--jobs", "1")
    yield "check --all", run("check", "--all", str(out), "--jobs", "1")
    yield "merge", run("merge", samples, "-o", str(work / f"summary-{tag}.xlsx"), "--jobs", "1")
    yield "store add", run("store", "add", samples, "--store", db, "--author", "李明", "--reason", "首次入库")
    yield "store add again", run("store", "add", zhuzhen, "--store", db, "--author", "李明")
    yield "store list", run("store", "list", "--store", db)
    yield "store export", run("store", "export", "竹镇镇", "2019", "-o", book, "--store", db)
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names["requests_carried_over_natural_person"].destinations))
    wb[sheet][ref.replace("$", "")].value = 1
    wb.save(book)
    yield "reconcile", run("reconcile", book, "--store", db)
    yield "reconcile --apply", run("reconcile", book, "--apply", "--author", "王芳", "--reason", "更正", "--store", db)
    yield "reconcile conflict", run("reconcile", book, "--apply", "--author", "王芳", "--store", db)
    yield "store history", run("store", "history", "竹镇镇", "2019", "--store", db)
    yield "store show", run("store", "show", "竹镇镇", "2019", "--store", db)
    yield "store show missing", run("store", "show", "竹镇镇", "2099", "--store", db)
    yield "store dump", run("store", "dump", "--format", "csv", "-o", str(work / f"{tag}.csv"), "--store", db)


def test_by_default_no_english_reaches_the_user(work: Path) -> None:
    typed = ["samples", "zhuzhen", "fenggang", "houhe", "liancai", "luoqi", "summary", "scan", "nothere", "bad"]
    names = [str(work), *typed, "chek", "many"]  # folders and files, and what the user mistyped
    seen = 0
    for what, output in session(work, [], "zh"):
        seen += 1
        assert output.strip(), what
        assert not english_words(output, names), (what, english_words(output, names), output)
    assert seen > 25


def test_with_lang_en_no_chinese_but_report_content_and_official_labels(work: Path) -> None:
    allowed = official_words() | {
        "李明", "王芳", "首次入库", "更正",  # what the user typed
        "政府信息公开工作年度报告", "勾稽", "机关名称",  # the report's own terms, kept in the English help
    }  # fmt: skip
    seen = 0
    for what, output in session(work, ["--lang", "en"], "en"):
        seen += 1
        assert output.strip(), what
        assert not chinese_left(output, allowed), (what, chinese_left(output, allowed), output)
    assert seen > 25


def test_the_allow_lists_catch_what_they_should() -> None:
    # The checks above would pass anything if these did not see a stray word.
    assert english_words("错误：cannot open x.txt", ["x.txt"]) == ["cannot", "open"]
    assert english_words("用法：nianbao check [选项] --jobs [balance] requests.a.b max_cells 1.0 KB", []) == []
    assert chinese_left("Error: 无法打开 「三、申请」 “规则”", set()) == ["无法打开"]


def test_nianbao_lang_and_the_option_choose_the_language(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["--help"]).output.startswith("用法：")
    assert runner.invoke(app, ["--lang", "en", "--help"]).output.startswith("Usage:")
    # --lang anywhere on the line, before or after the command, as --lang=en too.
    assert runner.invoke(app, ["read", "--help", "--lang=en"]).output.startswith("Usage:")
    monkeypatch.setenv("NIANBAO_LANG", "en")
    assert runner.invoke(app, ["--help"]).output.startswith("Usage:")
    assert runner.invoke(app, ["--lang", "zh", "--help"]).output.startswith("用法：")
    bad = runner.invoke(app, ["--lang", "fr", "--help"])
    assert bad.exit_code == 2 and "unknown language 'fr'" in bad.stderr
    monkeypatch.setenv("NIANBAO_LANG", "fr")
    bad = runner.invoke(app, ["--help"])
    assert bad.exit_code == 2 and bad.stderr.startswith("错误：NIANBAO_LANG=fr 不是 nianbao 支持的语言")


def test_usage_errors_are_said_in_chinese_with_the_usage_line() -> None:
    result = runner.invoke(app, ["convert", "x.txt"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "用法：nianbao convert [选项] 文件或文件夹...",
        "运行 'nianbao convert --help' 查看帮助。",
        "",
        "错误：缺少选项 -o, --out",
    ]
    assert runner.invoke(app, ["store", "show", "竹镇镇", "二〇一九"]).stderr.endswith(
        "错误：参数「年度」：值无效，应为整数\n"
    )
    assert "没有这个选项：--jsn（是不是：--jobs、--json？）" in runner.invoke(app, ["check", "--jsn", "x"]).stderr


MARKUP = ["[/x]", "[admin]", "[link=http://evil.example]点我[/link]", "[bold red]", ":smile:"]


def test_data_is_never_terminal_markup(tmp_path: Path, samples: Path) -> None:
    # Names, reasons and report text holding rich markup print as written: no crash, nothing lost, no link.
    db = str(tmp_path / "nb.db")
    record = read_report(samples / "zhuzhen-2019.txt")
    agency = "竹镇镇" + "".join(MARKUP)
    record.agency = agency
    with open_store(db) as store:
        store.add(
            record,
            author="[/x]李明[admin]",
            reason="[link=http://evil.example]理由[/link]:smile:",
            source_name="[b]r.txt",
            sha256=None,
        )
    outputs = [
        runner.invoke(app, ["store", "list", "--store", db]),
        runner.invoke(app, ["store", "show", agency, "2019", "--store", db]),
        runner.invoke(app, ["store", "history", agency, "2019", "--store", db]),
    ]
    book = tmp_path / "book.xlsx"
    outputs.append(runner.invoke(app, ["store", "export", agency, "2019", "-o", str(book), "--store", db]))
    outputs.append(runner.invoke(app, ["check", str(book)]))
    outputs.append(runner.invoke(app, ["reconcile", str(book), "--store", db]))
    for result in outputs:
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "MarkupError" not in result.output and "\x1b]8;" not in result.output  # no terminal hyperlink
    flat = [r.output.replace("\n", "").replace("│", "").replace(" ", "") for r in outputs]
    for mark in MARKUP:
        assert mark.replace(" ", "") in flat[0] + flat[1], mark  # the agency, whole, in the list and the record
    assert "[/x]李明[admin]" in flat[0] and "[link=http://evil.example]理由[/link]:smile:" in flat[1]
    assert agency.replace(" ", "") in flat[4] and agency.replace(" ", "") in flat[5]


def test_times_are_local_and_written_as_people_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert local_time("2026-01-15T01:30:00+00:00") == "2026-01-15 09:30"
        assert local_time("2026-01-15T17:05:59+00:00") == "2026-01-16 01:05"
        assert local_time("not a time") == "not a time"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_default_author_is_the_user_on_any_system(monkeypatch: pytest.MonkeyPatch) -> None:
    from convert.store import default_author

    for name in ("USER", "USERNAME", "LOGNAME"):
        monkeypatch.delenv(name, raising=False)
    assert default_author() == "unknown"
    monkeypatch.setenv("LOGNAME", "log")
    assert default_author() == "log"
    monkeypatch.setenv("USERNAME", "王芳")  # Windows
    assert default_author() == "王芳"
    monkeypatch.setenv("USER", "liming")
    assert default_author() == "liming"


def test_the_systems_usual_reasons_are_said_in_the_readers_language() -> None:
    import errno

    from convert.errors import UnreadableInputError
    from convert.safety import os_reason

    denied = UnreadableInputError("cannot-open", reason=os_reason(PermissionError(errno.EACCES, "Permission denied")))
    assert str(denied) == "无法打开：没有读取它的权限"
    odd = os_reason(OSError(errno.EXDEV, "Invalid cross-device link"))
    assert odd == "Invalid cross-device link"  # a rare one is shown as the system says it
