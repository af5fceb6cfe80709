"""BundleWriter: TensorFlow's exact bytes, every dtype, shards, slices, atomic commits."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ckptviz
from ckptviz.errors import (
    CheckpointExistsError,
    ClosedCheckpointError,
    InvalidArgumentError,
    UnsupportedCheckpointError,
)
from ckptviz.format import copying, slices
from ckptviz.format.bundle import BundleReader
from ckptviz.format.dtypes import ALL
from ckptviz.format.tensor_proto import Variant
from ckptviz.format.writer import BundleWriter, write_checkpoint
from tests.conftest import DATA, bundle_fixtures

# TF 2.21: tf.raw_ops.SaveV2(prefix, ["v"], [""], [np.arange(6, dtype=np.float32).reshape(2, 3)])
TF_ONE_VARIABLE_INDEX = bytes.fromhex(
    "00000608011a02080100011376080112081202080212020803281835c0db3d17"
    "000000000100000000e7b21915000000000100000000c0f2a1b0000102770028"
    "000000000100000000aba9c0b82d083a0e000000000000000000000000000000"
    "00000000000000000000000000000000000000000057fb808b247547db"
)
TF_ONE_VARIABLE_DATA = bytes.fromhex("000000000000803f0000004000004040000080400000a040")


def test_one_variable_bundle_is_byte_identical_to_tensorflow(tmp_path: Path) -> None:
    prefix = write_checkpoint(tmp_path / "one", {"v": np.arange(6, dtype=np.float32).reshape(2, 3)})
    assert Path(prefix + ".index").read_bytes() == TF_ONE_VARIABLE_INDEX
    assert Path(prefix + ".data-00000-of-00001").read_bytes() == TF_ONE_VARIABLE_DATA
    assert TF_ONE_VARIABLE_INDEX[3:9] == bytes.fromhex("08011a020801")  # the header entry
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.data-00000-of-00001", "one.index"]


@pytest.mark.parametrize("record", bundle_fixtures(), ids=lambda f: f["name"])
def test_copies_of_tensorflow_fixtures_are_byte_identical(tmp_path: Path, record: dict) -> None:  # type: ignore[type-arg]
    ckpt = ckptviz.open(str(DATA / record["path"]))
    before = {p: p.read_bytes() for p in Path(ckpt.path).parent.iterdir() if p.is_file()}
    out = ckpt.save(str(tmp_path / "copy"))
    src_files = sorted(p for p in before if p.name.startswith(Path(ckpt.path).name + "."))
    for src in src_files:
        if src.suffix == ".meta":
            continue
        assert Path(out + src.name[len(Path(ckpt.path).name) :]).read_bytes() == before[src], src.name
    assert {p: p.read_bytes() for p in before} == before  # the source is untouched


def test_strings_and_variants_match_tensorflow_layout(tmp_path: Path) -> None:
    variant = Variant("tensorflow::Foo", b"meta", [np.array([1, 2], dtype=np.int64)])
    prefix = write_checkpoint(
        tmp_path / "s",
        {
            "abc": b"abc",
            "list": np.array([b"", b"hello", b"x" * 200], dtype=object),
            "empty": np.array([], dtype=object),
            "v": np.array([variant, variant], dtype=object),
        },
    )
    data = Path(prefix + ".data-00000-of-00001").read_bytes()
    assert data[:8] == bytes.fromhex("03633f7f28616263")  # bytes TF 2.21 writes for this tensor
    assert data[8:12] == bytes.fromhex("0005c801")
    reader = ckptviz.open(prefix)
    assert reader.entries["abc"].crc32c == 0x199AD1C3 and reader.entries["abc"].size == 8
    assert reader.entries["empty"].size == 4
    got = reader.read("v")
    assert (
        got.shape == (2,) and got[1].type_name == "tensorflow::Foo" and got[1].tensors[0].tolist() == [1, 2]
    )


def _sample(dtype: ckptviz.DType, shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype.name == "string":
        return np.array(
            [bytes(rng.integers(0, 256, int(rng.integers(0, 300)), dtype=np.uint8)) for _ in range(n)],
            dtype=object,
        ).reshape(shape)
    np_dtype = dtype.numpy
    if dtype.name == "bool" or (np_dtype.itemsize == 1 and dtype.name.endswith(("4", "2", "fn"))):
        return (
            rng.integers(0, 2, n, dtype=np.uint8).view(np_dtype).reshape(shape)
        )  # valid for every 1-byte type
    return rng.integers(0, 256, n * np_dtype.itemsize, dtype=np.uint8).view(np_dtype).reshape(shape)


WRITABLE = [d for d in ALL if d.is_fixed_width or d.name == "string"]
keys = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=st.dictionaries(
        keys,
        st.tuples(st.sampled_from(WRITABLE), st.lists(st.integers(0, 4), max_size=3), st.integers(0, 2**16)),
        min_size=1,
        max_size=8,
    ),
    max_shard=st.one_of(st.none(), st.integers(1, 200)),
)
def test_round_trip(tmp_path_factory: pytest.TempPathFactory, spec: dict, max_shard: int | None) -> None:
    tensors = {k: _sample(d, tuple(s), seed) for k, (d, s, seed) in spec.items()}
    dtypes = {k: d for k, (d, _, _) in spec.items()}
    prefix = write_checkpoint(
        tmp_path_factory.mktemp("rt") / "ck", tensors, dtypes=dtypes, max_shard_size=max_shard
    )
    ckpt = ckptviz.open(prefix)  # verifies every CRC on read
    assert list(ckpt.entries) == sorted(tensors, key=lambda k: k.encode())
    for key, want in tensors.items():
        entry, got = ckpt.entries[key], ckpt.read(key)
        assert entry.dtype == dtypes[key] and entry.shape == want.shape
        if want.dtype == object:
            assert got.tolist() == want.tolist()
        else:
            assert got.tobytes() == np.ascontiguousarray(want).tobytes()
    if max_shard is not None:
        sizes = [
            os.path.getsize(f"{prefix}.data-{i:05d}-of-{ckpt.num_shards:05d}") for i in range(ckpt.num_shards)
        ]
        assert all(
            s <= max_shard or len({e.shard for e in ckpt.entries.values() if e.shard == i}) == 1
            for i, s in enumerate(sizes)
        )


def test_sharding_by_size(tmp_path: Path) -> None:
    tensors = {f"t{i}": np.full(10, i, dtype=np.float32) for i in range(5)}  # 40 bytes each
    prefix = write_checkpoint(tmp_path / "ck", tensors, max_shard_size=100)
    ckpt = ckptviz.open(prefix)
    assert ckpt.num_shards == 3 and [e.shard for e in ckpt.entries.values()] == [0, 0, 1, 1, 2]
    assert Path(prefix + ".index").read_bytes()[3:9] == bytes.fromhex("08031a020801")


def test_add_slice_matches_tensorflow_partitioned_layout(tmp_path: Path) -> None:
    tf_written = ckptviz.open(str(DATA / "sliced_tf1" / "model.ckpt"))  # TF1 PartitionedVariable, 3 parts
    full, w = tf_written.read("emb"), tf_written.read("w")
    with BundleWriter(tmp_path / "ck") as out:
        for start in (0, 2, 4):
            out.add_slice("emb", (6, 2), slices.Slice(((start, 2), (0, 2))), full[start : start + 2])
        out.add("w", w)
    for suffix in (".index", ".data-00000-of-00001"):
        assert (tmp_path / f"ck{suffix}").read_bytes() == (
            DATA / "sliced_tf1" / f"model.ckpt{suffix}"
        ).read_bytes()
    assert ckptviz.open(str(tmp_path / "ck")).read("emb").tolist() == full.tolist()


def test_existing_checkpoint_is_not_overwritten(tmp_path: Path) -> None:
    prefix = write_checkpoint(tmp_path / "ck", {"a": np.zeros(3)})
    with pytest.raises(CheckpointExistsError, match=r"already exists .*pass overwrite=True"):
        write_checkpoint(prefix, {"a": np.ones(3)})
    assert ckptviz.open(prefix).read("a").tolist() == [0, 0, 0]
    write_checkpoint(prefix, {"a": np.ones(3)}, overwrite=True)
    assert ckptviz.open(prefix).read("a").tolist() == [1, 1, 1]


def test_overwrite_with_fewer_shards_removes_stale_data_files(tmp_path: Path) -> None:
    tensors = {f"t{i}": np.zeros(10, dtype=np.float32) for i in range(3)}
    prefix = write_checkpoint(tmp_path / "ck", tensors, max_shard_size=40)
    write_checkpoint(prefix, tensors, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.data-00000-of-00001", "ck.index"]


def test_failure_midway_leaves_destination_whole_and_no_temporaries(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    prefix = write_checkpoint(tmp_path / "ck", {"a": np.zeros(3)})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(self, num_shards):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(BundleWriter, "_index_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        write_checkpoint(prefix, {"a": np.ones(3)}, overwrite=True)
    with pytest.raises(OSError):
        write_checkpoint(tmp_path / "new", {"a": np.ones(3)})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_killed_writer_leaves_destination_absent_or_whole(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import numpy as np, sys
        from ckptviz.format.writer import BundleWriter
        with BundleWriter({str(tmp_path / "ck")!r}) as w:
            for i in range(1000):
                w.add(f"t{{i:04d}}", np.full(1 << 16, i, dtype=np.float32))
                if i == 20:
                    print("writing", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "ck.index").exists()
    with pytest.raises(ckptviz.CheckpointNotFoundError):
        ckptviz.open(str(tmp_path / "ck"))
    assert all(".tempstate" in p.name for p in tmp_path.iterdir())  # like TF, only temporaries remain


def test_bad_inputs_say_what_to_do(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "ck") as w:
        w.add("a", np.zeros(1))
        with pytest.raises(ValueError, match="duplicate key 'a'"):
            w.add("a", np.zeros(1))
        with pytest.raises(ValueError, match="slice keys"):
            w.add("\x00x", np.zeros(1))
        with pytest.raises(ValueError, match="empty key"):
            w.add("", np.zeros(1))
        with pytest.raises(UnsupportedCheckpointError, match="resource"):
            w.add("r", np.zeros(1), "resource")
    with pytest.raises(ValueError, match="missing from tensors: 'gone'"):
        from ckptviz.format.protos.ckptviz_format_pb2 import TrackableObjectGraph

        graph = TrackableObjectGraph()
        graph.nodes.add().attributes.add(name="VARIABLE_VALUE", checkpoint_key="gone")
        write_checkpoint(tmp_path / "g", {"a": np.zeros(1)}, graph)
    assert not (tmp_path / "g.index").exists()


def test_big_endian_source_is_copied_as_little_endian(tmp_path: Path) -> None:
    from tests.format.test_bundle import TENSORS, build

    build(tmp_path / "be", TENSORS, big_endian=True)
    out = ckptviz.open(str(tmp_path / "be")).save(str(tmp_path / "le"))
    copy = ckptviz.open(out)
    assert copy.reader.endian == "<"
    for key, want in TENSORS.items():
        assert copy.read(key).tolist() == want.tolist()


def test_progress_bar_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_checkpoint(tmp_path / "ck", {"a": np.zeros(1000, dtype=np.float32)}, progress=True)
    assert "writing ck" in capsys.readouterr().err


def test_progress_callback_gets_the_bytes_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[int, int]] = []
    tensors = {"a": np.zeros(1000, np.float32), "b": np.ones(500, np.float64)}
    write_checkpoint(tmp_path / "ck", tensors, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(4000, 8000), (8000, 8000)] and capsys.readouterr().err == ""  # no bar beside a callback


def test_copy_order_follows_source_offsets() -> None:
    reader = ckptviz.open(str(DATA / "guide_legacy_adam" / "ckpt-4")).reader
    order = copying.copy_order(reader, sorted(reader.entries))
    assert order[0] == "iterator/.ATTRIBUTES/ITERATOR_STATE" and order[-1] == "_CHECKPOINTABLE_OBJECT_GRAPH"


# -- atomic overwrite, failed adds, verbatim copies ---------------------------------------------

# The overwriting child announces every rename and removal and waits for "go" before doing it, so
# the parent kills it between any two filesystem operations of a commit, on any machine, at any load.
OVERWRITER = """
import os, sys, numpy as np
from ckptviz.format.writer import write_checkpoint
real = {name: getattr(os, name) for name in ("replace", "rename", "remove", "unlink")}
def announced(name):
    def op(*args, **kwargs):
        print(name, flush=True)
        sys.stdin.readline()
        return real[name](*args, **kwargs)
    return op
