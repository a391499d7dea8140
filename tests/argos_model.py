"""Build small but valid Argos Translate packages offline, for tests and benchmarks.

No real Argos model can be downloaded here, so the tests build one. A package made here is a real
`.argosmodel`: a zip with one top-level folder holding `metadata.json`, a `sentencepiece.model`
trained on generated support sentences, and a CTranslate2 Transformer in `model/`. Its weights
are set by hand, not trained: the decoder's last layer attends to source position t at step t and
copies that token, so the model returns its input piece for piece, with a few whole-word pieces
swapped by a lexicon (`Hello` ↔ `Hola`). Outputs are therefore exact and deterministic, decoding
ends by itself (the source `</s>` is copied too), and unknown characters come back through
CTranslate2's `replace_unknowns`.

Lessons kept from the reference recipe (shared/reference/argos.md §4):

* the zip must hold ONE top-level folder: `install_from_path` extracts it as is, and loose files
  at the root break every later package scan;
* a lexicon word that is not a single sentencepiece piece cannot be swapped: the builder fails
  instead of silently building a model that does not translate;
* the copy must live in the decoder's LAST layer, the one CTranslate2 reads alignments from;
* position tables must be longer than CTranslate2's 1024-token input limit;
* argostranslate's own `translate()` needs a sentence splitter inside the package or it downloads
  one; `with_splitter=True` adds a 1 KB rule-based MiniSBD model (needs the `onnx` package).

Run as a script to write a package: `python tests/argos_model.py OUT_DIR --source en --target es`.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BASE",
    "DEFAULT_LEXICON",
    "TINY",
    "ModelSize",
    "build_package",
    "support_sentences",
]

Array = npt.NDArray[np.float32]

DEFAULT_LEXICON: Mapping[str, str] = {
    "Hello": "Hola",
    "world": "mundo",
    "order": "pedido",
    "Thanks": "Gracias",
    "Bonjour": "Salut",
}
"""Whole words swapped by the copy model (both ways: a swap is its own inverse)."""

_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese"}

_SUBJECTS = ("I", "We", "The customer", "My friend", "She", "They", "Yo", "El cliente", "Ellos")
_VERBS = (
    "need help with",
    "cannot find",
    "want to cancel",
    "have a problem with",
    "did not receive",
    "quiero cancelar",
    "no encuentro",
    "necesito ayuda con",
)
_OBJECTS = (
    "my order",
    "the invoice",
    "the password",
    "my account",
    "the refund",
    "the delivery",
    "mi pedido",
    "la factura",
    "la cuenta",
)
_FIXED = (
    "Hello world.",
    "Hello, how are you?",
    "Thanks for waiting!",
    "Hola mundo.",
    "Gracias por esperar.",
    "Bonjour le monde.",
    "Salut tout le monde.",
    "Please wait a moment.",
    "Is there anything else?",
)
_CHARACTERS = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 "
    ".,;:!?¿¡'\"()-/@#%&*+=<>[]_ áéíóúñüç ÁÉÍÓÚÑÜ"
)


@dataclass(frozen=True, slots=True)
class ModelSize:
    """The shape of the CTranslate2 Transformer; 64 of `d_model`'s dims carry the position.

    Args:
        d_model: model width; `d_model / heads` must be at least 64.
        layers: encoder and decoder layers each.
        heads: attention heads.
        ffn: feed-forward width (its weights are zero: it only costs compute).
        vocabulary: pad CTranslate2's vocabulary to this many entries (0: the pieces only),
            so the output projection costs what a real model's does.
        quantization: CTranslate2 weight type (`float32`, `int8`).
    """

    d_model: int
    layers: int
    heads: int
    ffn: int
    vocabulary: int = 0
    quantization: str = "float32"


TINY = ModelSize(d_model=128, layers=1, heads=2, ffn=64)
"""1.5 MB, builds in ~2 s: for tests."""

BASE = ModelSize(d_model=512, layers=6, heads=8, ffn=2048, vocabulary=50_000, quantization="int8")
"""The compute shape of an argos-train Transformer-base (~84 MB): for benchmarks."""

_POSITION_DIMS = 64
_MAX_POSITIONS = 1100  # beyond CTranslate2's default max_input_length of 1024


def support_sentences(count: int) -> list[str]:
    """`count` distinct short customer-support sentences, always the same ones."""
    combos = itertools.product(_SUBJECTS, _VERBS, _OBJECTS)
    sentences = [f"{s} {v} {o}." for s, v, o in combos]
    if count > len(sentences):
        raise ValueError(f"at most {len(sentences)} distinct sentences, not {count}")
    return sentences[:count]


def build_package(
    out_dir: Path,
    *,
    source: str = "en",
    target: str = "es",
    lexicon: Mapping[str, str] = DEFAULT_LEXICON,
    size: ModelSize = TINY,
    version: str = "1.0",
    with_splitter: bool = False,
    extra_text: Sequence[str] = (),
) -> Path:
    """Write `translate-{source}_{target}-{version}.argosmodel` into `out_dir` and return its path.

    Args:
        out_dir: folder for the archive (and a `build/` working folder).
        source: the package's `from_code`.
        target: the package's `to_code`.
        lexicon: whole words swapped in the output; each must become one sentencepiece piece.
        size: the Transformer's shape.
        version: `package_version` in `metadata.json`.
        with_splitter: add `minisbd/{source}.onnx` so argostranslate's own `translate()` works
            offline (needs `onnx`).
        extra_text: more training lines, e.g. characters that must be pieces of the vocabulary.

    Raises:
        ValueError: a lexicon word did not become a single piece of the vocabulary.
    """
    name = f"translate-{source}_{target}-{version}"
    folder = Path(out_dir) / "build" / name
    (folder / "model").mkdir(parents=True, exist_ok=True)
    words = [*lexicon, *lexicon.values()]
    pieces = _train_sentencepiece(folder / "sentencepiece.model", words, extra_text)
    swaps = _swaps(pieces, lexicon)
    _write_model(folder / "model", pieces, swaps, size)
    if with_splitter:
        _write_splitter(folder / "minisbd" / f"{source}.onnx", source)
    metadata = {
        "package_version": version,
        "argos_version": "1.9",
        "type": "translate",
        "from_code": source,
        "from_name": _NAMES.get(source, source),
        "to_code": target,
        "to_name": _NAMES.get(target, target),
        "links": [],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    (folder / "README.md").write_text("A copy model for tests, not a translator.\n")
    archive = Path(out_dir) / f"{name}.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            zipped.write(path, path.relative_to(folder.parent))  # keep the top-level folder
    return archive


def _corpus(words: Iterable[str], extra_text: Sequence[str]) -> list[str]:
    lines = [*support_sentences(len(_SUBJECTS) * len(_VERBS) * len(_OBJECTS))]
    lines += [*_FIXED] * 5 + [_CHARACTERS] * 3 + [*extra_text] * 3
    # Lexicon words often enough, in several contexts, to become whole pieces.
    lines += [f"{word} {word}, {word}. {word}!" for word in words for _ in range(8)]
    return lines


def _train_sentencepiece(path: Path, words: Sequence[str], extra_text: Sequence[str]) -> list[str]:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_corpus(words, extra_text)),
        model_writer=model,
        vocab_size=400,
        hard_vocab_limit=False,  # a small corpus: take what it gives
        model_type="unigram",
        character_coverage=1.0,
        num_threads=1,  # deterministic output
        minloglevel=2,
    )
    path.write_bytes(model.getvalue())
    processor = spm.SentencePieceProcessor(model_file=str(path))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    if pieces[:3] != ["<unk>", "<s>", "</s>"]:
        raise ValueError(f"unexpected special pieces {pieces[:3]}")
    return pieces


def _swaps(pieces: Sequence[str], lexicon: Mapping[str, str]) -> dict[int, int]:
    """Vocabulary ids to swap: `▁word` pieces for words, the bare piece for symbols and digits."""
    index = {piece: i for i, piece in enumerate(pieces)}

    def piece_id(word: str) -> int | None:
        forms = [f"▁{word}", word] if word.isalpha() else [word, f"▁{word}"]
        return next((index[form] for form in forms if form in index), None)

    swaps: dict[int, int] = {}
    for left, right in lexicon.items():
        a, b = piece_id(left), piece_id(right)
        if a is None or b is None:
            raise ValueError(
                f"lexicon pair {left!r}/{right!r} is not two sentencepiece pieces; "
                "add lines using them to extra_text"
            )
        swaps[a], swaps[b] = b, a
    return swaps


def _write_model(
    folder: Path, pieces: list[str], swaps: Mapping[int, int], size: ModelSize
) -> None:
    import ctranslate2

    if size.d_model // size.heads < _POSITION_DIMS:
        raise ValueError("d_model / heads must be at least 64")
    padding = max(0, size.vocabulary - len(pieces))
    vocabulary = pieces + [f"<pad_{i}>" for i in range(padding)]
    rng = np.random.default_rng(0)  # fixed seed: the same bytes on every build
    d_token = size.d_model - _POSITION_DIMS
    codes = rng.standard_normal((len(vocabulary), d_token)).astype(np.float32)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)  # a unit code per token

    spec = ctranslate2.specs.TransformerSpec.from_config(
        num_layers=(size.layers, size.layers),
        num_heads=size.heads,
        pre_norm=True,
        no_final_norm=True,
    )
    spec.config.add_source_eos = True  # copying the source </s> ends decoding by itself
    spec.encoder.scale_embeddings = False
    spec.decoder.scale_embeddings = False
    positions, gap = _positions(size.d_model)
    embeddings = np.zeros((len(vocabulary), size.d_model), np.float32)
    embeddings[:, :d_token] = codes
    spec.encoder.embeddings[0].weight = embeddings
    spec.encoder.position_encodings.encodings = positions
    spec.decoder.embeddings.weight = np.zeros((len(vocabulary), size.d_model), np.float32)
    spec.decoder.position_encodings.encodings = positions
    for layer in spec.encoder.layer:
        _inert_layer(layer, size, cross=False)
    for layer in spec.decoder.layer:
        _inert_layer(layer, size, cross=True)
    _copy_attention(spec.decoder.layer[-1].attention, size, gap)

    order = np.arange(len(vocabulary))
    for a, b in swaps.items():
        order[a] = b
    projection = np.zeros((len(vocabulary), size.d_model), np.float32)
    projection[order, :d_token] = 30.0 * codes  # target P(v) scores highest for source v
    spec.decoder.projection.weight = projection

    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=size.quantization)
    spec.save(str(folder))


def _positions(d_model: int) -> tuple[Array, float]:
    """Position codes [cos, sin, -cos, -sin] in the last 64 dims, and the attention scale.

    Zero mean and constant norm, so the pre-norm LayerNorm only scales them. The scale makes the
    logit of the right source position beat every other by at least 20.
    """
    frequencies = 2 * np.pi / np.geomspace(2.5, 5000, _POSITION_DIMS // 4)
    angles = np.outer(np.arange(_MAX_POSITIONS), frequencies)
    table = np.zeros((_MAX_POSITIONS, d_model), np.float32)
    waves = [np.cos(angles), np.sin(angles), -np.cos(angles), -np.sin(angles)]
    table[:, d_model - _POSITION_DIMS :] = np.concatenate(waves, axis=1)
    nearest = (1 - np.cos(np.outer(np.arange(1, _MAX_POSITIONS), frequencies))).sum(1).min()
    sigma = np.sqrt((_POSITION_DIMS / 2) / d_model)
    return table, float(sigma / (2 * nearest))


def _inert_layer(layer: Any, size: ModelSize, *, cross: bool) -> None:
    """Zero every output weight: the residual stream passes through unchanged."""
    d = size.d_model

    def zeros(*shape: int) -> Array:
        return np.zeros(shape, np.float32)

    norms = [layer.self_attention.layer_norm, layer.ffn.layer_norm]
    layer.self_attention.linear[0].weight = zeros(3 * d, d)
    layer.self_attention.linear[1].weight = zeros(d, d)
    if cross:
        norms.append(layer.attention.layer_norm)
        layer.attention.linear[0].weight = zeros(d, d)
        layer.attention.linear[1].weight = zeros(2 * d, d)
        layer.attention.linear[2].weight = zeros(d, d)
    layer.ffn.linear_0.weight = zeros(size.ffn, d)
    layer.ffn.linear_1.weight = zeros(d, size.ffn)
    for norm in norms:
        norm.gamma = np.ones(d, np.float32)
        norm.beta = zeros(d)


def _copy_attention(attention: Any, size: ModelSize, gap: float) -> None:
    """Step t attends to source position t and copies its token code into the token dims."""
    d, heads = size.d_model, size.heads
    head_dims = d // heads
    d_token = d - _POSITION_DIMS
    share = -(-d_token // heads)  # token dims carried by each head
    alpha = 20.0 * gap * np.sqrt(head_dims)
    query = np.zeros((d, d), np.float32)
    key_value = np.zeros((2 * d, d), np.float32)
    out = np.zeros((d, d), np.float32)
    for head in range(heads):
        start = head * head_dims
        query[start : start + _POSITION_DIMS, d_token:] = alpha * np.eye(_POSITION_DIMS)
        key_value[start : start + _POSITION_DIMS, d_token:] = np.eye(_POSITION_DIMS)
        for j in range(min(d_token, (head + 1) * share) - head * share):
            key_value[d + start + j, head * share + j] = 1.0
            out[head * share + j, start + j] = 1.0
    attention.linear[0].weight = query
    attention.linear[1].weight = key_value
    attention.linear[2].weight = out


def _write_splitter(path: Path, language: str) -> None:
    """A rule-based sentence splitter in MiniSBD's ONNX format: `.!?` before a space ends one.

    Inputs `units` (char ids) and `features`, output [B, T, 5] logits where class 2 marks a
    sentence end, with the vocabulary and config stored as metadata, as minisbd reads them.
    """
    import onnx
    from onnx import TensorProto, helper

    units = ["<PAD>", "<UNK>", " ", ".", "!", "?", "。", "！", "？"]
    is_end_mark = [0, 0, 0, 1, 1, 1, 1, 1, 1]
    is_space = [1, 0, 1, 0, 0, 0, 0, 0, 0]  # padding counts as the end of the text

    def tensor(name: str, kind: int, dims: list[int], values: Sequence[float]) -> Any:
        return helper.make_tensor(name, kind, dims, values)

    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    constants = [
        tensor("mark", f, [len(units)], is_end_mark),
        tensor("space", f, [len(units)], is_space),
        tensor("one", i64, [1], [1]),
        tensor("zero", i64, [1], [0]),
        tensor("last", i64, [1], [2**62]),
        tensor("weight", f, [5], [-10, 0, 10, -10, -10]),
        tensor("bias", f, [5], [5, 0, 0, -10, -10]),
        tensor("axis2", i64, [1], [2]),
        tensor("zero_f", f, [], [0.0]),
        tensor("one_f", f, [], [1.0]),
    ]
    node = helper.make_node
    nodes = [
        node("Gather", ["mark", "units"], ["is_mark"]),
        node("Gather", ["space", "units"], ["is_space"]),
        node("Slice", ["is_space", "one", "last", "one"], ["space_after"]),
        node("Slice", ["is_space", "zero", "one", "one"], ["first"]),
        node("Mul", ["first", "zero_f"], ["first_zero"]),
        node("Add", ["first_zero", "one_f"], ["end_column"]),
        node("Concat", ["space_after", "end_column"], ["next_is_space"], axis=1),
        node("Mul", ["is_mark", "next_is_space"], ["ends"]),
        node("Unsqueeze", ["ends", "axis2"], ["ends3"]),
        node("Mul", ["ends3", "weight"], ["scaled"]),
        node("Add", ["scaled", "bias"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "sentence_ends",
        [
            helper.make_tensor_value_info("units", i64, ["B", "T"]),
            helper.make_tensor_value_info("features", f, ["B", "T", "F"]),
        ],
        [helper.make_tensor_value_info("logits", f, ["B", "T", 5])],
        initializer=constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    config = {
        "skip_newline": False,
        "max_seqlen": 1000,
        "no_ssplit": False,
        "batch_size": 32,
        "feat_funcs": ["space_before"],
        "use_dictionary": False,
        "num_dict_feat": 0,
    }
    vocab = {
        "lang": language,
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_id2unit": units,
        "_unit2id": {unit: i for i, unit in enumerate(units)},
    }
    meta = {"lang_code": language, "config": json.dumps(config), "vocab": json.dumps(vocab)}
    for key, value in {**meta, "lexicon": "null"}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: write one package and print its path."""
    parser = argparse.ArgumentParser(description="Build a copy-model .argosmodel offline.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--source", default="en")
    parser.add_argument("--target", default="es")
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--splitter", action="store_true", help="add minisbd/ (needs onnx)")
    args = parser.parse_args(argv)
    size = BASE if args.size == "base" else TINY
    print(
        build_package(
            args.out_dir,
            source=args.source,
            target=args.target,
            size=size,
            with_splitter=args.splitter,
        )
    )


if __name__ == "__main__":
    main()
