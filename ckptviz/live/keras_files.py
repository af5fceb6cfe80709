"""Which variable of a live Keras 3 object each key of a ``.weights.h5`` / ``.keras`` file holds.

Keras writes those files by walking the object (``saving_lib._save_state``): each saveable's own
variables under ``<path>/vars/<i>``, children under their attribute names, list items under
their snake-cased class names made unique. We take that walk's answer from Keras itself: each
saveable's ``save_own_variables`` is handed a plain dict, which it fills with the very variables
it would write (optimizers hand over copies of their ``variables``, in order), so the keys match
what ``model.load_weights`` reads.
"""

from __future__ import annotations

from typing import Any


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def keras_variables(root: Any) -> dict[str, Any]:
    """``{file key: live variable}`` for a Keras 3 model, layer or optimizer (needs Keras)."""
    from keras.src.saving import saving_lib
    from keras.src.saving.keras_saveable import KerasSaveable
    from keras.src.utils import naming

    out: dict[str, Any] = {}
    visited: set[int] = set()

    def state(saveable: Any, path: str) -> None:
        if id(saveable) in visited:
            return
        if hasattr(saveable, "save_own_variables"):
            store: dict[str, Any] = {}
            saveable.save_own_variables(store)
            own = list(getattr(saveable, "variables", ()))
            for name, variable in store.items():
                if not hasattr(variable, "assign") and name.isdigit() and int(name) < len(own):
                    variable = own[int(name)]  # optimizers store copies of their `variables`, in order
                out[_join(_join(path, "vars"), name)] = variable
        visited.add(id(saveable))
        for attr, child in saving_lib._walk_saveable(saveable):
            if isinstance(child, KerasSaveable):
                state(child, _join(path, attr))
            elif isinstance(child, (list, dict, tuple)):
                container(child, _join(path, attr), set())

    def container(items: Any, path: str, seen: set[int]) -> None:
        if id(items) in seen:
            return
        seen.add(id(items))
        used: dict[str, int] = {}
        for item in items.values() if isinstance(items, dict) else items:
            if isinstance(item, KerasSaveable):
                state(
                    item,
                    _join(path, saving_lib._get_unique_name(naming.to_snake_case(type(item).__name__), used)),
                )
            elif isinstance(item, (list, dict, tuple)):
                container(item, _join(path, saving_lib._get_unique_name("container", used)), seen)

    state(root, "")
    return out
