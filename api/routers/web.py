"""GET /: the students' page, and /favicon.ico. Static files, no build step; /static serves its
JS and CSS. The page learns the question length limit (RAG_MAX_QUESTION_CHARS) from the HTML."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from api.deps import SettingsDep

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _page() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


@router.get("/")
def index(settings: SettingsDep) -> HTMLResponse:
    html = _page().replace("{{MAX_QUESTION_CHARS}}", str(settings.max_question_chars))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})