for name in real:
    setattr(os, name, announced(name))
prefix, i = sys.argv[1], 0
print("ready", flush=True)
while True:
    i += 1
    # One data file per tensor: several renames per commit, and a kill between any two of them.
    write_checkpoint(prefix, {f"t{j}": np.full(20000, i, np.float32) for j in range(3)}, overwrite=True, max_shard_size=80000)
"""


def test_overwrite_killed_between_any_two_file_operations_leaves_the_old_or_the_new(tmp_path: Path) -> None:
    prefix = str(tmp_path / "ck")
    write_checkpoint(prefix, {f"t{j}": np.zeros(20000, np.float32) for j in range(3)})
    seen = []
    for ops_done in range(14):  # two overwrites and more: every point of each commit
        proc = subprocess.Popen(
            [sys.executable, "-c", OVERWRITER, prefix],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=Path(__file__).parents[2],
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        for _ in range(ops_done):
            seen.append(proc.stdout.readline().strip())
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        assert proc.stdout.readline().strip() in (
            b"replace",
            b"rename",
            b"remove",
            b"unlink",
        )  # paused before it
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        with ckptviz.open(prefix) as ckpt:  # the index is always there, and always readable
            firsts = {float(ckpt.read(k)[0]) for k in ckpt}
            assert len(ckpt) == 3 and len(firsts) == 1, (ops_done, firsts)  # all old or all new, never mixed
    assert seen.count(b"replace") >= 8  # the kills landed among the renames of at least two commits
    write_checkpoint(prefix, {"a": np.ones(3)}, overwrite=True)  # sweeps the killed writes' temporaries
    assert not [p.name for p in tmp_path.iterdir() if ".tempstate" in p.name]
    assert ckptviz.open(prefix).read("a").tolist() == [1, 1, 1]


def test_a_live_writers_temporaries_are_left_alone(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "ck") as first:
        first.add("a", np.zeros(3))
        with BundleWriter(tmp_path / "ck", overwrite=True) as second:  # sweeps dead writers only
            second.add("b", np.ones(2))
        first._check_destination = lambda: None  # type: ignore[method-assign]  # it was overwritten
    assert ckptviz.open(str(tmp_path / "ck")).read("a").tolist() == [0, 0, 0]


def test_a_writer_whose_add_failed_part_way_refuses_to_finish(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"\x00" * 8
        raise ckptviz.ChecksumMismatchError("bad source", "src.data-00000-of-00001", 8)

    writer = BundleWriter(tmp_path / "ck")
    writer.add("a", np.zeros(3, np.float32))
    with pytest.raises(ckptviz.ChecksumMismatchError):
        writer.add_raw("b", "float32", (4,), broken(), 16, 0)
    with pytest.raises(ClosedCheckpointError, match=r"an earlier add failed \(ChecksumMismatchError"):
        writer.add("c", np.zeros(1))
    with pytest.raises(ClosedCheckpointError, match="not written, because an earlier add failed"):
        writer.finish()
    assert list(tmp_path.iterdir()) == []  # no checkpoint, no temporaries
    with (
        pytest.raises(ClosedCheckpointError),
        BundleWriter(tmp_path / "ck2") as w,
    ):  # the same in a with block
        w.add("a", np.zeros(3, np.float32))
        with contextlib.suppress(ckptviz.ChecksumMismatchError):
            w.add_raw("b", "float32", (4,), broken(), 16, 0)
    assert list(tmp_path.iterdir()) == []


def test_arguments_refused_before_writing_leave_the_writer_usable(tmp_path: Path) -> None:
    with BundleWriter(tmp_path / "ck") as w:
        w.add("a", np.zeros(2))
        with pytest.raises(InvalidArgumentError, match="has 16 bytes, not 3"):
            w.add_raw("b", "float32", (4,), [b"abc"], 3, 0)
    assert ckptviz.open(str(tmp_path / "ck")).keys() == ["a"]


def test_copying_a_corrupt_source_refuses_with_a_checksum_error(tmp_path: Path) -> None:
    source = BundleReader(str(DATA / "corrupt" / "tensor_flip" / "ckpt-1"))
    key = "net/l1/_kernel/.ATTRIBUTES/VARIABLE_VALUE"
    writer = BundleWriter(tmp_path / "copy")
    with pytest.raises(
        ckptviz.ChecksumMismatchError, match=r"tensor_flip/ckpt-1.data-00000-of-00001 at byte \d+"
    ):
        copying.copy_tensor(writer, source, key)
    with pytest.raises(ClosedCheckpointError):
        writer.finish()
    with pytest.raises(ckptviz.ChecksumMismatchError):
        ckptviz.open(str(DATA / "corrupt" / "tensor_flip" / "ckpt-1")).save(str(tmp_path / "saved"))
    assert list(tmp_path.iterdir()) == []
    # Strings and variants: their inner checksums are checked by decoding before the copy.
    with pytest.raises(ckptviz.ChecksumMismatchError):
        copying.copy_tensor(
            BundleWriter(tmp_path / "s"),
            BundleReader(str(DATA / "corrupt" / "string_trailing_bytes" / "ckpt-1")).__class__(
                str(_flipped_string_copy(tmp_path))
            ),
            "_CHECKPOINTABLE_OBJECT_GRAPH",
        )


def _flipped_string_copy(tmp_path: Path) -> Path:
    src = DATA / "variant"
    dest = tmp_path / "flipped"
    dest.mkdir()
    for f in src.glob("ckpt.*"):
        shutil.copy(f, dest / f.name)
    reader = BundleReader(str(dest / "ckpt"))
    entry = reader.entries["_CHECKPOINTABLE_OBJECT_GRAPH"]
    data = bytearray((dest / "ckpt.data-00000-of-00001").read_bytes())
    data[entry.offset + entry.size - 1] ^= 1  # the last byte of the graph's contents
    (dest / "ckpt.data-00000-of-00001").write_bytes(bytes(data))
    return dest / "ckpt"


def test_add_raw_copies_are_byte_identical(tmp_path: Path) -> None:
    source = BundleReader(str(DATA / "dtypes" / "all"))
    with BundleWriter(tmp_path / "copy") as w:
        for key in copying.copy_order(source, list(source.entries)):
            entry = source.entries[key]
            chunks, masked = source.raw_chunks(entry)
            w.add_raw(key, entry.dtype, entry.shape, chunks, entry.size, masked)
    for suffix in (".index", ".data-00000-of-00001"):
        assert (
            Path(str(tmp_path / "copy") + suffix).read_bytes()
            == (DATA / "dtypes" / f"all{suffix}").read_bytes()
        )


# -- concurrent writers to one prefix ----------------------------------------------------------


def _burst_tensors(writer: int) -> dict[str, np.ndarray]:
    return {f"t{j:02d}": np.full(4096, writer, np.float32) for j in range(12)}


def _assert_whole(prefix: str) -> None:
    """Readable, and every value from one writer (the last commit wins whole)."""
    with ckptviz.open(prefix) as ckpt:
        writers = {float(ckpt.read(k)[0]) for k in ckpt}
        assert len(ckpt) == 12 and len(writers) == 1, writers


def test_eight_concurrent_overwrites_always_leave_a_readable_checkpoint(tmp_path: Path) -> None:
    """Writers with different shard counts (so each commit's cleanup would remove the others'
    data files) start together at a barrier, burst after burst."""
    prefix = str(tmp_path / "ck")
    write_checkpoint(prefix, _burst_tensors(99))
    for _burst in range(12):
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def write(i: int, barrier: threading.Barrier, errors: list[BaseException]) -> None:
            try:
                barrier.wait()
                write_checkpoint(prefix, _burst_tensors(i), overwrite=True, max_shard_size=(i + 1) * 16384)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=write, args=(i, barrier, errors)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        _assert_whole(prefix)
    assert not [p.name for p in tmp_path.iterdir() if ".tempstate" in p.name]


BURST_WRITER = """
import sys, numpy as np
from ckptviz.format.writer import write_checkpoint
prefix, i, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for r in range(rounds):
    tensors = {f"t{j:02d}": np.full(4096, i, np.float32) for j in range(12)}
    write_checkpoint(prefix, tensors, overwrite=True, max_shard_size=(i + 1) * 16384)
"""


def test_eight_concurrent_writer_processes_leave_a_readable_checkpoint(tmp_path: Path) -> None:
    prefix = str(tmp_path / "ck")
    for _burst in range(2):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", BURST_WRITER, prefix, str(i), "3"], cwd=Path(__file__).parents[2]
            )
            for i in range(8)
        ]
        assert [p.wait() for p in procs] == [0] * 8
        _assert_whole(prefix)
