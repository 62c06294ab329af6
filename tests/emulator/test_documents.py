"""Labels and PDFs as Amazon sends them: base64 of real ZPL and PDF documents."""

from __future__ import annotations

import base64
import re

from spproxy.emulator.documents import address_lines, pdf_document, zpl_label

LINES = address_lines("Jordan Rivera", "410 Terry Ave N", "SEATTLE", "WA", "98109-5210")


def test_address_lines() -> None:
    assert LINES == ["Jordan Rivera", "410 Terry Ave N", "SEATTLE WA 98109-5210"]


def test_a_zpl_label_prints_the_lines_and_the_tracking_barcode() -> None:
    label = base64.b64decode(zpl_label(LINES, "1Z999")).decode()
    assert label.startswith("^XA") and label.endswith("^XZ")
    assert all(f"^FD{line}^FS" in label for line in LINES)
    assert "^BCN,120,Y,N,N^FD1Z999^FS" in label


def test_a_pdf_is_one_page_with_a_valid_cross_reference_table() -> None:
    document = base64.b64decode(pdf_document(["Invoice (1)", *LINES, "back\\slash"]))
    assert document.startswith(b"%PDF-1.4\n") and document.endswith(b"%%EOF\n")
    assert b"(Invoice \\(1\\)) '" in document and b"(back\\\\slash) '" in document
    assert b"/Count 1" in document
    xref = int(re.findall(rb"startxref\n(\d+)", document)[-1])
    assert document[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(offset) for offset in re.findall(rb"(\d{10}) 00000 n", document)]
    for number, offset in enumerate(offsets, start=1):
        assert document[offset:].startswith(f"{number} 0 obj\n".encode())
