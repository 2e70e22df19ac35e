"""Dense (vector) indexes: the `DenseIndex` seam, its implementations and their registry."""
