"""Index snapshots: the on-disk format, its verification, the reader, the store that follows
CURRENT, and the registry of index backends (`rag.snapshots.backends`)."""
