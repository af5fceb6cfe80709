"""Key sets of big checkpoints, metadata only (``{key: (dtype, shape)}`` for ``ObjectGraph.from_keys``):
BERT-base as Google's TF1 ``run_pretraining.py`` saves it (``AdamWeightDecayOptimizer`` slots
``<variable>/adam_m``, ``<variable>/adam_v``), and a 50 000-variable TF1 checkpoint."""

from __future__ import annotations

Meta = dict[str, tuple[str, tuple[int, ...]]]


def _dense(out: Meta, scope: str, n_in: int, n_out: int) -> None:
    out[f"{scope}/kernel"] = ("float32", (n_in, n_out))
    out[f"{scope}/bias"] = ("float32", (n_out,))


def _norm(out: Meta, scope: str, n: int) -> None:
    out[f"{scope}/beta"] = ("float32", (n,))
    out[f"{scope}/gamma"] = ("float32", (n,))


def bert_base_keys(layers: int = 12, hidden: int = 768, vocab: int = 30522) -> Meta:
    """``bert/encoder/layer_N/attention/self/query/kernel`` & co. with their Adam slots."""
    v: Meta = {}
    emb = "bert/embeddings"
    v[f"{emb}/word_embeddings"] = ("float32", (vocab, hidden))
    v[f"{emb}/token_type_embeddings"] = ("float32", (2, hidden))
    v[f"{emb}/position_embeddings"] = ("float32", (512, hidden))
    _norm(v, f"{emb}/LayerNorm", hidden)
    for n in range(layers):
        layer = f"bert/encoder/layer_{n}"
        for part in ("query", "key", "value"):
            _dense(v, f"{layer}/attention/self/{part}", hidden, hidden)
        _dense(v, f"{layer}/attention/output/dense", hidden, hidden)
        _norm(v, f"{layer}/attention/output/LayerNorm", hidden)
        _dense(v, f"{layer}/intermediate/dense", hidden, 4 * hidden)
        _dense(v, f"{layer}/output/dense", 4 * hidden, hidden)
        _norm(v, f"{layer}/output/LayerNorm", hidden)
    _dense(v, "bert/pooler/dense", hidden, hidden)
    _dense(v, "cls/predictions/transform/dense", hidden, hidden)
    _norm(v, "cls/predictions/transform/LayerNorm", hidden)
    v["cls/predictions/output_bias"] = ("float32", (vocab,))
    v["cls/seq_relationship/output_weights"] = ("float32", (2, hidden))
    v["cls/seq_relationship/output_bias"] = ("float32", (2,))
    out = dict(v)
    for key, meta in v.items():
        out[f"{key}/adam_m"] = meta
        out[f"{key}/adam_v"] = meta
    out["global_step"] = ("int64", ())
    return out


def many_keys(total: int = 50_000) -> Meta:
    """``model/tower_T/block_B/layer_L/{dense,norm}/…`` with TF1 Adam slots (``…/Adam``,
    ``…/Adam_1``): ``total`` keys in all."""
    out: Meta = {"global_step": ("int64", ()), "beta1_power": ("float32", ()), "beta2_power": ("float32", ())}
    n = 0
    while len(out) < total:
        tower, block, layer = n // 400, n // 20 % 20, n % 20
        scope = f"model/tower_{tower}/block_{block}/layer_{layer}"
        for name, shape in (("dense/kernel", (64, 64)), ("dense/bias", (64,)), ("norm/gamma", (64,))):
            for suffix in ("", "/Adam", "/Adam_1"):
                if len(out) < total:
                    out[f"{scope}/{name}{suffix}"] = ("float32", shape)
        n += 1
    return out
