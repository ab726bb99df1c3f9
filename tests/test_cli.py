"""The command line through typer's runner: exit codes, one-line errors, help and README for every command."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import typer.core
import typer.main
from typer.testing import CliRunner

from convert.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def all_commands() -> list[tuple[str, typer.core.TyperCommand]]:
    """Return every command, sub-commands included, with its full name."""
    root = typer.main.get_group(app)
    out = []
    for name, cmd in root.commands.items():
        if isinstance(cmd, typer.core.TyperGroup):
            out += [(f"{name} {sub}", subcmd) for sub, subcmd in cmd.commands.items()]
        else:
            out.append((name, cmd))
    return out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, cmd in all_commands():
        assert (cmd.help or "").strip(), f"{name} has no help text"
        assert f"nianbao {name}" in readme, f"README does not show `nianbao {name}`"


def test_read_prints_one_json_line_per_input_in_order(samples: Path) -> None:
    result = runner.invoke(
        app, ["read", str(samples / "zhuzhen-2019.txt"), str(samples / "houhe-2021.txt"), "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert [r["agency"] for r in lines] == ["竹镇镇", "后河镇"]
    assert lines[0]["cells"]["requests.new_received.natural_person"] == 1
    assert lines[0]["cells"]["requests.new_received.commercial"] is None
    assert lines[0]["cells"]["proactive.procurement.amount"] == 6212.4


def test_read_a_folder(samples: Path) -> None:
    result = runner.invoke(app, ["read", str(samples), "--jobs", "2"])
    assert result.exit_code == 0
    assert len([x for x in result.stdout.splitlines() if x.startswith("{")]) == 5


def test_not_a_report_exit_1_and_the_others_still_read(tmp_path: Path, samples: Path) -> None:
    bad = tmp_path / "minutes.txt"
    bad.write_text("会议纪要\n今天开会。\n", encoding="utf-8")
    result = runner.invoke(app, ["read", str(bad), str(samples / "luoqi-2019.txt"), "--jobs", "1"])
    assert result.exit_code == 1
    assert f"错误：{bad}：" in result.stderr and "不是政府信息公开工作年度报告" in result.stderr
    assert "Traceback" not in result.output
    assert len([x for x in result.stdout.splitlines() if x.startswith("{")]) == 1
    assert "共读取 2 份：1 份成功，1 份失败" in result.stderr


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["read", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert re.search(r"错误：.*nope.txt：无法打开", result.stderr)


def test_bad_option_exit_2() -> None:
    result = runner.invoke(app, ["read", "--no-such-option"])
    assert result.exit_code == 2


def test_check_clean_report_exit_0_and_json(samples: Path) -> None:
    result = runner.invoke(app, ["check", "--json", str(samples / "luoqi-2019.txt")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0]["record"]["agency"] == "洛碛镇"
    assert not [f for f in data[0]["findings"] if f["severity"] == "error"]


def test_check_balance_failure_exit_1(tmp_path: Path, samples: Path) -> None:
    text = (samples / "zhuzhen-2019.txt").read_text(encoding="utf-8")
    # 本年新收 1 → 3 in both 自然人 and 总计: the row still adds up, the balance does not.
    broken = text.replace("一、本年新收政府信息公开申请数量\n\t1\n", "一、本年新收政府信息公开申请数量\n\t3\n", 1)
    broken = broken.replace("\t\n\t1\n\n\t二、上年结转", "\t\n\t3\n\n\t二、上年结转", 1)
    assert broken != text
    path = tmp_path / "broken.txt"
    path.write_text(broken, encoding="utf-8")
    result = runner.invoke(app, ["check", "--json", str(path)])
    assert result.exit_code == 1
    codes = {f["code"] for f in json.loads(result.stdout)[0]["findings"] if f["severity"] == "error"}
    assert "balance" in codes


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("nianbao ")


def test_limits_can_be_lowered_and_raised(samples: Path) -> None:
    from convert.safety import Limits, configure_limits

    report = str(samples / "zhuzhen-2019.txt")
    try:
        refused = runner.invoke(app, ["--limit", "max_text_bytes=1000", "read", report])
        assert refused.exit_code == 2 and "超过报告 1000 B 的上限" in refused.stderr
        allowed = runner.invoke(app, ["--limit", "max_text_bytes=100000", "read", report])
        assert allowed.exit_code == 0
        bad = runner.invoke(app, ["--limit", "no_such_limit=3", "read", report])
        assert bad.exit_code == 2 and "未知的上限 no_such_limit" in bad.stderr
    finally:
        # Put the default back: the runner shares this process with the other tests.
        configure_limits({"max_text_bytes": Limits().max_text_bytes})


def test_check_a_workbook_whose_total_was_overwritten(tmp_path: Path, samples: Path) -> None:
    import openpyxl

    book = tmp_path / "luoqi.xlsx"
    assert runner.invoke(app, ["convert", str(samples / "luoqi-2019.txt"), "-o", str(book)]).exit_code == 0
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names["requests_total_total"].destinations))
    wb[sheet][ref.replace("$", "")].value = 7
    wb.save(book)
    before = book.read_bytes()
    annotated = tmp_path / "annotated.xlsx"
    result = runner.invoke(app, ["check", "--json", str(book), "--annotate", str(annotated)])
    assert result.exit_code == 1
    codes = {f["code"] for f in json.loads(result.stdout)[0]["findings"] if f["severity"] == "error"}
    assert "formula-overwritten" in codes
    assert annotated.exists() and book.read_bytes() == before  # the input is never touched


def _broken_zhuzhen(samples: Path) -> str:
    text = (samples / "zhuzhen-2019.txt").read_text(encoding="utf-8")
    broken = text.replace("一、本年新收政府信息公开申请数量\n\t1\n", "一、本年新收政府信息公开申请数量\n\t3\n", 1)
    return broken.replace("\t\n\t1\n\n\t二、上年结转", "\t\n\t3\n\n\t二、上年结转", 1)


def test_a_folder_check_counts_each_verdict_and_lists_what_is_not_passed(tmp_path: Path, samples: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "broken.txt").write_text(_broken_zhuzhen(samples), encoding="utf-8")  # 不通过: the balance fails
    shutil.copy(samples / "zhuzhen-2019.txt", folder)  # 待核: cells a rule needs are blank
    shutil.copy(samples / "luoqi-2019.txt", folder)  # 通过
    result = runner.invoke(app, ["check", str(folder), "--jobs", "1"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    # A line per report, worst first, then the findings of those not 通过, then the count of each verdict.
    assert lines[0].startswith(f"{folder / 'broken.txt'}：竹镇镇 2019（2019）— 不通过：错误 ")
    assert lines[1].startswith(f"{folder / 'zhuzhen-2019.txt'}：竹镇镇 2019（2019）— 待核：")
    assert lines[2] == f"{folder / 'luoqi-2019.txt'}：洛碛镇 2019（2019）— 通过：错误 0 项、警告 0 条"
    assert lines[-1] == "共检查 3 份：1 份通过，1 份不通过，1 份待核"
    assert any(line.startswith("  错误 ") and line.endswith("[balance]") for line in lines)
    assert any(line.startswith("  待核原因：") for line in lines)
    listed = [line for line in lines[3:] if line.startswith(str(folder))]
    assert [line.split("：")[0] for line in listed] == [str(folder / "broken.txt"), str(folder / "zhuzhen-2019.txt")]
    # --all lists the findings of every report; --json gives each verdict's stable state.
    every = runner.invoke(app, ["check", "--all", str(folder), "--jobs", "1"]).stdout.splitlines()
    assert len([line for line in every[3:] if line.startswith(str(folder))]) == 2  # 通过 with no finding: nothing
    data = json.loads(runner.invoke(app, ["check", "--json", str(folder), "--jobs", "1"]).stdout)
    assert sorted(r["verdict"]["state"] for r in data) == ["fail", "pass", "review"]
    english = runner.invoke(app, ["--lang", "en", "check", str(folder), "--jobs", "1"])
    assert english.stdout.splitlines()[-1] == "checked 3 inputs: 1 passed, 1 failed, 1 to review"


def test_check_exits_0_only_when_every_report_passes(tmp_path: Path, samples: Path) -> None:
    clean = [str(samples / "luoqi-2019.txt"), str(samples / "fenggang-2020.txt")]
    result = runner.invoke(app, ["check", *clean, "--jobs", "1"])
    assert result.exit_code == 0 and result.stdout.splitlines()[-1] == "共检查 2 份：2 份通过，0 份不通过，0 份待核"
    assert runner.invoke(app, ["check", str(samples / "zhuzhen-2019.txt")]).exit_code == 1  # 待核 alone
    missing = runner.invoke(app, ["check", *clean, str(tmp_path / "nope.txt"), "--jobs", "1"])
    assert missing.exit_code == 2
    assert missing.stdout.splitlines()[-1] == (
        f"共检查 3 份：2 份通过，0 份不通过，0 份待核，1 份无法检查（{tmp_path / 'nope.txt'}）"
    )
