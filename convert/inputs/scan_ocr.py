"""Read the text of cut-out lines with the recognition model RapidOCR ships inside its wheel (no download, ever).

Only RapidOCR's bundled model file is used: it is run here with onnxruntime directly, so that (1) nothing can
make RapidOCR fetch another model at run time, (2) each piece is padded only to its batch's width (RapidOCR pads
every piece to at least 320 px, four times the work for a number), and (3) every character's probability is
kept: a piece's confidence is the least sure step of the decoding, so one doubtful digit makes the piece doubtful.

Why this engine and model (measured on the golden scan's 311 cut-out cells and bench/inputs_scan.py): PP-OCRv6
small (rapidocr 3.10.0) read every number of the bench's 200 and 300 dpi scans right, at 31 ms of CPU a cell;
PP-OCRv4 mobile (rapidocr 3.8.4) took 15 % longer and hesitated between 0 and O on bare digits (104 of 322 pieces
below 0.9 confidence against 70, all of those labels); Tesseract 5.3 with chi_sim read the labels as well but
dropped or garbled 15 of 199 numbers (309 as 09, 0 as 和引), each cell a process of its own.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from convert.errors import UsageError

# The recognition model in the pinned rapidocr wheel (pyproject.toml): PP-OCRv6 small, Chinese and Latin.
MODEL = "PP-OCRv6_rec_small.onnx"
HEIGHT = 48  # the model's input height
# Pieces are batched by width so little is padded; a batch holds at most this many pixels of width (smaller
# batches run faster a pixel on a small CPU cache: 7 % less time than 4000 on the bench's crops).
BATCH_WIDTH = 1500
MAX_WIDTH = 3200  # a wider piece is read squeezed to this width (a line of 60+ characters)
# Letters that look like a digit and could mean nothing else in a number.
_SAME_DIGIT = {"0": "OoＯｏ〇０", "1": "lI|丨１", "5": "Ｓ５"}
# Characters the model reads for others that reports never print (丶 for the enumeration comma 、).
_LOOKALIKES = str.maketrans({"丶": "、"})


def missing_extra(case: str) -> UsageError:
    """The one-line refusal when the ocr extra is not installed (case: what was being read, or the model)."""
    # One literal case per call: the catalogue test checks every case= against texts.toml.
    if case == "pdf":
        return UsageError("ocr-extra-missing", case="pdf")
    if case == "model":
        return UsageError("ocr-extra-missing", case="model")
    return UsageError("ocr-extra-missing", case="image")


def model_path(case: str = "image") -> Path:
    """The recognition model file inside the installed rapidocr package (found, not imported: importing RapidOCR
    loads its whole pipeline, which is not used)."""
    from importlib.util import find_spec

    spec = find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise missing_extra(case)
    return Path(next(iter(spec.submodule_search_locations))) / "models" / MODEL


class Recognizer:
    """The recognition model, loaded once per process."""

    def __init__(self, threads: int = 1, path: Path | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise missing_extra("image") from exc
        path = path or model_path()
        if not path.is_file():
            raise missing_extra("model")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        # CTC's blank first, then the model's characters, then the space (as PaddleOCR trains it).
        self.chars = ["", *meta["character"].splitlines(), " "]
        index = {c: i for i, c in enumerate(self.chars) if c}
        # A digit's confidence counts the letters that would mean the same digit (0 or O): the number is sure.
        self.same = {
            index[d]: [index[c] for c in alike if c in index] for d, alike in _SAME_DIGIT.items() if d in index
        }

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float, float]]:
        """Read each grey crop (one line of text): its text, its confidence (0-1: the least sure step, see
        _decode) and the mean probability of its characters (how text-like it is: a stain reads low)."""
        out: list[tuple[str, float, float]] = [("", 0.0, 0.0)] * len(crops)
        scaled = [_scale(c) for c in crops]
        order = sorted(range(len(crops)), key=lambda i: scaled[i].shape[1])
        batch: list[int] = []
        for i in order:
            width = scaled[i].shape[1]
            if batch and width * (len(batch) + 1) > BATCH_WIDTH:
                self._run(batch, scaled, out)
                batch = []
            batch.append(i)
        if batch:
            self._run(batch, scaled, out)
        return out

    def _run(self, batch: list[int], scaled: list[np.ndarray], out: list[tuple[str, float, float]]) -> None:
        width = max(scaled[i].shape[1] for i in batch)
        x = np.zeros((len(batch), 3, HEIGHT, width), dtype=np.float32)
        for k, i in enumerate(batch):
            img = scaled[i]
            x[k, :, :, : img.shape[1]] = (img.astype(np.float32) / 127.5 - 1.0)[None]
        probs = self.session.run(None, {self.input: x})[0]
        for k, i in enumerate(batch):
            # Steps past the piece's own width saw only padding.
            steps = max(1, math.ceil(probs.shape[1] * scaled[i].shape[1] / width))
            out[i] = self._decode(probs[k, :steps])

    def _decode(self, probs: np.ndarray) -> tuple[str, float, float]:
        """Greedy CTC decoding. The confidence is the least of: each character's probability (at its surest
        step), and for each step read as a gap, how sure it is that no character is there."""
        best = probs.argmax(axis=1)
        text: list[str] = []
        sure: list[float] = []
        chars: list[float] = []
        prev = 0
        for step, index in enumerate(best.tolist()):
            if index == 0:
                sure.append(1.0 - float(probs[step, 1:].max()))  # a character the gap may have swallowed
            else:
                p = float(probs[step, index]) + sum(float(probs[step, k]) for k in self.same.get(index, ()))
                if index != prev:
                    text.append(self.chars[index] if index < len(self.chars) else "")
                    sure.append(p)
                    chars.append(p)
                else:
                    sure[-1] = max(sure[-1], p)  # the same character over several steps
                    chars[-1] = max(chars[-1], p)
            prev = index
        mean = sum(chars) / len(chars) if chars else 0.0
        return "".join(text).strip().translate(_LOOKALIKES), min(sure, default=0.0), mean


def _scale(crop: np.ndarray) -> np.ndarray:
    """A crop resized to the model's height (aspect kept, width capped)."""
    h, w = crop.shape[:2]
    width = max(8, min(MAX_WIDTH, math.ceil(HEIGHT * w / max(h, 1))))
    import cv2

    return cv2.resize(crop, (width, HEIGHT), interpolation=cv2.INTER_LINEAR if h < HEIGHT else cv2.INTER_AREA)


def session_info() -> dict[str, Any]:
    """What reads the text: engine and model, for a record's source."""
    return {"engine": "rapidocr", "model": MODEL}
