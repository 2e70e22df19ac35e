"""Tiny, randomly initialised models built on the fly for tests and benchmarks.

No model hub is reachable here, so tests cannot download a real LLM or embedder.
These builders write structurally valid models in well under a second each:

* :func:`build_tiny_gguf` writes a ~0.5 MB llama-architecture GGUF that
  ``llama_cpp.Llama`` loads and that answers chat completions (gibberish, but the
  whole prompt -> tokens -> sampling -> detokenise path runs for real).
* :func:`build_tiny_sentence_transformer` writes a 2-layer BERT sentence-transformers
  model whose WordPiece vocabulary is trained on the given texts, so Korean words
  map to real pieces instead of ``[UNK]``.

Both only write into the given path (overwriting), so calling them again is safe.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path

import numpy as np

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
"""ChatML, the template Qwen-style instruct GGUFs ship; stored as ``tokenizer.chat_template``."""

# Tiny llama hyper-parameters (head_dim = 64 / 4 = 16).
N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, N_FF, N_CTX_TRAIN = 64, 2, 4, 4, 128, 2048

_SPECIAL = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
_WORDS = ["the", "a", "of", "and", "to", "is", "in", "what", "answer", "question",
          "user", "system", "assistant", "note", "source", "text"]
_KOREAN = ["다", "는", "이", "의", "에", "를", "가", "은", "하", "고", "한국어", "질문", "답변"]


def _gguf_vocab() -> tuple[list[str], list[float], list[int]]:
    """SentencePiece-style vocab: specials, 256 byte fallbacks, then common pieces.

    The byte tokens ``<0x00>``..``<0xFF>`` (type BYTE) let llama.cpp's SPM tokenizer
    encode any UTF-8 text, Korean included; ``<0x0A>`` doubles as the newline token.
    """
    import gguf

    tt = gguf.TokenType
    tokens = list(_SPECIAL)
    types = [tt.UNKNOWN, tt.CONTROL, tt.CONTROL, tt.CONTROL, tt.CONTROL]
    scores = [0.0] * len(_SPECIAL)
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [tt.BYTE] * 256
    scores += [0.0] * 256
    pieces: list[str] = ["▁"]
    pieces += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    pieces += [str(d) for d in range(10)]
    pieces += list("[].,?!:;-()'\"/")
    pieces += ["▁" + chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces += ["▁" + w for w in _WORDS] + ["▁[", "▁" + "[1]", "[1]", "[2]", "[3]"]
    pieces += _KOREAN + ["▁" + k for k in _KOREAN]
    seen: set[str] = set(tokens)
    for p in pieces:  # duplicates would confuse llama.cpp's text->id map
        if p not in seen:
            seen.add(p)
            tokens.append(p)
            # SPM merges the highest-scoring bigram first; favour longer pieces.
            scores.append(-10.0 + len(p))
            types.append(tt.NORMAL)
    return tokens, scores, [int(t) for t in types]


def build_tiny_gguf(path: Path, *, seed: int = 0) -> Path:
    """Write a tiny random llama GGUF with a ChatML chat template to ``path``.

    Numpy shapes are (out_features, in_features); GGUF stores dims reversed, which
    is what llama.cpp expects (e.g. ``token_embd.weight`` ne = {n_embd, n_vocab}).
    """
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens, scores, types = _gguf_vocab()
    n_vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("tiny-random-llama")
    w.add_context_length(N_CTX_TRAIN)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(CHATML_TEMPLATE)

    w.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD))
    head_dim = N_EMBD // N_HEAD
    for i in range(N_LAYER):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(b + "attn_q.weight", rand(N_HEAD * head_dim, N_EMBD))
        w.add_tensor(b + "attn_k.weight", rand(N_HEAD_KV * head_dim, N_EMBD))
        w.add_tensor(b + "attn_v.weight", rand(N_HEAD_KV * head_dim, N_EMBD))
        w.add_tensor(b + "attn_output.weight", rand(N_EMBD, N_HEAD * head_dim))
        w.add_tensor(b + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(b + "ffn_gate.weight", rand(N_FF, N_EMBD))
        w.add_tensor(b + "ffn_up.weight", rand(N_FF, N_EMBD))
        w.add_tensor(b + "ffn_down.weight", rand(N_EMBD, N_FF))
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.add_tensor("output.weight", rand(n_vocab, N_EMBD))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def build_tiny_sentence_transformer(
    out_dir: Path,
    texts: list[str],
    *,
    vocab_size: int = 2000,
    dim: int = 32,
    seed: int = 0,
) -> Path:
    """Train a WordPiece vocab on ``texts`` and save a random 2-layer BERT embedder.

    ``lowercase=False, strip_accents=False`` matter for Korean: accent stripping
    NFD-decomposes Hangul syllables into jamo. The tokenizer is wrapped with
    ``tokenizer_object=`` because, with transformers 5, ``BertTokenizerFast(vocab_file=)``
    silently yields a 5-token vocabulary (everything becomes ``[UNK]``); the vocab
    size is asserted after reloading so such a regression fails loudly.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6 moved the modules; the old path warns
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:  # pragma: no cover - sentence-transformers 5
        from sentence_transformers import models
    from tokenizers import BertWordPieceTokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wp = BertWordPieceTokenizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False
    )
    wp.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1,
                           special_tokens=specials, show_progress=False)
    cls_id, sep_id = wp.token_to_id("[CLS]"), wp.token_to_id("[SEP]")
    # Training does not install a post-processor; BERT inputs want [CLS] ... [SEP].
    wp.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    trained_vocab = wp.get_vocab_size()
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=wp._tokenizer,
        unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=512,
    )
    assert len(hf_tok) == trained_vocab, (len(hf_tok), trained_vocab)

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=trained_vocab, hidden_size=dim, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=2 * dim, max_position_embeddings=512,
        pad_token_id=hf_tok.pad_token_id,
    )
    BertModel(config).save_pretrained(str(out_dir))
    hf_tok.save_pretrained(str(out_dir))

    transformer = models.Transformer(str(out_dir), max_seq_length=512)
    loaded = len(transformer.tokenizer)
    assert loaded == trained_vocab, f"tokenizer reloaded with {loaded} tokens, trained {trained_vocab}"
    st = SentenceTransformer(
        modules=[transformer, models.Pooling(dim, pooling_mode="mean"), models.Normalize()],
        device="cpu",
    )
    st.save(str(out_dir))
    return out_dir
