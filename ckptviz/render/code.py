"""The Python that restores a checkpoint into the user's objects, written from what the checkpoint
is: a Keras weights file (``model.load_weights``), a TF2 object-based checkpoint
(``tf.train.Checkpoint`` with the checkpoint's own root names) or a TF1 name-based one (a
``Saver`` over variables named as the keys). Every face that offers restore code asks here."""

from __future__ import annotations

import json
import keyword
import re

from ..model.checkpoint import Checkpoint

_NOT_IDENTIFIER = re.compile(r"\W")
_SHOWN = 6  # names listed in a TF1 snippet's comment


def identifier(name: str) -> str:
    """A Python name for a checkpoint's root name (``_CHECKPOINTABLE`` stays, ``my-net`` is ``my_net``)."""
    text = _NOT_IDENTIFIER.sub("_", name) or "obj"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = f"{text}_"
    return text


def restore_code(checkpoint: Checkpoint, path: str) -> str:
    """The restore snippet for ``checkpoint``, naming it ``path`` (as the notebook sees it)."""
    where = json.dumps(path)
    if checkpoint.format == "keras":
        return "\n".join(
            [
                "# a Keras 3 model built with the same layers",
                f"model.load_weights({where})",
            ]
        )
    if checkpoint.is_object_based:
        graph = checkpoint.graph
        names = [n for n in graph.children(0) if n != "save_counter"]  # TF makes save_counter itself
        arguments = ", ".join(
            f"{n}={identifier(n)}"
            if n.isidentifier() and not keyword.iskeyword(n)
            else f"**{{{json.dumps(n)}: {identifier(n)}}}"
            for n in names
        )
        return "\n".join(
            [
                "import tensorflow as tf",
                "",
                f"# the objects the checkpoint was saved from, under its root names: {', '.join(names) or '(none)'}",
                f"checkpoint = tf.train.Checkpoint({arguments})",
                f"status = checkpoint.restore({where})",
                "status.assert_existing_objects_matched()  # every object you passed found its values",
                "",
                "# or, without TensorFlow, the values as numpy arrays:",
                "import ckptviz",
                f"arrays = ckptviz.open({where}).to_numpy()",
            ]
        )
    keys = sorted(k for k in checkpoint.entries if not k.startswith("_"))
    shown = ", ".join(keys[:_SHOWN]) + (f" … ({len(keys)} in all)" if len(keys) > _SHOWN else "")
    return "\n".join(
        [
            "import tensorflow as tf",
            "",
            "# a TF1 name-based checkpoint: build the graph whose variables have its names",
            f"# ({shown}), then:",
            "tf.compat.v1.disable_eager_execution()",
            "saver = tf.compat.v1.train.Saver()",
            "with tf.compat.v1.Session() as sess:",
            f"    saver.restore(sess, {where})",
            "",
            "# or, without TensorFlow, the values as numpy arrays:",
            "import ckptviz",
            f"arrays = ckptviz.open({where}).to_numpy()",
        ]
    )
