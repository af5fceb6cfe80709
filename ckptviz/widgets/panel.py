"""The tensor panel the Graph and Tensors views share: pick a key, see its values, statistics,
histogram and heatmap, and slice N-D tensors one index per leading dimension."""

from __future__ import annotations

from typing import Any

import traitlets

from . import preview
from .base import View, shown
from .source import Source


class TensorPanel(View):
    """``key`` selects the tensor; ``index`` picks the 2-D slice; ``preview`` and ``stats`` are
    what the browser draws (``stats`` is ``{}`` while it is being computed)."""

    key = traitlets.Unicode("").tag(sync=True)
    index = traitlets.List(traitlets.Int()).tag(sync=True)
    preview = traitlets.Dict().tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)

    def __init__(self, source: Any, **kwargs: Any) -> None:
        self.source = Source.of(source)
        super().__init__(**kwargs)

    @traitlets.observe("key")
    def _key_changed(self, change: Any) -> None:
        self.index = []
        self._show()

    @traitlets.observe("index")
    def _index_changed(self, change: Any) -> None:
        if self.key and self.preview.get("key") == self.key:
            self._refresh_values()

    @shown
    def _show(self) -> None:
        self.error = ""
        if not self.key:
            self.preview, self.stats = {}, {}
            return
        self.preview = preview.preview(self.source, self.key, self.index)
        key = self.key
        if preview.is_big(self.source, key):
            self.stats = {}
            self.start(
                f"statistics of {key}",
                lambda task: preview.statistics(self.source, key),
                lambda result: self._set_stats(key, result),
            )
        else:
            self._set_stats(key, preview.statistics(self.source, key))

    def _set_stats(self, key: str, result: dict[str, Any] | None) -> None:
        if key == self.key:
            self.stats = result or {"none": "no statistics for this dtype"}

    @shown
    def _refresh_values(self) -> None:
        self.preview = preview.preview(self.source, self.key, self.index)
