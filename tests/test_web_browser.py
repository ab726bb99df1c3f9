"""The web page in a real browser (Debian's Chromium, headless, driven by Playwright), as a clerk would use it.

Set NIANBAO_SCREENSHOTS=FOLDER to keep a screenshot of each main page (the README's pictures are made so).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
sync_api = pytest.importorskip("playwright.sync_api")

from convert.commands import check_inputs, convert_inputs  # noqa: E402
from convert.merge import merge_inputs  # noqa: E402
from convert.readback import read_workbook  # noqa: E402
from convert.store import open_store  # noqa: E402
from tests.test_reconcile import edit  # noqa: E402
from tests.webserver import running  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "tests" / "data" / "reports"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCRIPT = "<script>alert('x')</script>"
OVER = "requests_carried_over_natural_person"
FORWARD = "requests_carried_forward_natural_person"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium (apt-get install chromium)")


@pytest.fixture
def page() -> Iterator[Any]:
    """A page of headless Chromium; any alert() a report could smuggle in fails the test."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(90_000)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        yield page
        browser.close()
        assert not dialogs, f"a script ran in the page: {dialogs}"


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the page when NIANBAO_SCREENSHOTS names a folder."""
    folder = os.environ.get("NIANBAO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def download(page: Any, selector: str, to: Path) -> Path:
    """Click a download link and keep the file."""
    with page.expect_download() as info:
        page.click(selector)
    info.value.save_as(to)
    return to


def a_folder_of_reports(tmp_path: Path) -> Path:
    """Every golden report (text, HTML, Word, PDF, web archive, markdown), one with a script, and two non-reports."""
    folder = tmp_path / "县里收到的年报"
    shutil.copytree(REPORTS, folder)
    luoqi = (REPORTS / "luoqi-2019.txt").read_text(encoding="utf-8")
    head, sep, rest = luoqi.partition("\n")
    (folder / "洛碛镇-改.txt").write_text(head + sep + SCRIPT + "\n" + rest, encoding="utf-8")
    shutil.copy(ROOT / "README.md", folder / "说明.md")
    shutil.copy(ROOT / "workbook_templates" / "preview" / "requests-2019.png", folder / "照片.png")
    return folder


def test_a_clerk_collects_checks_summarises_and_reconciles(page: Any, tmp_path: Path) -> None:
    folder = a_folder_of_reports(tmp_path)
    with running(tmp_path) as server:
        # 收集与检查: a whole folder at once, read in the worker pool while the page shows progress.
        page.goto(server.url + "/collect")
        page.set_input_files("#pick-folder", str(folder))
        page.click("#send")
        page.wait_for_selector("#tally")
        shot(page, "collect")
        rows = page.locator("tr.report-row")
        shown = {
            rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator(".verdict").get_attribute("class")
            for i in range(rows.count())
        }
        expected = {
            f"{folder.name}/{o.path.relative_to(folder).as_posix()}": o.value["verdict"]["state"]
            for o in check_inputs([folder], jobs=2)
            if o.ok and o.value["record"]
        }
        assert len(shown) == len(expected) == len(list(REPORTS.iterdir())) + 1
        assert {name: str(cls).split("state-")[1] for name, cls in shown.items()} == expected
        others = page.locator("tr.other-row").all_inner_texts()
        assert len(others) == 2
        assert any("说明.md" in o and "年度报告" in o for o in others)
        assert any("照片.png" in o for o in others)
        assert re.match(r"共检查 \d+ 份：\d+ 份通过，\d+ 份不通过，\d+ 份待核", page.inner_text("#tally"))
        batch_url = page.url

        # One report: verdict, the three tables drawn, findings; its workbook is `nianbao convert`'s.
        page.click(f"text={folder.name}/zhuzhen-2019.txt")
        page.wait_for_selector("#verdict")
        assert page.locator("section.sheet").count() == 3
        assert page.inner_text("#agency") == "竹镇镇"
        page.goto(page.url + "#table-requests")  # the 三 table at the top of the window
        shot(page, "report")
        got = read_workbook(download(page, "#download", tmp_path / "from-page.xlsx"))
        [made] = list(convert_inputs([REPORTS / "zhuzhen-2019.txt"], tmp_path / "cli.xlsx", jobs=1))
        want = read_workbook(made.value)
        assert got.cells == want.cells and got.text == want.text
        assert (got.agency, got.year, got.format) == (want.agency, want.year, want.format)

        # A report holding <script> shows it as text, and nothing runs (the fixture fails on any dialog).
        page.goto(batch_url)
        page.click(f"text={folder.name}/洛碛镇-改.txt")
        page.wait_for_selector("#texts")
        assert SCRIPT in page.inner_text("#texts")

        # 汇总: all reports, the later one kept where an agency and year come twice; totals as `nianbao merge`.
        page.goto(batch_url)
        page.click("a[href^='/summary?batch=']")
        page.check("input[name='latest']")
        shot(page, "summary")
        page.fill("input[name=title]", "某某县年度报告汇总")
        page.click("#make-summary")
        page.wait_for_selector("#summary-result")
        summary = read_workbook(download(page, "#download", tmp_path / "summary-page.xlsx"))
        assert summary.title == "某某县年度报告汇总"  # the title given, as merge --title writes it
        merged = merge_inputs([folder], tmp_path / "summary-cli.xlsx", latest=True, jobs=2)
        assert summary.cells == read_workbook(merged.path).cells
        assert f"已汇总 {merged.merged} 份报告" in page.inner_text("#summary-result")

        # 记录库: add the batch, then bring back an edited workbook: dry run, apply with the author, a conflict.
        page.goto(batch_url)
        page.fill("input[name='author']", "李明")
        page.fill("input[name='reason']", "首次入库")
        page.click("form[action$='/store'] button")
        page.wait_for_selector("ul.stored")
        with open_store(server.settings.store, create=False) as st:
            first = st.find("竹镇镇", 2019)
        assert first is not None
        page.goto(server.url + "/store")
        page.click("#records >> text=竹镇镇")
        page.wait_for_selector("#history")
        exported = download(page, "#history tr.revision >> nth=-1 >> a", tmp_path / "zhuzhen.xlsx")

        edited = edit(exported, tmp_path / "zhuzhen-edited.xlsx", **{OVER: 1, FORWARD: 1})
        page.goto(server.url + "/store")
        page.set_input_files("#pick-workbook", str(edited))
        page.wait_for_selector("#apply-form")
        changes = page.inner_text("#changes")
        assert "上年结转" in changes and "结转下年度" in changes and "自然人" in changes
        assert page.locator("#conflict").count() == 0
        page.fill("input[name='author']", "王芳")
        page.fill("input[name='reason']", "更正上年结转和结转下年度")
        page.click("#apply-form button")
        page.wait_for_selector("#applied")
        assert f"第 {first.number + 1} 版" in page.inner_text("#applied") and "王芳" in page.inner_text("#applied")
        with open_store(server.settings.store, create=False) as st:
            latest = st.history("竹镇镇", 2019)[-1].info
        assert (latest.number, latest.author, latest.reason) == (first.number + 1, "王芳", "更正上年结转和结转下年度")

        # The same old export edited again: a conflict, showing what changed in the store since the export.
        stale = edit(exported, tmp_path / "zhuzhen-stale.xlsx", **{OVER: 2, FORWARD: 2})
        page.goto(server.url + "/store")
        page.set_input_files("#pick-workbook", str(stale))
        page.wait_for_selector("#conflict")
        conflict = page.inner_text("#conflict")
        assert "王芳" in conflict and "上年结转" in conflict and f"第 {first.number + 1} 版" in conflict
        shot(page, "reconcile")
        page.fill("input[name='author']", "张三")
        page.click("#apply-form button")
        page.wait_for_selector("#error-message")
        with open_store(server.settings.store, create=False) as st:
            assert st.find("竹镇镇", 2019).number == first.number + 1  # type: ignore[union-attr]

        # The history names who changed what and why; two revisions compare cell by cell.
        page.goto(server.url + "/store")
        shot(page, "store")
        page.click("#records >> text=竹镇镇")
        history = page.inner_text("#history")
        assert "王芳" in history and "更正上年结转和结转下年度" in history and "李明" in history
        shot(page, "history")
        page.click("#compare button")
        assert "上年结转" in page.inner_text("table.changes-table")
