"""The Starlette application: routes for each page, each calling the library functions the commands call."""

from __future__ import annotations

import contextlib
import csv
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from convert import safety
from convert.checks.catalogue import language, message, text
from convert.errors import NianbaoError
from convert.web import views
from convert.web.guard import Guard, csrf_value, is_loopback
from convert.web.jobs import DONE, FAILED, READING, UPLOADING, Batch, Item, Jobs, Summary, Upload
from convert.web.workspace import Workspace, new_id

HERE = Path(__file__).parent
# What a browser may send at once: this many files in one batch, this many bytes in all.
MAX_FILES = 1000
MAX_BATCH_BYTES = 2 * 1024 * 1024 * 1024
CHUNK = 256 * 1024
# Records a page of the store's list shows; a year filter and page links reach the others.
STORE_PAGE = 200


@dataclass
class Settings:
    """How the server runs: where it listens, its token, the store, the worker processes, the upload limits."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    store: str | None = None
    jobs: int | None = None
    max_files: int = MAX_FILES
    max_batch_bytes: int = MAX_BATCH_BYTES
    # A single file: the library's own limit (convert/safety.py, raised with --limit max_file_bytes=N).
    max_file_bytes: int = field(default_factory=lambda: safety.DEFAULT_LIMITS.max_file_bytes)

    @property
    def needs_token(self) -> bool:
        """Tell whether every request must carry the access token: a token was set, or the host is not loopback."""
        return bool(self.token) or not is_loopback(self.host)


@dataclass
class Context:
    """What every request may use: the settings, the private folder, the jobs and the templates."""

    settings: Settings
    workspace: Workspace
    jobs: Jobs
    env: Environment
    store: str


def create_app(settings: Settings, workspace: Workspace | None = None) -> Starlette:
    """Build the application; its private folder is removed when the application shuts down."""
    from convert.store import store_location

    if settings.needs_token and not settings.token:
        settings.token = secrets.token_urlsafe(24)
    workspace = workspace or Workspace()
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(t=text, template=template, quote=quote)
    ctx = Context(settings, workspace, Jobs(workspace, settings.jobs), env, store_location(settings.store))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.jobs.close()
            workspace.close()

    routes = [
        Route("/", home),
        Route("/collect", collect_page),
        Route("/collect", new_batch, methods=["POST"]),
        Route("/collect/{bid}", batch_page),
        Route("/collect/{bid}/progress", batch_progress),
        Route("/collect/{bid}/files", upload_file, methods=["POST"]),
        Route("/collect/{bid}/start", start_batch, methods=["POST"]),
        Route("/collect/{bid}/store", batch_store, methods=["POST"]),
        Route("/report/{bid}/{n:int}", report_page),
        Route("/report/{bid}/{n:int}/workbook", report_workbook),
        Route("/summary", summary_page),
        Route("/summary", summary_make, methods=["POST"]),
        Route("/summary/{sid}", summary_done),
        Route("/summary/{sid}/workbook", summary_workbook),
        Route("/store", store_page),
        Route("/store/record", record_page),
        Route("/store/diff", diff_page),
        Route("/store/workbook", revision_workbook),
        Route("/store/reconcile", reconcile_upload, methods=["POST"]),
        Route("/store/reconcile/{uid}", reconcile_page),
        Route("/store/reconcile/{uid}/apply", reconcile_apply, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ctx = ctx
    app.add_middleware(Guard, ctx=ctx, page=lambda status, message: page_error(ctx, status, message))
    return app


# ---------------------------------------------------------------------------------------------
# Helpers


def template(code: str) -> str:
    """Return a text's template with its {fields} unfilled, for the page's script to fill in."""
    return message(code).templates[""][language()]


def context(request: Request) -> Context:
    """Return the application's context."""
    ctx: Context = request.app.state.ctx
    return ctx


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """Render a page; report text reaches it only through Jinja2's escaping."""
    ctx = context(request)
    html = ctx.env.get_template(name).render(
        csrf=csrf_value(request.scope), lang=language(), path=request.url.path, status=status, **values
    )
    return HTMLResponse(html, status_code=status)


