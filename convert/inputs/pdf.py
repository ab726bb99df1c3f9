"""The pdf kind: a PDF, recognised and refused until issue #12 reads its text layer."""

from __future__ import annotations

from convert.inputs.base import Kind, Probe, refusal


def detect(probe: Probe) -> bool:
    """A PDF starts with %PDF."""
    return probe.head.startswith(b"%PDF")


KIND = Kind("pdf", detect, refusal("looks like a PDF: convert it to text or markdown first"), readable=False)
