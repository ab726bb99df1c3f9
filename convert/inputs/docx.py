"""The docx kind: a Word .docx document, recognised and refused until issue #12 reads it."""

from __future__ import annotations

from convert.inputs.base import Kind, Probe, refusal


def detect(probe: Probe) -> bool:
    """A .docx is a ZIP with a word/document.xml part."""
    return probe.zip_has("word/document.xml")


KIND = Kind(
    "docx",
    detect,
    refusal("looks like a Word .docx document, not text: save it as plain text (.txt) or HTML"),
    readable=False,
)