def page_error(ctx: Context, status: int, message: str) -> HTMLResponse:
    """Return a small error page (for the guard, which has no request object)."""
    html = ctx.env.get_template("error.html").render(csrf="", lang=language(), path="", status=status, message=message)
    return HTMLResponse(html, status_code=status)


def error(request: Request, status: int, message: str) -> HTMLResponse:
    """Return an error page."""
    return render(request, "error.html", status=status, message=message)


def not_found(request: Request) -> HTMLResponse:
    """Return the page for an id this server does not know (never a path: ids are ours)."""
    return error(request, 404, text("web-not-found"))


def download(path: Path, name: str, cleanup: Path | None = None) -> FileResponse:
    """Send a file as an attachment named name (UTF-8 safe), removing cleanup (a folder we made) afterwards."""
    import shutil

    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    headers = {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}
    task = BackgroundTask(shutil.rmtree, cleanup, True) if cleanup else None
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
        background=task,
    )


async def form_of(request: Request) -> dict[str, Any]:
    """Return a submitted form (urlencoded, no files) as a dict of lists."""
    form = await request.form(max_files=0, max_fields=20_000)
    out: dict[str, Any] = {}
    for key, value in form.multi_items():
        out.setdefault(key, []).append(value if isinstance(value, str) else "")
    return out


def first(form: dict[str, Any], key: str) -> str:
    """Return the first value of a form field, stripped ('' when absent)."""
    values = form.get(key) or [""]
    return str(values[0]).strip()


def store_context(request: Request, create: bool = False) -> Any:
    """Open the server's store (closed when the with-block ends)."""
    from convert.store import open_store

    return open_store(context(request).store, create=create)


def batch_of(request: Request) -> Batch | None:
    """Return the batch the URL names, or None."""
    return context(request).jobs.batch(request.path_params["bid"])


def item_of(request: Request) -> tuple[Batch, Item] | None:
    """Return the batch and the report the URL names, or None."""
    batch = batch_of(request)
    n = request.path_params["n"]
    if batch is None or batch.state != DONE or not 0 <= n < len(batch.items):
        return None
    return batch, batch.items[n]


async def receive_file(request: Request, folder: Path, limit: int) -> tuple[Path, str, int] | Response:
    """Stream a request body into a new file of folder, named after X-File-Name; refuse what is over limit."""
    ctx = context(request)
    name = unquote(request.headers.get("x-file-name", "")) or "file"
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return too_large(name, limit)
    target, shown = ctx.workspace.place(folder, name)
    size = 0
    try:
        with target.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    break
                fh.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if size > limit:
        target.unlink(missing_ok=True)
        return too_large(name, limit)
    return target, shown, size


def too_large(name: str, limit: int) -> JSONResponse:
    """Refuse an upload over the size limit, naming the file and the limit."""
    message = text("web-upload-too-large", name=name, limit=safety.human_bytes(limit))
    return JSONResponse({"ok": False, "message": message}, status_code=413)


# ---------------------------------------------------------------------------------------------
# 收集与检查: upload, read in the worker pool, one row per report


async def home(request: Request) -> Response:
    """Send the browser to the first page."""
    return RedirectResponse("/collect", status_code=303)


def collect_page(request: Request) -> HTMLResponse:
    """The upload page, with this server's earlier batches."""
    s = context(request).settings
    return render(
        request,
        "collect.html",
        batches=context(request).jobs.all_batches(),
        max_files=s.max_files,
        max_file=safety.human_bytes(s.max_file_bytes),
    )


async def new_batch(request: Request) -> JSONResponse:
    """Open a batch for one browser's files."""
    batch = context(request).jobs.new_batch()
    base = f"/collect/{batch.id}"
    return JSONResponse({"id": batch.id, "files": f"{base}/files", "start": f"{base}/start", "page": base})


