"""The documents Amazon prints for shipments, made real and small: ZPL labels (the text thermal
printers read) and one-page PDFs (packing slips, invoices), base64 as SP-API sends them. They print
a buyer's name and address, so they are restricted data wherever they are served."""

from __future__ import annotations

import base64


def address_lines(name: str, line1: str, city: str, region: str, postal: str) -> list[str]:
    return [name, line1, f"{city} {region} {postal}"]


def zpl_label(lines: list[str], tracking_id: str) -> str:
    """A 4x6 shipping label in ZPL (the text thermal printers read), base64 as Amazon sends it."""
    fields = "".join(
        f"^FO50,{60 + 40 * row}^A0N,32,32^FD{line}^FS" for row, line in enumerate(lines)
    )
    label = f"^XA^CI28{fields}^FO50,400^BCN,120,Y,N,N^FD{tracking_id}^FS^XZ"
    return base64.b64encode(label.encode()).decode()


def pdf_document(lines: list[str]) -> str:
    """A one-page PDF printing `lines`, base64 as Amazon sends packing slips and invoices."""
    text = " ".join(f"({_pdf_text(line)}) '" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td 16 TL {text} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    document = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(document)
    document += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    document += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    document += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return base64.b64encode(document).decode()


def _pdf_text(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
