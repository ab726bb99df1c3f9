"""Lines of cells → a record: sections, title, agency and year (document, title), the tables (table: rows, fit).

Any input kind (convert/inputs/) yields lines of cells; parse_lines reads them. Cell text → value is values.parse.
"""

from __future__ import annotations

from convert.parse.document import detect_version, parse_lines, parse_report

__all__ = ["detect_version", "parse_lines", "parse_report"]