async def upload_file(request: Request) -> Response:
    """Receive one file of a batch (its name, maybe with folders, in X-File-Name)."""
    batch = batch_of(request)
    if batch is None:
        return JSONResponse({"ok": False, "message": text("web-not-found")}, status_code=404)
    s = context(request).settings
    with batch.lock:
        if batch.state != UPLOADING:
            return JSONResponse({"ok": False, "message": text("web-batch-started")}, status_code=409)
        if len(batch.names) >= s.max_files:
            return JSONResponse({"ok": False, "message": text("web-too-many", limit=s.max_files)}, status_code=413)
        room = s.max_batch_bytes - batch.size
    got = await receive_file(request, batch.folder, min(s.max_file_bytes, room))
    if isinstance(got, Response):
        if room < s.max_file_bytes:
            message = text("web-batch-too-large", limit=safety.human_bytes(s.max_batch_bytes))
            return JSONResponse({"ok": False, "message": message}, status_code=413)
        return got
    path, shown, size = got
    with batch.lock:
        batch.names[path] = shown
        batch.size += size
    return JSONResponse({"ok": True, "name": shown})


async def start_batch(request: Request) -> JSONResponse:
    """Start reading a batch's files in the worker pool."""
    batch = batch_of(request)
    if batch is None:
        return JSONResponse({"ok": False, "message": text("web-not-found")}, status_code=404)
    context(request).jobs.start(batch)
    return JSONResponse({"ok": True, "page": f"/collect/{batch.id}"})


def batch_progress(request: Request) -> JSONResponse:
    """How far reading a batch is (polled by the page)."""
    batch = batch_of(request)
    if batch is None:
        return JSONResponse({"state": FAILED, "done": 0, "total": 0}, status_code=404)
    return JSONResponse(batch.progress())


def batch_page(request: Request) -> HTMLResponse:
    """A batch: its progress while read, then one row per report and the files that are no reports."""
    from convert.checks.verdict import RANK, tally

    batch = batch_of(request)
    if batch is None:
        return not_found(request)
    reports = sorted(batch.reports(), key=lambda i: (RANK[i.verdict.state], i.index))
    others = [(i.name, i.error) for i in batch.items if not i.report] + batch.skipped
    counts = tally(i.verdict.state for i in reports)
    return render(
        request,
        "batch.html",
        batch=batch,
        reports=reports,
        others=others,
        counts=counts,
        reading=batch.state in (UPLOADING, READING),
        failed=batch.state == FAILED,
    )


async def batch_store(request: Request) -> Response:
    """Add a batch's reports to the store, with who adds them and why."""
    batch = batch_of(request)
    if batch is None or batch.state != DONE:
        return not_found(request)
    form = await form_of(request)
    author, reason = first(form, "author"), first(form, "reason")
    if not author:
        return error(request, 400, text("web-author-needed"))

    def work() -> list[tuple[str, str, bool]]:
        from convert.inputs import Skipped
        from convert.store import add_files

        paths = [i.path for i in batch.reports()]
        out = []
        with store_context(request, create=True) as st:
            for path, result in add_files(st, paths, author=author, reason=reason or None):
                if isinstance(result, NianbaoError):
                    out.append((batch.shown(path), str(result), False))
                elif isinstance(result, Skipped):
                    out.append((batch.shown(path), str(result.reason), False))
                else:
                    code = {"new-report": "web-stored-new", "new-revision": "web-stored-revision"}.get(
                        result.status, "web-stored-identical"
                    )
                    out.append((batch.shown(path), text(code, revision=result.revision), True))
        return out

    try:
        batch.stored = await run_in_threadpool(work)
    except NianbaoError as exc:
        return error(request, 400, str(exc))
    return RedirectResponse(f"/collect/{batch.id}#stored", status_code=303)


# ---------------------------------------------------------------------------------------------
# One report


