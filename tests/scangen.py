"""Make scanned reports whose every cell is known: generated reports printed, stamped, signed and scanned.

A record (bench/generate.py) is laid out like the official form (tests/docgen.py), printed to PDF by LibreOffice,
and each page rendered by pdftoppm at the scan's resolution; then what a scanner and an office do to a page: the
red seal stamped over the signature date (and over a table, at times), a signature in black or blue ink, a page
fed a little askew (0.5-2°), grey paper and uneven light, sensor noise and JPEG compression. Pages are saved as
JPEG or PNG (with their dpi), or bound into an image-only PDF.

Run from the repository root: python -m tests.scangen              (rewrite the golden scans in tests/data/scans)
                               python -m tests.scangen OUT N        (write N scanned reports into OUT)
Needs LibreOffice (soffice), poppler (pdftoppm), numpy, OpenCV and Pillow (the ocr extra).
"""

from __future__ import annotations

import io
import math
import random
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from convert.record import Record, dumps
from tests.docgen import DocxOptions, convert_documents, render_docx

ROOT = Path(__file__).resolve().parent.parent
SCANS = ROOT / "tests" / "data" / "scans"
FONTS = {
    "sans": "Noto Sans CJK SC",
    "serif": "Noto Serif CJK SC",
}


@dataclass(frozen=True)
class ScanOptions:
    """How a report is scanned; the defaults are an ordinary office scan."""

    dpi: int = 200
    angle: float = 1.0  # degrees the page is fed askew (counter-clockwise positive); each page varies around it
    seal: bool = True  # the red seal, over the date at the end (and over a table when seal_on_table)
    seal_on_table: bool = False
    signature: str = "black"  # "black", "blue" or "" (none)
    quality: int | None = 60  # JPEG quality; None saves PNG
    noise: float = 5.0  # sensor noise (grey levels, standard deviation)
    grey: bool = False  # scanned in grey (the seal is then grey too, and cannot be told by colour)
    font: str = "sans"  # the CJK face the report was printed in
    seed: int = 0


def pdf_pages(pdf: Path, dpi: int) -> list[np.ndarray]:
    """The PDF's pages rendered by pdftoppm as RGB arrays."""
    with tempfile.TemporaryDirectory(prefix="nianbao-scan-") as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), f"{tmp}/p"], check=True, capture_output=True)
        names = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(re.findall(r"\d+", p.stem)[-1]))
        return [np.asarray(Image.open(p).convert("RGB")) for p in names]


def with_font(docx: bytes, font: str) -> bytes:
    """The document with its CJK (and Latin) face changed, as reports are printed in several."""
    face = FONTS[font]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("word/styles.xml", "word/document.xml"):
                text = data.decode("utf-8")
                text = re.sub(r'w:eastAsia="[^"]*"', f'w:eastAsia="{face}"', text)
                if font == "serif":
                    text = text.replace("Times New Roman", "Liberation Serif")
                data = text.encode("utf-8")
            dst.writestr(item, data)
    return out.getvalue()


