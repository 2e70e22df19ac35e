"""The generator registry: ``RAG_GENERATOR`` names an entry, or ``auto`` takes the first whose
settings are given (in this order). Adding a generator is a module with a class that has
``configured(settings)``, ``from_settings(settings)``, ``generate`` and ``stream`` (see
`rag.generators.base.Generator`) and one line in GENERATORS.
"""
from __future__ import annotations

import logging
from typing import Protocol

from rag.errors import InvalidInput
from rag.generators.base import Generator
from rag.generators.extractive import ExtractiveGenerator
from rag.generators.llamacpp import LlamaCppGenerator
from rag.generators.openai_remote import OpenAIRemoteGenerator
from rag.settings import Settings

log = logging.getLogger(__name__)


class GeneratorClass(Protocol):
    def configured(self, settings: Settings) -> bool: ...

    def from_settings(self, settings: Settings) -> Generator: ...


GENERATORS: dict[str, GeneratorClass] = {
    "openai": OpenAIRemoteGenerator,  # RAG_LLM_URL
    "llamacpp": LlamaCppGenerator,  # RAG_LLM_MODEL
    "extractive": ExtractiveGenerator,  # always: the offline default and every other's fallback
}
FALLBACK = "extractive"


def generator_name(settings: Settings) -> str:
    """The registry entry the settings choose; an unknown RAG_GENERATOR is InvalidInput."""
    if settings.generator == "auto":
        return next(name for name, cls in GENERATORS.items() if cls.configured(settings))
    if settings.generator not in GENERATORS:
        raise InvalidInput(f"unknown RAG_GENERATOR {settings.generator!r} (known: auto, {', '.join(GENERATORS)})")
    return settings.generator


def load_generator(settings: Settings) -> Generator:
    """The chosen generator; when it does not load (no model file, a broken model), the
    extractive one, with the reason logged."""
    name = generator_name(settings)
    try:
        return GENERATORS[name].from_settings(settings)
    except Exception as exc:  # any load failure falls back, saying why
        if name == FALLBACK:
            raise
        log.warning("generator %s unavailable (%s); answering extractively", name, exc)
    return GENERATORS[FALLBACK].from_settings(settings)