def report_page(request: Request) -> HTMLResponse:
    """One report: verdict, findings in words, the three tables drawn with each finding's cell, the texts."""
    found = item_of(request)
    if found is None or found[1].record is None:
        return not_found(request)
    batch, item = found
    record = item.record
    assert record is not None
    listed = views.notes(record, item.findings)
    return render(
        request,
        "report.html",
        batch=batch,
        item=item,
        record=record,
        notes=listed,
        grids=views.grids(record, listed),
        texts=views.texts(record),
    )


def report_workbook(request: Request) -> Response:
    """The report's standard workbook, written by the same function as `nianbao convert`."""
    from convert.outputs.standard import write_workbook

    found = item_of(request)
    if found is None or found[1].record is None:
        return not_found(request)
    _, item = found
    folder = context(request).workspace.folder("downloads", new_id())
    path = write_workbook(item.record, folder / "report.xlsx")  # type: ignore[arg-type]
    return download(path, Path(item.name).stem + ".xlsx", cleanup=folder)


# ---------------------------------------------------------------------------------------------
# 汇总: the summary workbook of selected reports


def _choices(request: Request) -> list[tuple[Batch, Item]]:
    out: list[tuple[Batch, Item]] = []
    for batch in reversed(context(request).jobs.all_batches()):
        if batch.state == DONE:
            out.extend((batch, i) for i in batch.reports())
    return out


def summary_page(request: Request, message: str = "", form: dict[str, Any] | None = None) -> HTMLResponse:
    """Pick reports (those of one batch by default) and the options of `merge`."""
    choices = _choices(request)
    wanted = request.query_params.get("batch")
    if form is not None:
        selected = set(form.get("pick", []))
    else:
        selected = {f"{b.id}:{i.index}" for b, i in choices if not wanted or b.id == wanted}
    years = sorted({i.record.year for _, i in choices if i.record is not None and i.record.year})
    return render(
        request,
        "summary.html",
        choices=choices,
        selected=selected,
        years=years,
        form=form or {},
        first=first,
        message=message,
        status=400 if message else 200,
    )


async def summary_make(request: Request) -> Response:
    """Write the summary workbook of the chosen reports, as `nianbao merge` writes it."""
    from convert.batch import Outcome
    from convert.merge import merge_rows, read_manifest, row_from

    form = await form_of(request)
    index = {f"{b.id}:{i.index}": i for b, i in _choices(request)}
    picked = [index[p] for p in form.get("pick", []) if p in index]
    if not picked:
        return summary_page(request, text("web-summary-none"), form)
    year_text = first(form, "year")
    year = int(year_text) if year_text.isdigit() else None
    latest = first(form, "latest") == "1"
    title = first(form, "title").strip() or None  # as `merge --title`; the default names the year and count
    groups = {index[p].name: first(form, f"group-{p}") for p in form.get("pick", []) if p in index}
    sid = new_id()
    folder = context(request).workspace.folder("summaries", sid)

    def work() -> Any:
        manifest = None
        if any(groups.values()):
            manifest = folder / "groups.csv"
            with manifest.open("w", encoding="utf-8", newline="") as fh:
                out = csv.writer(fh)
                out.writerow([text("web-manifest-file"), text("web-manifest-group")])
                out.writerows([name, group] for name, group in groups.items() if group)
        outcomes = [Outcome(Path(i.name), row_from(i.record, i.findings, i.name)) for i in picked]  # type: ignore[arg-type]
        groups_read = read_manifest(manifest) if manifest else None
        return merge_rows(
            outcomes, folder / "summary.xlsx", year=year, latest=latest, manifest=groups_read, title=title
        )

    try:
        result = await run_in_threadpool(work)
    except NianbaoError as exc:
        return summary_page(request, str(exc), form)
    context(request).jobs.add_summary(Summary(sid, result.path, result, [i.name for i in picked]))
    return RedirectResponse(f"/summary/{sid}", status_code=303)


