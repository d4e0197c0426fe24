"""Lay out a rendered DOCX as PDF with the bundled DejaVu Sans (every Kazakh letter: ә ғ қ ң ө ұ ү һ і).

The DOCX made from the office's template is the single source of a document's wording; this
module walks its body in order (paragraphs, tables, inline pictures) and writes a plain, readable
PDF with fpdf2, embedding a subset of the font so the file renders the same on Windows and Linux.
Character formatting beyond bold, centring and heading levels is not carried over.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from .. import package_path
from ..safeio import atomic_output
from .errors import ReportError

FONT = "DejaVu"


def font_path(bold: bool = False) -> Path:
    return package_path("reports", "data", "fonts", "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.cell(0, 5, f"{self.footer_text}   {self.page_no()}/{{nb}}", align="C")


def _para_style(p: Paragraph) -> tuple[float, bool, str]:
    name = (p.style.name if p.style is not None else "") or ""
    align = "C" if p.alignment is not None and int(p.alignment) == 1 else "L"
    bold = bool(p.runs) and all(r.bold for r in p.runs if r.text.strip())
    if name == "Title":
        return 15.0, True, "C"
    if name.startswith("Heading"):
        return 11.5, True, align
    return 9.5, bold, align


def _images(p: Paragraph, doc) -> list[bytes]:
    out = []
    for blip in p._p.iter(qn("a:blip")):
        rid = blip.get(qn("r:embed"))
        if rid and rid in doc.part.related_parts:
            out.append(doc.part.related_parts[rid].blob)
    return out


def _table(pdf: FPDF, table: Table) -> None:
    rows = [[c.text for c in row.cells] for row in table.rows]
    if not rows:
        return
    ncols = max(len(r) for r in rows)
    widths = (32, 68) if ncols == 2 else None
    first_bold = (any(r.bold for r in table.rows[0].cells[0].paragraphs[0].runs) if table.rows[0].cells[0].paragraphs
                  else False)
    pdf.set_font(FONT, size=8.5 if ncols <= 4 else 7)
    with pdf.table(col_widths=widths, text_align="LEFT", first_row_as_headings=first_bold and ncols > 2,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
                   line_height=pdf.font_size * 1.45) as t:
        for r in rows:
            row = t.row()
            for i in range(ncols):
                row.cell(r[i] if i < len(r) else "")
    pdf.ln(2)


def docx_to_pdf(docx: Path | str, out: Path | str, footer: str = "") -> Path:
    """Write ``out`` (PDF) from ``docx``; all or nothing."""
    docx, out = Path(docx), Path(out)
    try:
        doc = Document(str(docx))
    except Exception as exc:
        raise ReportError(f"{docx}: not a readable DOCX ({type(exc).__name__}: {exc})") from None
    pdf = _Pdf(format="A4")
    pdf.footer_text = footer
    pdf.set_margins(18, 15, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(FONT, "", str(font_path(False)))
    pdf.add_font(FONT, "B", str(font_path(True)))
    pdf.set_title(footer or docx.stem)
    pdf.set_creator("qamtu")
    pdf.add_page()
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            p = Paragraph(child, doc)
            for blob in _images(p, doc):
                pdf.image(io.BytesIO(blob), w=pdf.epw)
                pdf.ln(2)
            text = p.text.strip()
            if not text:
                continue
            size, bold, align = _para_style(p)
            pdf.set_font(FONT, "B" if bold else "", size)
            if size > 10:
                pdf.ln(1.5)
            pdf.multi_cell(0, size * 0.5, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
        elif child.tag == qn("w:tbl"):
            _table(pdf, Table(child, doc))
    with atomic_output(out, what="PDF") as tmp:  # permissions from the umask, like any document
        pdf.output(str(tmp))
    return out
