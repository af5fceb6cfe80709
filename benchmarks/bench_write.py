"""Write speed: ckptviz.write_checkpoint vs TensorFlow's SaveV2, same tensors, same bytes.

Run: python benchmarks/bench_write.py [MiB]   (TensorFlow optional; without it only ckptviz is timed)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ckptviz.format.writer import write_checkpoint


def main(mib: int = 512) -> None:
    n = 64
    tensors = {
        f"layer_{i:03d}/kernel": np.random.default_rng(i).random((mib << 20) // 4 // n, np.float32)
        for i in range(n)
    }
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        ours = write_checkpoint(Path(d) / "ours", tensors, progress=False)
        t_ours = time.perf_counter() - t0
        print(f"ckptviz    {mib} MiB in {t_ours:.2f} s = {mib / t_ours:.0f} MiB/s")
        try:
            import tensorflow as tf
        except ImportError:
            return
        names = list(tensors)
        values = [tf.constant(tensors[k]) for k in names]
        t0 = time.perf_counter()
        tf.raw_ops.SaveV2(
            prefix=str(Path(d) / "tf"), tensor_names=names, shape_and_slices=[""] * n, tensors=values
        )
        t_tf = time.perf_counter() - t0
        print(f"TensorFlow {mib} MiB in {t_tf:.2f} s = {mib / t_tf:.0f} MiB/s")
        same = all(
            (Path(ours + s).read_bytes() == (Path(d) / f"tf{s}").read_bytes())
            for s in (".index", ".data-00000-of-00001")
        )
        print("byte-identical:", same)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 512)
