"""The committed golden PDFs: reports printed to PDF by LibreOffice from tests/docgen.py's documents.

Run from the repository root to rewrite them and their expected records (needs LibreOffice):
    python -m tests.pdf_goldens
tests/test_reader_golden.py reads every tests/data/reports/<name>.pdf into tests/data/expected/<name>.json.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from convert.record import dumps
from tests.docgen import DATA, DocxOptions, Golden, convert_documents, expected_spec, golden_record, render_docx

PDF_GOLDENS = (
    Golden(
        "pdf-form-2019",
        "2019",
        1907,
        "示例市某某街道",
        2020,
        "示例市某某街道2020年政府信息公开工作年度报告",
        DocxOptions(footers=True),
    ),
    Golden(
        "pdf-straddle-2021",
        "2021",
        2111,
        "示例县某某镇",
        2023,
        "示例县某某镇人民政府2023年政府信息公开工作年度报告",
        # 二 starts a new page, so 三 runs over a page break; its header rows repeat on the next page.
        DocxOptions(straddle=True, repeat_header=True, footers=True),
    ),
)


def write_pdf_goldens(data: Path = DATA) -> list[Path]:
    """Print every golden PDF with one LibreOffice start and write its expected record; return the PDFs."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = []
        for golden in PDF_GOLDENS:
            path = Path(tmp) / f"{golden.name}.docx"
            render_docx(golden_record(golden), path, golden.options)
            docs.append(path)
        made = convert_documents(docs, "pdf", Path(tmp))
        out = []
        for golden, pdf in zip(PDF_GOLDENS, made, strict=True):
            target = data / "reports" / pdf.name
            target.write_bytes(pdf.read_bytes())
            spec = expected_spec(golden, golden_record(golden))
            (data / "expected" / f"{golden.name}.json").write_text(dumps(spec, indent=2) + "\n", encoding="utf-8")
            out.append(target)
    return out


def expected(golden: Golden) -> dict:
    """The committed expected record of a golden PDF."""
    return json.loads((DATA / "expected" / f"{golden.name}.json").read_text(encoding="utf-8"))


if __name__ == "__main__":
    for written in write_pdf_goldens():
        print(written.relative_to(DATA.parent.parent))