def summary_done(request: Request) -> HTMLResponse:
    """What the summary holds, and its download."""
    summary = context(request).jobs.summaries.get(request.path_params["sid"])
    if summary is None:
        return not_found(request)
    return render(request, "summary_done.html", summary=summary, result=summary.result)


def summary_workbook(request: Request) -> Response:
    """Download a summary workbook."""
    summary = context(request).jobs.summaries.get(request.path_params["sid"])
    if summary is None:
        return not_found(request)
    name = text("web-summary-file", year=summary.result.total_year or "")
    return download(summary.path, name + ".xlsx")


# ---------------------------------------------------------------------------------------------
# 记录库: the store


def _agency_year(request: Request) -> tuple[str, int] | None:
    agency = request.query_params.get("agency", "")
    year = request.query_params.get("year", "")
    if not agency or not year.isdigit():
        return None
    return agency, int(year)


def store_page(request: Request) -> HTMLResponse:
    """The records in the store (a page of them, of one year if chosen), and the form to bring back a workbook."""
    ctx = context(request)
    reports: list[Any] = []
    message = ""
    try:
        with store_context(request) as st:
            reports = st.list()
    except NianbaoError as exc:
        message = str(exc)
    years = sorted({r.year for r in reports}, reverse=True)
    year = request.query_params.get("year", "")
    chosen = [r for r in reports if not year.isdigit() or r.year == int(year)]
    pages = max(1, -(-len(chosen) // STORE_PAGE))
    number = request.query_params.get("page", "1")
    at = min(max(int(number), 1), pages) if number.isdigit() else 1
    labels = {v: text("web-format", format=v) for v in {r.format for r in chosen}}
    # Rows made here, not in the template: a page of a large store answers in a few milliseconds.
    rows = [
        (r.agency, r.year, labels[r.format], r.revisions, r.author, views.local_time(r.updated),
         urlencode({"agency": r.agency, "year": r.year}))
        for r in chosen[(at - 1) * STORE_PAGE : at * STORE_PAGE]
    ]  # fmt: skip
    return render(
        request,
        "store.html",
        rows=rows,
        total=len(chosen),
        years=years,
        year=year,
        page=at,
        pages=pages,
        message=message,
        location=ctx.store,
        max_file=safety.human_bytes(ctx.settings.max_file_bytes),
    )


def record_page(request: Request) -> HTMLResponse:
    """One record: every revision with who changed what and why, downloads, and two revisions to compare."""
    from convert.formats import load_format

    key = _agency_year(request)
    if key is None:
        return not_found(request)
    agency, year = key
    try:
        with store_context(request) as st:
            entries = st.history(agency, year)
    except NianbaoError as exc:
        return error(request, 404, str(exc))
    fmt = load_format(entries[-1].info.format)
    words = {c.key: views.describe(c.key, fmt) for e in entries for c in e.changed}
    return render(
        request,
        "record.html",
        agency=agency,
        year=year,
        entries=entries,
        words=words,
        when=views.local_time,
        query=urlencode({"agency": agency, "year": year}),
    )


def diff_page(request: Request) -> HTMLResponse:
    """The difference between two revisions of a record, cell by cell in the official table's words."""
    from convert.reconcile import diff_records

    key = _agency_year(request)
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    if key is None or not a.isdigit() or not b.isdigit():
        return not_found(request)
    agency, year = key
    try:
        with store_context(request) as st:
            old, old_info = st.get(agency, year, int(a))
            new, new_info = st.get(agency, year, int(b))
    except NianbaoError as exc:
        return error(request, 404, str(exc))
    diff = diff_records(old, new)
    return render(
        request,
        "diff.html",
        agency=agency,
        year=year,
        old=old_info,
        new=new_info,
        diff=diff,
        value=views.value_text,
        when=views.local_time,
        query=urlencode({"agency": agency, "year": year}),
    )


def revision_workbook(request: Request) -> Response:
    """Download a revision's workbook; it names its revision, so an edited copy can be reconciled."""
    key = _agency_year(request)
    number = request.query_params.get("revision", "")
    if key is None or (number and not number.isdigit()):
        return not_found(request)
    agency, year = key
    folder = context(request).workspace.folder("downloads", new_id())
    try:
        with store_context(request) as st:
            path, info = st.export(agency, year, folder / "record.xlsx", number=int(number) if number else None)
    except NianbaoError as exc:
        return error(request, 404, str(exc))
    return download(path, f"{agency}-{year}-r{info.number}.xlsx", cleanup=folder)


async def reconcile_upload(request: Request) -> Response:
    """Receive an edited workbook; its dry run is the next page."""
    ctx = context(request)
    uid = new_id()
    got = await receive_file(request, ctx.workspace.folder("reconcile", uid), ctx.settings.max_file_bytes)
    if isinstance(got, Response):
        return got
    path, shown, _ = got
    ctx.jobs.add_upload(Upload(uid, path, shown))
    return JSONResponse({"ok": True, "page": f"/store/reconcile/{uid}"})


def _since(request: Request, result: Any) -> tuple[Any, Any]:
    """What changed in the store since the workbook's revision: the diff and the latest revision's info."""
    from convert.reconcile import diff_records

    base, latest = result.base_revision, result.latest_revision
    if not result.conflict or base is None or latest is None or base >= latest:
        return None, None
    with store_context(request) as st:
        old, _ = st.get(result.agency, result.year, base)
        new, info = st.get(result.agency, result.year)
    return diff_records(old, new), info


def _reconcile(request: Request, upload: Upload, **options: Any) -> dict[str, Any]:
    """Run reconcile on an uploaded workbook (a dry run unless apply) and what its page shows."""
    from convert.reconcile import reconcile

    with store_context(request, create=bool(options.get("apply") and options.get("add"))) as st:
        result = reconcile(upload.path, st, **options)
    since, latest = _since(request, result)
    errors = [n for n in views.notes(None, result.findings) if n.severity == "error"]
    return {"result": result, "since": since, "latest": latest, "errors": errors}


def reconcile_page(request: Request) -> HTMLResponse:
    """The dry run of an edited workbook: what would change, what is wrong, a conflict; then the apply form."""
    upload = context(request).jobs.uploads.get(request.path_params["uid"])
    if upload is None:
        return not_found(request)
    try:
        shown = _reconcile(request, upload, apply=False, add=True)
    except NianbaoError as exc:
        return render(request, "reconcile.html", upload=upload, message=str(exc), status=400)
    return render(
        request, "reconcile.html", upload=upload, message="", value=views.value_text, when=views.local_time, **shown
    )


async def reconcile_apply(request: Request) -> HTMLResponse:
    """Store the edited workbook as a new revision, with its author and reason (forced only when asked)."""
    upload = context(request).jobs.uploads.get(request.path_params["uid"])
    if upload is None:
        return not_found(request)
    form = await form_of(request)
    author, reason = first(form, "author"), first(form, "reason")
    force, add = first(form, "force") == "1", first(form, "add") == "1"
    if not author:
        message = text("web-author-needed")
    elif force and not reason:
        message = text("web-force-needs-reason")
    else:
        try:
            shown = await run_in_threadpool(
                lambda: _reconcile(
                    request, upload, apply=True, author=author, reason=reason or None, force=force, add=add
                )
            )
        except NianbaoError as exc:
            message = str(exc)
        else:
            return render(
                request, "reconcile.html", upload=upload, message="", applied=True, author=author,
                value=views.value_text, when=views.local_time, **shown,
            )  # fmt: skip
    try:
        shown = await run_in_threadpool(lambda: _reconcile(request, upload, apply=False, add=True))
    except NianbaoError as exc:
        return render(request, "reconcile.html", upload=upload, message=str(exc), status=400)
    return render(
        request, "reconcile.html", upload=upload, message=message, form=form, value=views.value_text,
        when=views.local_time, status=400, **shown,
    )  # fmt: skip


__all__ = ["Context", "Settings", "create_app"]
