"""Rerankers: reorder the fused candidates before the top k are read (rag.search)."""
