"""tests/unit/test_reader.py's tests that search the notes index, run again with the index in
Milvus: a real `milvus-lite server` on 127.0.0.1, published to by the ingest as in production
(tests/conftest.py parametrises them and leaves the others to the unit module)."""
from tests.unit.test_reader import *  # noqa: F403 - the tests and the fixtures they use

INDEX_BACKEND = "milvus"