def print_reports(records: list[Record], folder: Path, docx_options: list[DocxOptions], fonts: list[str]) -> list[Path]:
    """Lay out and print the records to PDF with one LibreOffice start; return the PDFs (kept if already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    pdfs, todo = [], []
    for i, (record, opts, font) in enumerate(zip(records, docx_options, fonts, strict=True)):
        docx = folder / f"report-{i:04d}.docx"
        data = with_font(render_docx(record, None, opts), font)
        pdf = docx.with_suffix(".pdf")
        if not docx.exists() or docx.read_bytes() != data or not pdf.exists():
            docx.write_bytes(data)
            todo.append(docx)
        pdfs.append(pdf)
    if todo:
        convert_documents(todo, "pdf", folder, timeout=60 + 10 * len(todo))
    return pdfs


def scan(pages: list[np.ndarray], options: ScanOptions) -> list[np.ndarray]:
    """What scanning does to printed pages: stamp and sign the last one, then skew, light, noise (RGB arrays)."""
    rng = random.Random(options.seed)
    out = []
    for n, page in enumerate(pages):
        img = page.astype(np.float32)
        last = n == len(pages) - 1
        if options.seal and (last or (options.seal_on_table and n == 0)):
            img = _stamp(img, options, rng, over_table=not last)
        if options.signature and last:
            img = _sign(img, options, rng)
        img = _skew(img, options.angle + rng.uniform(-0.3, 0.3))
        img = _light(img, options, rng)
        if options.grey:
            img = np.repeat(img.mean(axis=2, keepdims=True), 3, axis=2)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def _ink_bottom(img: np.ndarray) -> int:
    """The last row with print on it."""
    dark = np.flatnonzero((img.min(axis=2) < 128).any(axis=1))
    return int(dark[-1]) if len(dark) else img.shape[0] // 2


def _stamp(img: np.ndarray, options: ScanOptions, rng: random.Random, over_table: bool) -> np.ndarray:
    """The red seal: a ring, a star and the agency's name, pressed unevenly, multiplied into the page."""
    h, w = img.shape[:2]
    r = int(options.dpi * 0.8)  # a 4 cm seal
    if over_table:
        cx, cy = int(w * rng.uniform(0.45, 0.75)), int(h * rng.uniform(0.45, 0.75))
    else:
        cx, cy = int(w * rng.uniform(0.6, 0.75)), min(h - r - 10, _ink_bottom(img) + int(r * rng.uniform(-0.6, 0.2)))
    seal = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(seal)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=max(3, r // 14))
    star = [
        (cx + r * 0.3 * s * math.sin(k * math.pi / 5), cy - r * 0.3 * s * math.cos(k * math.pi / 5))
        for k, s in zip(range(10), [1, 0.4] * 5, strict=True)
    ]
    draw.polygon(star, fill=255)
    font = _font(int(r * 0.28))
    if font is not None:
        text = "示例镇人民政府"
        for k, ch in enumerate(text):
            a = math.pi * (-0.75 + 1.5 * k / (len(text) - 1))
            x, y = cx + r * 0.7 * math.sin(a), cy - r * 0.7 * math.cos(a)
            draw.text((x, y), ch, fill=255, font=font, anchor="mm")
    mask = np.asarray(seal, dtype=np.float32) / 255.0
    mask *= np.float32(rng.uniform(0.7, 0.95))  # ink pressed unevenly: the seal is seldom solid
    red = np.array([220, 30, 40], np.float32) / 255.0
    tint = 1.0 - mask[:, :, None] * (1.0 - red[None, None, :])
    return img * tint


def _sign(img: np.ndarray, options: ScanOptions, rng: random.Random) -> np.ndarray:
    """A signature: a few strokes of a pen below the last text."""
    h, w = img.shape[:2]
    top = min(h - int(options.dpi * 0.6), _ink_bottom(img) + int(options.dpi * 0.2))
    x = int(w * 0.55)
    colour = (20, 20, 25) if options.signature == "black" else (30, 40, 160)
    canvas = img.astype(np.uint8).copy()
    points = []
    for k in range(40):
        t = k / 39
        points.append(
            (
                int(x + t * options.dpi * 1.6),
                int(top + options.dpi * 0.2 * (1 + math.sin(t * 9 + rng.uniform(0, 3)) * rng.uniform(0.4, 1))),
            )
        )
    cv2.polylines(canvas, [np.array(points, np.int32)], False, colour, max(2, options.dpi // 80), cv2.LINE_AA)
    return canvas.astype(np.float32)


def _skew(img: np.ndarray, angle: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def _light(img: np.ndarray, options: ScanOptions, rng: random.Random) -> np.ndarray:
    """Grey paper, light falling off towards one side, sensor noise, a little blur."""
    w = img.shape[1]
    paper = rng.uniform(0.88, 0.97)
    ramp = np.linspace(1.0, rng.uniform(0.9, 1.0), w, dtype=np.float32)[None, :, None]
    img = img * paper * ramp + rng.uniform(0, 10)
    img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 0.7))
    noise = np.random.default_rng(options.seed).normal(0, options.noise, img.shape).astype(np.float32)
    return img + noise


_FONT_CACHE: dict[int, ImageFont.FreeTypeFont | None] = {}


def _font(size: int) -> ImageFont.FreeTypeFont | None:
    if size not in _FONT_CACHE:
        try:
            path = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True)
            _FONT_CACHE[size] = ImageFont.truetype(path.stdout.strip(), size)
        except (OSError, FileNotFoundError):
            _FONT_CACHE[size] = None
    return _FONT_CACHE[size]


def save_pages(pages: list[np.ndarray], stem: Path, options: ScanOptions) -> list[Path]:
    """Save each page as stem-1.jpg … (or .png), with its resolution; return the files."""
    out = []
    for n, page in enumerate(pages, 1):
        img = Image.fromarray(page).convert("L" if options.grey else "RGB")
        if options.quality is None:
            path = stem.parent / f"{stem.name}-{n}.png"
            img.save(path, dpi=(options.dpi, options.dpi), optimize=True)
        else:
            path = stem.parent / f"{stem.name}-{n}.jpg"
            img.save(path, quality=options.quality, dpi=(options.dpi, options.dpi))
        out.append(path)
    return out


def save_pdf(pages: list[np.ndarray], path: Path, options: ScanOptions) -> Path:
    """Bind the pages into an image-only PDF (each page one JPEG picture), as a scanner's "scan to PDF" does."""
    imgs = [Image.fromarray(p).convert("L" if options.grey else "RGB") for p in pages]
    imgs[0].save(
        path,
        "PDF",
        save_all=True,
        append_images=imgs[1:],
        resolution=float(options.dpi),
        quality=options.quality or 75,
    )
    return path


# -- golden scans -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoldenScan:
    """A committed scan: its name, the record's version and seed, and how it was printed and scanned."""

    name: str
    version: str
    seed: int
    scan: ScanOptions
    form: DocxOptions = field(default_factory=DocxOptions)
    as_pdf: bool = False


GOLDENS = (
    # A 2021 report scanned to PDF at 150 dpi: askew, the seal over a table and over the date, a black signature.
    GoldenScan(
        "scan-pdf-2021",
        "2021",
        4101,
        ScanOptions(dpi=150, angle=1.2, seal_on_table=True, quality=35, noise=2.0, seed=1),
        as_pdf=True,
    ),
)


def golden_record(golden: GoldenScan) -> Record:
    """The record a golden scan shows."""
    from bench.generate import make_record

    record = make_record(golden.version, golden.seed)
    record.agency = "示例县某某镇"
    record.title = f"示例县某某镇{record.year}年政府信息公开工作年度报告"
    record.text = {
        "preface": [],
        "overview": [f"{record.year}年，示例县某某镇认真贯彻落实《中华人民共和国政府信息公开条例》。"],
        "problems": ["一是公开质量有待提高。"],
        "other": ["本年度未收取信息处理费。"],
    }
    return record


def write_goldens(folder: Path = SCANS) -> list[Path]:
    """Write every golden scan (a PDF, or a folder of page images) and the record it shows (<name>.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    with tempfile.TemporaryDirectory(prefix="nianbao-golden-scan-") as tmp:
        records = [golden_record(g) for g in GOLDENS]
        pdfs = print_reports(records, Path(tmp), [g.form for g in GOLDENS], [g.scan.font for g in GOLDENS])
        for golden, record, pdf in zip(GOLDENS, records, pdfs, strict=True):
            pages = scan(pdf_pages(pdf, golden.scan.dpi), golden.scan)
            if golden.as_pdf:
                out.append(save_pdf(pages, folder / f"{golden.name}.pdf", golden.scan))
            else:
                target = folder / golden.name
                target.mkdir(exist_ok=True)
                for old in target.iterdir():
                    old.unlink()
                out.extend(save_pages(pages, target / "page", golden.scan))
            (folder / f"{golden.name}.json").write_text(record.dumps(indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str]) -> None:
    """Command line: no arguments rewrites the golden scans; OUT N writes N scanned reports."""
    if not argv:
        for path in write_goldens():
            print(path.relative_to(ROOT), path.stat().st_size)
        return
    from bench.generate import make_record

    out, n = Path(argv[0]), int(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    records = [make_record(("2019", "2021")[i % 2], 5000 + i) for i in range(n)]
    pdfs = print_reports(records, out / "printed", [DocxOptions(seed=i) for i in range(n)], ["sans"] * n)
    for i, (record, pdf) in enumerate(zip(records, pdfs, strict=True)):
        opts = replace(ScanOptions(), angle=random.Random(i).uniform(-2, 2), seed=i)
        save_pages(scan(pdf_pages(pdf, opts.dpi), opts), out / f"scan-{i:04d}", opts)
        (out / f"scan-{i:04d}.json").write_text(dumps(record.to_json()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
