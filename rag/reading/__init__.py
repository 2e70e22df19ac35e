"""The learned reader: features, models, training data and training (see rag/data/reader_model.md)."""
