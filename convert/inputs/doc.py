"""The doc kind: an old Word .doc (or WPS) document, recognised and refused until issue #12 reads it."""

from __future__ import annotations

from convert.inputs.base import Kind, Probe, ole_has_stream, refusal


def detect(probe: Probe) -> bool:
    """An OLE2 file with a WordDocument stream."""
    return probe.is_ole() and ole_has_stream(probe.data, "WordDocument")


KIND = Kind(
    "doc",
    detect,
    refusal("looks like an old Word .doc document, not text: save it as plain text (.txt) or HTML"),
    readable=False,
)
