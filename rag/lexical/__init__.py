"""Lexical (term) indexes: the `LexicalIndex` seam, its implementations and their registry."""
