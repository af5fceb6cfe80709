"""Small checkpoints written by TensorFlow 2.21, shipped with ckptviz for the tour notebooks.

>>> import ckptviz.examples
>>> ckptviz.examples.path("guide")          # a directory: CheckpointManager kept ckpt-2..4
>>> ckptviz.examples.path("guide", step=3)  # one prefix of it

``guide``: the "Training checkpoints" guide's example (a tf_keras ``Net`` with Dense(5), the
legacy Adam optimizer, a ``step`` variable, a tf.data iterator), saved four times by
``CheckpointManager(max_to_keep=3)``. ``tf1_saver``: a TF1 name-based ``Saver`` checkpoint (two
dense layers, Adam slots, ``global_step``, and the migration guide's ``a``, ``b``, ``scoped/c``),
saved at steps 1 and 2 (without its ``.meta`` graph files). ``training_run``: a Keras 3 model
(``hidden``, a non-trainable ``frozen`` layer, ``head``) and Adam, saved by ``CheckpointManager``
at global steps 2, 4, …, 12. They are copies of the fixtures of the same purpose in the
repository's ``tests/data`` (``guide_legacy_adam``, ``tf1_saver``, ``training_run``), whose README
says how TensorFlow wrote them.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent
EXAMPLES = {
    "guide": ("guide", "ckpt-{step}"),
    "tf1_saver": ("tf1_saver", "model.ckpt-{step}"),
    "training_run": ("training_run", "ckpt-{step}"),
}


def names() -> list[str]:
    """The bundled examples' names."""
    return sorted(EXAMPLES)


def path(name: str = "guide", step: int | None = None) -> str:
    """The directory of example ``name`` (its latest checkpoint, for every reader), or the prefix
    of the checkpoint saved at ``step``."""
    if name not in EXAMPLES:
        raise KeyError(f"no example named {name!r}; the examples are {', '.join(names())}")
    directory, pattern = EXAMPLES[name]
    out = HERE / directory
    if step is None:
        return str(out)
    prefix = out / pattern.format(step=step)
    if not prefix.with_name(prefix.name + ".index").exists():
        steps = sorted(int(p.name.split("-")[-1].split(".")[0]) for p in out.glob("*.index"))
        raise KeyError(f"example {name!r} has no step {step}; it has steps {', '.join(map(str, steps))}")
    return str(prefix)


def steps(name: str = "guide") -> list[str]:
    """The prefixes of every checkpoint of example ``name``, oldest first."""
    found = [p.with_suffix("") for p in Path(path(name)).glob("*.index")]
    return [str(p) for p in sorted(found, key=lambda p: int(p.name.rsplit("-", 1)[-1]))]
