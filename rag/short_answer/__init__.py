"""Short answers: the exact span of a cited sentence that answers a factoid question.

``short_answer(question, sentence) -> Span | None`` (see ``model``); candidates, features and
training live in their own modules; the model card is rag/data/short_answer.md.
"""
from rag.short_answer.model import Span, SpanModel, default_model, first_short_answer, short_answer

__all__ = ["Span", "SpanModel", "default_model", "first_short_answer", "short_answer"]
