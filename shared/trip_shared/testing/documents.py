"""Reading a PDF as its reader would, with poppler-utils (`make test` installs them): its text and its fonts."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PdfFont:
    name: str
    embedded: bool


def _poppler(tool: str, document: bytes, *args: str) -> str:
    if shutil.which(tool) is None:
        raise RuntimeError(f"{tool} is missing: install Debian's poppler-utils (`make test` does)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(document)
        return subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
                              capture_output=True, text=True, check=True).stdout


def pdf_text(document: bytes) -> str:
    """The text in reading order, each run of white space (a line wrapped in a table cell) one space."""
    return " ".join(_poppler("pdftotext", document).split())


def pdf_fonts(document: bytes) -> list[PdfFont]:
    """Every font the PDF uses, from ``pdffonts``: name ... emb sub uni object ID."""
    lines = _poppler("pdffonts", document).splitlines()[2:]
    return [PdfFont(line.split()[0], line.split()[-5] == "yes") for line in lines if line.strip()]
