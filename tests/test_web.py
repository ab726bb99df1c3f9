"""The web page over HTTP: access token, host check, CSRF, upload limits and names, escaping, headers, clean-up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from tests.webserver import Client, running

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCRIPT = "<script>alert('x')</script>"


def new_batch(client: Client) -> dict:
    """Open a batch as the page's script does."""
    client.get("/collect")
    answer = client.post("/collect")
    assert answer.status == 200, answer.text
    return json.loads(answer.body)


def read_batch(client: Client, files: dict[str, bytes]) -> str:
    """Upload files, read them, wait for the results; return the batch page."""
    batch = new_batch(client)
    for name, data in files.items():
        assert client.upload(batch["files"], name, data).status == 200
    assert client.post(batch["start"]).status == 200
    deadline = time.monotonic() + 60
    while json.loads(client.get(batch["page"] + "/progress").body)["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return client.get(batch["page"]).text


def test_a_non_local_host_needs_the_token_on_every_request(tmp_path: Path) -> None:
    # Listening on all interfaces (the decision is the settings'; the test socket stays on 127.0.0.1).
    with running(tmp_path, host="0.0.0.0") as server:
        token = server.settings.token
        assert token and len(token) >= 20
        client = Client(server.port, host="192.168.1.20:8765")
        refused = client.get("/collect")
        assert refused.status == 403
        assert "访问令牌" in refused.text and token not in refused.text
        assert client.get("/static/app.js").status == 403
        assert client.post("/collect").status == 403
        assert client.get("/collect?token=wrong").status == 403
        # The token in the address: kept in a cookie, taken out of the address bar.
        entered = client.get(f"/collect?token={token}")
        assert entered.status == 303 and entered.headers["location"] == "/collect"
        assert "HttpOnly" in entered.headers["set-cookie"] and "SameSite=Strict" in entered.headers["set-cookie"]
        assert client.get("/collect").status == 200
        assert Client(server.port).get("/collect", Authorization=f"Bearer {token}").status == 200


def test_a_given_token_is_needed_even_on_this_machine(tmp_path: Path) -> None:
    with running(tmp_path, token="s3cret-token-of-the-office") as server:
        assert Client(server.port).get("/collect").status == 403
        assert Client(server.port).get("/collect?token=s3cret-token-of-the-office").status == 303


def test_on_this_machine_a_foreign_host_name_is_refused(tmp_path: Path) -> None:
    # A page of another site reaching 127.0.0.1 through its own DNS name (rebinding) is no local request.
    with running(tmp_path) as server:
        assert Client(server.port).get("/collect").status == 200
        assert Client(server.port, host=f"localhost:{server.port}").get("/collect").status == 200
        foreign = Client(server.port, host="evil.example:80").get("/collect")
        assert foreign.status == 403 and "本机" in foreign.text


def test_every_change_needs_the_csrf_token_of_the_page(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        client = Client(server.port)
        client.get("/collect")
        assert client.request("POST", "/collect").status == 403  # no token
        assert client.request("POST", "/collect", headers={"X-CSRF-Token": "x" * 32}).status == 403
        other = Client(server.port)
        other.get("/collect")
        # Another browser's token is no good with this browser's cookie.
        assert client.request("POST", "/collect", headers={"X-CSRF-Token": other.csrf}).status == 403
        # A form from another site, even with the right token, is refused by its Origin.
        assert client.post("/collect", Origin="http://evil.example").status == 403
        assert client.post("/collect").status == 200
        form = client.request("POST", "/summary", b"pick=x", {"Content-Type": "application/x-www-form-urlencoded"})
        assert form.status == 403 and "刷新页面" in form.text


def test_pages_carry_the_security_headers(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        for path in ("/collect", "/static/app.js", "/store", "/nothing"):
            headers = Client(server.port).get(path).headers
            csp = headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp and "http" not in csp
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "DENY"


def test_file_names_never_lead_out_of_the_private_folder(tmp_path: Path) -> None:
    report = (SAMPLES / "luoqi-2019.txt").read_bytes()
    names = ["../../escape.txt", "/etc/passwd", "..\\..\\win.txt", "a/../../../b.txt", "C:\\x\\y.txt", ".hidden.txt"]
    with running(tmp_path) as server:
        client = Client(server.port)
        batch = new_batch(client)
        for name in names:
            answer = client.upload(batch["files"], name, report)
            assert answer.status == 200
            assert ".." not in json.loads(answer.body)["name"]
        inside = sorted(p.relative_to(server.workspace).as_posix() for p in server.workspace.rglob("*") if p.is_file())
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()
    assert len(inside) == len(names)
    assert all(p.startswith(f"batches/{batch['id']}/") for p in inside)
    assert {p.rsplit("/", 1)[-1] for p in inside} >= {
        "escape.txt",
        "passwd",
        "win.txt",
        "b.txt",
        "y.txt",
        "_hidden.txt",
    }
    # The private folder goes when the server stops.
    assert not server.workspace.exists()


def test_an_oversized_or_one_too_many_upload_is_refused(tmp_path: Path) -> None:
    with running(tmp_path, max_file_bytes=1000, max_files=2) as server:
        client = Client(server.port)
        batch = new_batch(client)
        big = client.upload(batch["files"], "big.txt", b"x" * 5000)
        assert big.status == 413
        assert "big.txt" in json.loads(big.body)["message"] and "1000 B" in json.loads(big.body)["message"]
        assert not [p for p in server.workspace.rglob("*") if p.is_file()]
        assert client.upload(batch["files"], "a.txt", b"a").status == 200
        assert client.upload(batch["files"], "b.txt", b"b").status == 200
        third = client.upload(batch["files"], "c.txt", b"c")
        assert third.status == 413 and "2" in json.loads(third.body)["message"]
        # A form far over any real one is refused before it is read.
        huge = client.post_form("/summary", {"pick": "x" * (3 * 1024 * 1024)})
        assert huge.status == 413


def test_report_text_is_shown_as_text(tmp_path: Path) -> None:
    text = (SAMPLES / "luoqi-2019.txt").read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n")
    hostile = head + sep + SCRIPT + "<img src=x onerror=alert(1)>\n" + rest
    with running(tmp_path) as server:
        client = Client(server.port)
        page = read_batch(client, {"<b>luoqi</b>.txt": hostile.encode("utf-8")})
        assert "<b>" not in page and "&lt;b&gt;" not in page  # the name's < > are made harmless
        link = re.search(r'href="(/report/[^"]+)"', page)
        assert link is not None
        report = client.get(link.group(1))
        assert report.status == 200
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in report.text
        assert SCRIPT not in report.text and "<img" not in report.text


def test_unknown_ids_and_paths_are_not_found(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        client = Client(server.port)
        for path in (
            "/collect/nope",
            "/report/nope/0",
            "/report/../../etc/passwd",
            "/summary/nope",
            "/store/reconcile/x",
        ):
            answer = client.get(path)
            assert answer.status == 404, path
        assert client.get("/static/../app.py").status == 404


def test_serve_prints_its_address_with_the_token(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    cmd = [
        sys.executable,
        "-m",
        "convert",
        "serve",
        "--port",
        "0",
        "--token",
        "tok-123456789012345678901",
        "--store",
        str(tmp_path / "s.db"),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "网页已启动" in line and "?token=tok-123456789012345678901" in line
        port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        assert Client(port).get("/collect").status == 403
        assert Client(port).get("/collect?token=tok-123456789012345678901").status == 303
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C, the way a person stops it
        proc.wait(20)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    # Its private folder of uploads went with it.
    assert not list(tmp_path.glob("nianbao-web-*"))


def test_without_the_web_extra_serve_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "from convert.cli import main\n"
        "sys.argv = ['nianbao', 'serve']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "pip install 'nianbao[web]'" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_two_browsers_at_once_each_get_their_own_results(tmp_path: Path) -> None:
    with running(tmp_path) as server:
        first, second = Client(server.port), Client(server.port)
        batches = []
        for client, names in ((first, ["zhuzhen-2019.txt", "luoqi-2019.txt"]), (second, ["houhe-2021.txt"])):
            batch = new_batch(client)
            for name in names:
                assert client.upload(batch["files"], name, (SAMPLES / name).read_bytes()).status == 200
            batches.append((client, batch))
        # Both read at the same time, each in the worker pool.
        for client, batch in batches:
            assert client.post(batch["start"]).status == 200
        pages = []
        for client, batch in batches:
            deadline = time.monotonic() + 60
            while json.loads(client.get(batch["page"] + "/progress").body)["state"] != "done":
                assert time.monotonic() < deadline
                time.sleep(0.1)
            pages.append(client.get(batch["page"]).text)
    assert "竹镇镇" in pages[0] and "洛碛镇" in pages[0] and "后河镇" not in pages[0]
    assert "后河镇" in pages[1] and "竹镇镇" not in pages[1]
    assert "共检查 2 份" in pages[0] and "共检查 1 份" in pages[1]


def test_the_page_speaks_english_when_asked(tmp_path: Path, english: None) -> None:
    with running(tmp_path) as server:
        page = Client(server.port).get("/collect").text
    assert "Collect and check" in page and 'lang="en"' in page
    assert not re.search(r"[\u4e00-\u9fff]", page.split("<main>", 1)[1])


def test_the_store_pages_work_on_every_store_backend(tmp_path: Path, new_store: str) -> None:
    # Issue #17: the web page works the same on SQLite and PostgreSQL.
    from urllib.parse import quote

    from convert.readback import read_workbook
    from convert.reader import read_report
    from convert.store import open_store

    record = read_report(SAMPLES / "zhuzhen-2019.txt")
    with open_store(new_store) as store:
        store.add(record, author="王芳", reason="首次入库", source_name="zhuzhen-2019.txt", sha256=None)
    with running(tmp_path, store=new_store) as server:
        client = Client(server.port)
        listing = client.get("/store").text
        history = client.get(f"/store/record?agency={quote('竹镇镇')}&year=2019").text
        answer = client.get(f"/store/workbook?agency={quote('竹镇镇')}&year=2019")
    assert "竹镇镇" in listing
    assert "王芳" in history and "首次入库" in history
    assert answer.status == 200
    (tmp_path / "r1.xlsx").write_bytes(answer.body)
    assert read_workbook(tmp_path / "r1.xlsx").cells == record.cells


def test_a_warning_shows_the_source_row_it_came_from_as_text(tmp_path: Path) -> None:
    lines = (SAMPLES / "fenggang-2020.txt").read_text(encoding="utf-8").split("\n")
    at = lines.index("\t政府集中采购")
    assert lines[at + 1] == "\t120"
    lines[at + 1] = "\t约120" + SCRIPT  # a value the reader cannot read, and markup in it
    with running(tmp_path) as server:
        client = Client(server.port)
        page = read_batch(client, {"fenggang.txt": "\n".join(lines).encode("utf-8")})
        link = re.search(r'href="(/report/[^"]+)"', page)
        assert link is not None
        report = client.get(link.group(1)).text
    # The 原文 column quotes the row as the file has it (its cells one a line here), and the line it starts on.
    escaped = "约120&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    row = f'<span class="quote">政府集中采购 | {escaped} | 498742.4</span> <span class="at">第 {at + 1} 行</span>'
    assert row in report
    assert SCRIPT not in report


def test_a_scanned_report_is_read_like_any_other_kind(tmp_path: Path) -> None:
    # Issue #16: new input kinds appear on the page without page changes; a scan (OCR) is one more row.
    from tests.test_ocr import OCR_INSTALLED, SCANS, golden

    if not OCR_INSTALLED:
        pytest.skip("the ocr extra is not installed: pip install 'nianbao[ocr]'")
    truth = golden()
    with running(tmp_path) as server:
        page = read_batch(Client(server.port), {"scan.pdf": (SCANS / "scan-pdf-2021.pdf").read_bytes()})
    assert truth.agency and truth.agency in page
    assert "scan.pdf" in page and "共检查 1 份" in page
