"""Sample Word, PowerPoint and Hangul files written by the tests themselves.

.docx and .pptx through python-docx and python-pptx (the libraries the loaders read them with,
writing real packages); .hwpx by hand, following the OWPML package layout Hangul writes:
``mimetype`` first and stored, ``version.xml``, ``META-INF/container.xml`` pointing at
``Contents/content.hpf`` (manifest + spine = section order), ``Contents/header.xml`` (paragraph
shapes and styles, where outline headings are declared) and ``Contents/section<N>.xml``.
"""
from __future__ import annotations

import io
import zipfile
from typing import Sequence, Union
from xml.sax.saxutils import escape

NS_HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"
NS_HS = "http://www.hancom.co.kr/hwpml/2011/section"
NS_HH = "http://www.hancom.co.kr/hwpml/2011/head"

# docx blocks: ("h1", text) heading 1, ("h2", text), ("p", text), ("table", [[cell, ...], ...])
Block = tuple[str, Union[str, Sequence[Sequence[str]]]]


def docx_bytes(blocks: Sequence[Block], *, title: str = "") -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for kind, value in blocks:
        if kind.startswith("h"):
            document.add_heading(str(value), level=int(kind[1:]))
        elif kind == "p":
            document.add_paragraph(str(value))
        elif kind == "table":
            rows = list(value)  # type: ignore[arg-type]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pptx_bytes(slides: Sequence[dict], *, title: str = "") -> bytes:
    """``slides``: dicts with ``title`` (optional), ``body`` (lines, optional), ``table`` (rows),
    ``group`` (lines, put in a group shape), ``notes`` (speaker notes), ``boxes``: [(top_cm, text)]
    text boxes placed at a height (to test reading order)."""
    from pptx import Presentation
    from pptx.util import Cm

    deck = Presentation()
    deck.core_properties.title = title
    for spec in slides:
        layout = deck.slide_layouts[1] if spec.get("title") else deck.slide_layouts[6]  # title+content / blank
        slide = deck.slides.add_slide(layout)
        if spec.get("title"):
            slide.shapes.title.text = spec["title"]
            body = slide.placeholders[1]
            lines = spec.get("body") or []
            body.text_frame.text = lines[0] if lines else ""
            for line in lines[1:]:
                body.text_frame.add_paragraph().text = line
            if not lines:
                body._element.getparent().remove(body._element)
        for top, text in spec.get("boxes", []):
            slide.shapes.add_textbox(Cm(1), Cm(top), Cm(10), Cm(1)).text_frame.text = text
        if spec.get("table"):
            rows = spec["table"]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Cm(1), Cm(14), Cm(20), Cm(3))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    shape.table.cell(r, c).text = cell
        if spec.get("group"):
            group = slide.shapes.add_group_shape()
            for i, line in enumerate(spec["group"]):
                group.shapes.add_textbox(Cm(1), Cm(17 + i), Cm(10), Cm(1)).text_frame.text = line
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


# hwpx paragraphs: ("h", text) an outline heading (style 개요 1), ("p", text), ("table", rows),
# ("xml", "<hp:p>...</hp:p>") as given
def _hwpx_paragraph(kind: str, value: object, pid: int) -> str:
    if kind == "xml":  # a paragraph written out by the test
        return str(value)
    if kind == "table":
        rows = "".join(
            "<hp:tr>" + "".join(
                f'<hp:tc><hp:subList><hp:p id="{pid}" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0">'
                f"<hp:t>{escape(cell)}</hp:t></hp:run></hp:p></hp:subList></hp:tc>" for cell in row) + "</hp:tr>"
            for row in value)  # type: ignore[union-attr]
        return (f'<hp:p id="{pid}" paraPrIDRef="0" styleIDRef="0"><hp:run charPrIDRef="0">'
                f'<hp:tbl id="{pid}" rowCnt="{len(value)}" colCnt="{len(value[0])}">{rows}</hp:tbl>'  # type: ignore[arg-type]
                "</hp:run></hp:p>")
    shape, style = ("1", "2") if kind == "h" else ("0", "0")
    return (f'<hp:p id="{pid}" paraPrIDRef="{shape}" styleIDRef="{style}" pageBreak="0" columnBreak="0" merged="0">'
            f'<hp:run charPrIDRef="0"><hp:t>{escape(str(value))}</hp:t></hp:run></hp:p>')


def hwpx_bytes(sections: Sequence[Sequence[Block]], *, spine: Sequence[int] | None = None,
               mimetype: bytes = b"application/hwp+zip") -> bytes:
    """A minimal valid OWPML package; ``spine``: the section order content.hpf gives (default 0, 1, ...)."""
    order = list(spine if spine is not None else range(len(sections)))
    files: list[tuple[str, bytes]] = [
        ("version.xml", b'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
                        b'<hv:HCFVersion xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" '
                        b'tagetApplication="WORDPROCESSOR" major="5" minor="1" micro="0" buildNumber="1" '
                        b'os="1" xmlVersion="1.4" application="Hancom Office Hangul" appVersion="11.0.0.0"/>'),
        ("META-INF/container.xml",
         b'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
         b'<ocf:container xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container" '
         b'xmlns:hpf="http://www.hancom.co.kr/schema/2011/hpf"><ocf:rootfiles>'
         b'<ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/>'
         b"</ocf:rootfiles></ocf:container>"),
        ("Contents/content.hpf", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
            '<opf:package xmlns:opf="http://www.idpf.org/2007/opf/" xmlns:hpf="http://www.hancom.co.kr/schema/2011/hpf" '
            'version="" unique-identifier="" id=""><opf:metadata><opf:language>ko</opf:language></opf:metadata>'
            '<opf:manifest><opf:item id="header" href="Contents/header.xml" media-type="application/xml"/>'
            + "".join(f'<opf:item id="section{i}" href="Contents/section{i}.xml" media-type="application/xml"/>'
                      for i in range(len(sections)))
            + '</opf:manifest><opf:spine><opf:itemref idref="header" linear="yes"/>'
            + "".join(f'<opf:itemref idref="section{i}" linear="yes"/>' for i in order)
            + "</opf:spine></opf:package>").encode()),
        ("Contents/header.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><hh:head xmlns:hh="{NS_HH}" version="1.4" '
            f'secCnt="{len(sections)}"><hh:refList><hh:paraProperties itemCnt="2">'
            '<hh:paraPr id="0"><hh:heading type="NONE" idRef="0" level="0"/></hh:paraPr>'
            '<hh:paraPr id="1"><hh:heading type="OUTLINE" idRef="0" level="0"/></hh:paraPr></hh:paraProperties>'
            '<hh:styles itemCnt="2"><hh:style id="0" type="PARA" name="바탕글" engName="Normal" paraPrIDRef="0" '
            'charPrIDRef="0" nextStyleIDRef="0" langID="1042" lockForm="0"/>'
            '<hh:style id="2" type="PARA" name="개요 1" engName="Outline 1" paraPrIDRef="1" charPrIDRef="0" '
            'nextStyleIDRef="0" langID="1042" lockForm="0"/></hh:styles></hh:refList></hh:head>').encode()),
    ]
    for i, blocks in enumerate(sections):
        body = "".join(_hwpx_paragraph(kind, value, n) for n, (kind, value) in enumerate(blocks))
        files.append((f"Contents/section{i}.xml",
                      (f'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>'
                       f'<hs:sec xmlns:hs="{NS_HS}" xmlns:hp="{NS_HP}">{body}</hs:sec>').encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)  # first, stored
        for name, data in files:
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
