"""The Milvus index backend (``RAG_INDEX_BACKEND=milvus``): a snapshot is a pair of collections
in a Milvus server (chunks with their dense and sparse vectors; the snapshot's meta, documents,
term statistics and stored embedder), published by switching an alias. API workers follow the
alias and keep no index files of their own. The writer side is `ingest.milvus_publisher`."""
