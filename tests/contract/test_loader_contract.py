"""One test body run over every registered loader (``ingest.loader_registry.LOADERS``): a new
format must come with a sample here and pass the same contract as the others.

Contract: the sample loads with its type, its words in the text; pages, headings and breaks lie
inside the text and in order; every chunk cut from it is ``text[start:end]``; the sample's
content is recognised as its own format and refused under any other binary format's name (and a
binary sample is refused as text); empty, garbage and truncated bytes are ``BadDocument``, never
another exception. The formats table of docs/formats.md is the registry's.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.document import Loader
from ingest.loader_registry import LOADERS, SUPPORTED, formats_table, identify
from ingest.loaders import load_bytes
from ingest.splitting import Chunker
from rag.errors import BadDocument
from tests.conftest import ROOT
from tests.office_files import docx_bytes, hwpx_bytes, pptx_bytes
from tests.pdfs import write_text_pdf

WORD = "Xenotime"  # an invented word every sample holds (Latin: the test PDF font has no Hangul)


def _samples(tmp: Path) -> dict[str, bytes]:
    sentence = f"{WORD} 분류기는 작은 데이터에서도 잘 동작하는 분류 기법이다."
    return {
        "txt": f"{WORD} 노트\n\n{sentence}\n두 번째 문단이다.\n".encode(),
        "md": f"# {WORD} 노트\n\n{sentence}\n\n## 다음 절\n\n| 열 | 값 |\n|---|---|\n| a | 1 |\n".encode(),
        "pdf": write_text_pdf(tmp / "s.pdf", [[f"{WORD} notes", f"The {WORD} classifier works on small data."],
                                               ["Second page text for the contract."]]).read_bytes(),
        "html": f"<html><head><title>{WORD}</title></head><body><h1>{WORD} 노트</h1><p>{sentence}</p>"
                "<h2>다음 절</h2><p>두 번째 문단이다.</p></body></html>".encode(),
        "docx": docx_bytes([("h1", f"{WORD} 노트"), ("p", sentence), ("table", [["열", "값"], ["a", "1"]]),
                            ("h2", "다음 절"), ("p", "두 번째 문단이다.")]),
        "pptx": pptx_bytes([{"title": f"{WORD} 노트", "body": [sentence], "notes": "발표 메모이다."},
                            {"title": "다음 절", "body": ["두 번째 슬라이드이다."]}]),
        "hwpx": hwpx_bytes([[("h", f"{WORD} 노트"), ("p", sentence), ("table", [["열", "값"], ["a", "1"]])],
                            [("h", "다음 절"), ("p", "두 번째 구역이다.")]]),
    }


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return _samples(tmp_path_factory.mktemp("samples"))


def test_every_registered_loader_has_a_sample_and_a_full_declaration(samples: dict[str, bytes]) -> None:
    assert [ld.type for ld in LOADERS] == list(samples)  # a new loader adds its sample above
    for ld in LOADERS:
        assert ld.extensions and all(re.fullmatch(r"\.[a-z0-9]+", e) for e in ld.extensions), ld.type
        assert ld.media_types and all("/" in m for m in ld.media_types) and ld.keeps and ld.name, ld.type
        assert ld.sniff is None or ld.expected, ld.type
    assert len(SUPPORTED) == sum(len(ld.extensions) for ld in LOADERS)  # no extension claimed twice


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.type for ld in LOADERS])
def test_round_trip_and_offsets(loader: Loader, samples: dict[str, bytes]) -> None:
    data = samples[loader.type]
    doc = load_bytes(f"sample{loader.extensions[0]}", data, loader.type)
    assert doc.type == loader.type and WORD in doc.text and doc.title
    assert doc.size == len(data) and len(doc.hash) == 64
    n = len(doc.text)
    starts = [p.start for p in doc.pages]
    assert starts == sorted(starts) and all(0 <= p.start <= p.end <= n for p in doc.pages)
    assert all(0 <= b <= n for b in doc.breaks) and list(doc.breaks) == sorted(doc.breaks)
    if doc.headings is not None:
        assert all(0 <= h.start < n and h.title for h in doc.headings)
        assert [h.start for h in doc.headings] == sorted(h.start for h in doc.headings)
    chunks = Chunker(chunk_size=60, chunk_overlap=10).split(doc, [])
    assert chunks and any(WORD in c.text for c in chunks)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.page in {p.number for p in doc.pages}


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.type for ld in LOADERS])
def test_content_is_told_apart(loader: Loader, samples: dict[str, bytes]) -> None:
    own = samples[loader.type]
    if loader.sniff is not None:
        assert loader.sniff(own) and identify(own) == loader.name
    else:
        assert identify(own) is None
    for other in LOADERS:
        if other is loader or (loader.sniff is None and other.sniff is None):
            continue  # a text file is valid text under any text type
        with pytest.raises(BadDocument) as err:
            load_bytes(f"misnamed{other.extensions[0]}", own, other.type)
        said = err.value.message  # names the format expected, or (as text) what the bytes are
        assert said.startswith(f"not {other.name}: ") if other.sniff is not None else loader.name in said, said


@pytest.mark.parametrize("loader", LOADERS, ids=[ld.type for ld in LOADERS])
def test_bad_bytes_are_a_bad_document(loader: Loader, samples: dict[str, bytes]) -> None:
    bad = [b"", b"\x00\x01\x02\xff" * 100, b"PK\x03\x04" + bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + bytes(64)]
    if loader.sniff is not None:
        data = samples[loader.type]
        bad += [data[: len(data) // 2], data[:-40], data[:200]]
    for data in bad:
        with pytest.raises(BadDocument):
            load_bytes(f"bad{loader.extensions[0]}", data, loader.type)


def test_docs_formats_table_is_the_registrys() -> None:
    page = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- formats:start[^>]*-->\n(.*?)\n<!-- formats:end -->", page, re.S)
    assert m, "docs/formats.md has no generated formats table"
    assert m.group(1) == formats_table(), "docs/formats.md's formats table is stale: paste ingest.loader_registry.formats_table()"
