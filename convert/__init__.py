"""nianbao: read 政府信息公开工作年度报告 into records and standard workbooks; check, reconcile, merge."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
