"""Generate the TensorFlow-made test fixtures of ckptviz.

Needs TensorFlow 2.21.0, tf_keras 2.21.0, Keras 3.15.1 and h5py (pip install tensorflow==2.21.0
tf_keras==2.21.0 h5py); it is run by hand,
never by the test suite (ckptviz itself is TensorFlow-free):

    python tests/data/generate.py            # from the repository root
    python tests/data/generate.py dtypes     # only some fixtures

It deletes and rewrites every fixture directory listed in FIXTURES plus corpus.json.
Each fixture is produced in its own Python subprocess, because several need global
TensorFlow state (TF1 graph mode, logical devices, Keras name counters, random seeds).

For every checkpoint it writes ``expected.json`` (what TensorFlow's own reader returns)
and, for object-based checkpoints, ``graph.json`` (the object graph as seen from the
live Python objects that were saved). Schemas: see README.md.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TF_VERSION, KERAS_VERSION, TF_KERAS_VERSION = "2.21.0", "3.15.1", "2.21.0"


# --------------------------------------------------------------------------------------
# helpers shared by the fixtures (run inside the per-fixture subprocess)
# --------------------------------------------------------------------------------------


def fresh_dir(name):
    path = os.path.join(HERE, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def write_json(path, obj, compact=False):
    with open(path, "w") as f:
        json.dump(obj, f, indent=None if compact else 1, sort_keys=False)
        f.write("\n")


def rel(path):
    return os.path.relpath(path, HERE)


def encode_value(v, tf_dtype_name):
    """Describe what reader.get_tensor() returned, losslessly."""
    if tf_dtype_name == "string":
        if isinstance(v, bytes):
            return {"strings": [b64(v)], "shape": [], "python_type": type(v).__name__}
        arr = np.asarray(v)
        return {
            "strings": [b64(s) for s in arr.reshape(-1)],
            "shape": list(arr.shape),
            "python_type": type(v).__name__,
        }
    dt = v.dtype
    # ml_dtypes types by name (float8_e5m2's str is a misleading "<f1"); quantized types come
    # back as plain int arrays, named by their str.
    numpy_dtype = dt.name if dt.type.__module__.startswith("ml_dtypes") else dt.str
    return {"numpy_dtype": numpy_dtype, "shape": list(np.shape(v)), "b64": b64(v.tobytes())}


def write_expected(prefix, out_path, ckpt_dir=None, compact=False):
    """expected.json from tf.train.load_checkpoint(prefix) (+ the directory's checkpoint state)."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    shapes = reader.get_variable_to_shape_map()
    keys = {}
    for key in sorted(dtypes, key=lambda k: k.encode("utf-8", "surrogateescape")):
        entry = {"dtype": dtypes[key].name, "shape": list(shapes[key])}
        try:
            entry["value"] = encode_value(reader.get_tensor(key), dtypes[key].name)
        except Exception as e:
            entry["value"] = {"tf_error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
        keys[key] = entry
    out_dir = os.path.dirname(out_path)
    result = {"prefix": os.path.relpath(prefix, out_dir), "keys": keys}
    ckpt_dir = ckpt_dir or os.path.dirname(prefix)
    if os.path.exists(os.path.join(ckpt_dir, "checkpoint")):
        # relative directory (cwd = tests/data) so that joined paths are relative to tests/data
        st = tf.train.get_checkpoint_state(rel(ckpt_dir))
        result["state"] = {
            "model_checkpoint_path": st.model_checkpoint_path,
            "all_model_checkpoint_paths": list(st.all_model_checkpoint_paths),
            "all_model_checkpoint_timestamps": list(st.all_model_checkpoint_timestamps),
            "last_preserved_timestamp": st.last_preserved_timestamp,
        }
        latest = tf.train.latest_checkpoint(rel(ckpt_dir))
        result["latest"] = latest
    write_json(out_path, result, compact=compact)
    return result


def _is_instance_of(obj, module, attr_path):
    """isinstance against a class of a module only if that module is already imported."""
    mod = sys.modules.get(module)
    if mod is None:
        return False
    cls = mod
    for part in attr_path.split("."):
        cls = getattr(cls, part, None)
        if cls is None:
            return False
    return isinstance(obj, cls)


def is_optimizer(obj):
    import tensorflow as tf

    return (
        isinstance(obj, tf.compat.v1.train.Optimizer)
        or _is_instance_of(obj, "keras", "optimizers.Optimizer")
        or _is_instance_of(obj, "tf_keras", "optimizers.Optimizer")
        or _is_instance_of(obj, "tf_keras", "optimizers.legacy.Optimizer")
    )


def is_variable(obj):
    import tensorflow as tf
    from tensorflow.python.distribute.sharded_variable import ShardedVariableMixin

    return isinstance(obj, (tf.Variable, ShardedVariableMixin)) or _is_instance_of(obj, "keras", "Variable")


def read_object_graph(prefix):
    import tensorflow as tf
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    proto = trackable_object_graph_pb2.TrackableObjectGraph()
    proto.ParseFromString(tf.train.load_checkpoint(prefix).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    return proto


def inferred_slots(opt, variables):
    """(variable, slot_name, slot_variable) for optimizers that record no slot_variables."""
    out = []
    for attr in ("_momentums", "momentums", "_velocities", "_velocity_hats"):
        lst = getattr(opt, attr, None)
        if not lst:
            continue
        for var in variables:
            if hasattr(opt, "_get_variable_index"):  # Keras 3
                slot = lst[opt._get_variable_index(var)]
                name = slot.name.rsplit("_", 1)[-1]  # "..._momentum" -> "momentum"
            else:  # tf_keras new optimizer
                slot = lst[opt._index_dict[opt._var_key(var)]]
                name = slot.name.split("/")[1]  # "Adam/m/dense/kernel:0" -> "m"
            out.append((var, name, slot))
    return out


def build_graph(prefix, root, extra_optimizers=()):
    """graph.json content: CheckpointView structure + kinds from the live objects."""
    import tensorflow as tf

    view = tf.train.CheckpointView(prefix)
    descendants = list(view.descendants())
    children = {str(i): dict(view.children(i)) for i in descendants}
    matched = dict(view.match(root))
    proto = read_object_graph(prefix)
    node_of = {id(obj): nid for nid, obj in matched.items()}

    slots, slot_objs = [], {}
    for nid, obj in sorted(matched.items()):
        if not is_optimizer(obj):
            continue
        recorded = proto.nodes[nid].slot_variables
        for ref in recorded:
            var = matched.get(ref.original_variable_node_id)
            live = None
            if var is not None and hasattr(obj, "get_slot"):
                live = obj.get_slot(var, ref.slot_name)
            slot_objs[ref.slot_variable_node_id] = live
            slots.append(
                [nid, ref.original_variable_node_id, ref.slot_name, ref.slot_variable_node_id, False]
            )
        if not recorded:
            trainable = [
                matched[i]
                for i in sorted(matched)
                if is_variable(matched[i])
                and any(matched[i] is v for v in getattr(obj, "_trainable_variables", []) or [])
            ]
            if not trainable and hasattr(obj, "_index_dict"):
                trainable = [
                    matched[i]
                    for i in sorted(matched)
                    if is_variable(matched[i]) and obj._var_key(matched[i]) in obj._index_dict
                ]
            for var, name, slot in inferred_slots(obj, trainable):
                if id(slot) in node_of and id(var) in node_of:
                    sid = node_of[id(slot)]
                    slot_objs[sid] = slot
                    slots.append([nid, node_of[id(var)], name, sid, True])
    slots.sort(key=lambda s: (s[0], s[3]))

    nodes = {}
    for nid in sorted(set(descendants) | set(slot_objs)):
        if nid in slot_objs:
            obj = slot_objs[nid]
            nodes[str(nid)] = {"kind": "slot", "python_type": type(obj).__name__ if obj is not None else None}
            continue
        obj = matched.get(nid)
        if obj is None:
            kind = "other"
        elif is_optimizer(obj):
            kind = "optimizer"
        elif is_variable(obj):
            kind = "variable"
        else:
            kind = "other"
        nodes[str(nid)] = {"kind": kind, "python_type": type(obj).__name__ if obj is not None else None}
    return {"descendants": descendants, "children": children, "nodes": nodes, "slots": slots}


def write_graph(prefix, root, out_path):
    graph = build_graph(prefix, root)
    write_json(out_path, graph)
    return graph


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


def guide_dataset(tf):
    inputs = tf.range(10.0)[:, None]
    labels = inputs * 5.0 + tf.range(5.0)[None, :]
    return tf.data.Dataset.from_tensor_slices(dict(x=inputs, y=labels)).repeat().batch(2)


def fixture_guide_legacy_adam():
    """The "Training checkpoints" guide example, tf_keras + legacy Adam, CheckpointManager."""
    import tensorflow as tf
    import tf_keras

    out = fresh_dir("guide_legacy_adam")
    tf_keras.utils.set_random_seed(1)

    class Net(tf_keras.Model):
        """A simple linear model."""

        def __init__(self):
            super().__init__()
            self.l1 = tf_keras.layers.Dense(5)

        def call(self, x):
            return self.l1(x)

    net = Net()
    net(tf.ones([1, 1]))
    opt = tf_keras.optimizers.legacy.Adam(0.1)
    iterator = iter(guide_dataset(tf))
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, out, max_to_keep=3)

    def train_step(example):
        with tf.GradientTape() as tape:
            output = net(example["x"])
            loss = tf.reduce_mean(tf.abs(output - example["y"]))
        variables = net.trainable_variables
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    for _ in range(4):  # 4 saves, max_to_keep=3 -> ckpt-1 is deleted
        for _ in range(2):
            train_step(next(iterator))
            ckpt.step.assign_add(1)
        manager.save()
    prefix = os.path.join(out, "ckpt-4")
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def fixture_guide_keras3():
    """Same guide example with Keras 3 (no recorded slot variables)."""
    import keras
    import tensorflow as tf

    out = fresh_dir("guide_keras3")
    keras.utils.set_random_seed(1)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.l1 = keras.layers.Dense(5)

        def call(self, x):
            return self.l1(x)

    net = Net()
    net(tf.ones([1, 1]))
    opt = keras.optimizers.Adam(0.1)
    iterator = iter(guide_dataset(tf))
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, out, max_to_keep=3)
    for _ in range(2):
        example = next(iterator)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(net(example["x"]) - example["y"]))
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
        ckpt.step.assign_add(1)
    manager.save()
    prefix = os.path.join(out, "ckpt-1")
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def fixture_tfkeras_new_adam():
    """tf_keras Sequential + non-legacy tf_keras Adam, model.save_weights() in TF format."""
    import tf_keras

    out = fresh_dir("tfkeras_new_adam")
    tf_keras.utils.set_random_seed(2)
    model = tf_keras.Sequential(
        [tf_keras.Input(shape=(3,)), tf_keras.layers.Dense(4, activation="relu"), tf_keras.layers.Dense(2)]
    )
    model.compile(optimizer=tf_keras.optimizers.Adam(0.01), loss="mse")
    x = np.arange(12, dtype="float32").reshape(4, 3) / 10
    y = np.ones((4, 2), dtype="float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    prefix = os.path.join(out, "weights")
    model.save_weights(prefix)
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, model, os.path.join(out, "graph.json"))


def dtype_tensors(tf):
    """(name, tensor) for every dtype TF 2.21 can store in a bundle."""
    import ml_dtypes

    base = np.array([[1.5, -2.25, 0.0], [3.0, -0.5, 7.0]])
    ints = np.array([[1, -2, 3], [-4, 5, 0]])
    out = [
        ("float", tf.constant(base, tf.float32)),
        ("double", tf.constant(base * np.pi, tf.float64)),
        ("half", tf.constant(base, tf.float16)),
        ("bfloat16", tf.constant(base, tf.bfloat16)),
        ("int8", tf.constant([[-128, 127, 0], [1, -1, 42]], tf.int8)),
        ("int16", tf.constant(ints * 1000, tf.int16)),
        ("int32", tf.constant(ints * 100000, tf.int32)),
        ("int64", tf.constant(ints * 10**12, tf.int64)),
        ("uint8", tf.constant([[0, 255, 1], [2, 128, 3]], tf.uint8)),
        ("uint16", tf.constant([[0, 65535, 1], [2, 300, 3]], tf.uint16)),
        ("uint32", tf.constant([[0, 4294967295, 1], [2, 70000, 3]], tf.uint32)),
        ("uint64", tf.constant(np.array([[0, 2**64 - 1, 1], [2, 2**40, 3]], np.uint64), tf.uint64)),
        ("complex64", tf.constant(base + 1j * base[::-1], tf.complex64)),
        ("complex128", tf.constant(base * np.e - 1j * base, tf.complex128)),
        ("bool", tf.constant([[True, False, True], [False, False, True]])),
        ("qint8", tf.bitcast(tf.constant([[-128, 127, 0], [1, -1, 42]], tf.int8), tf.qint8)),
        ("quint8", tf.bitcast(tf.constant([[0, 255, 1], [2, 128, 3]], tf.uint8), tf.quint8)),
        ("qint16", tf.bitcast(tf.constant(ints * 1000, tf.int16), tf.qint16)),
        ("quint16", tf.bitcast(tf.constant([[0, 65535, 1], [2, 300, 3]], tf.uint16), tf.quint16)),
        ("qint32", tf.bitcast(tf.constant(ints * 100000, tf.int32), tf.qint32)),
    ]
    for name in (
        "float8_e5m2",
        "float8_e4m3fn",
        "float8_e4m3fnuz",
        "float8_e4m3b11fnuz",
        "float8_e5m2fnuz",
        "float4_e2m1fn",
    ):
        out.append(
            (
                name,
                tf.constant(np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.5]]).astype(getattr(ml_dtypes, name))),
            )
        )
    out.append(("int4", tf.constant(np.array([[-8, 7, 0], [1, -1, 5]]).astype(ml_dtypes.int4))))
    out.append(("uint4", tf.constant(np.array([[0, 15, 1], [2, 8, 3]]).astype(ml_dtypes.uint4))))
    out.append(("int2", tf.constant(np.array([[-2, 1, 0], [1, -1, 0]]).astype(ml_dtypes.int2))))
    out.append(("uint2", tf.constant(np.array([[0, 3, 1], [2, 1, 3]]).astype(ml_dtypes.uint2))))
    # edge shapes
    out += [
        ("scalar_float", tf.constant(3.25, tf.float32)),
        ("scalar_int64", tf.constant(-7, tf.int64)),
        ("scalar_bool", tf.constant(True)),
        ("empty_float", tf.zeros([0], tf.float32)),
        ("empty_0x3_int32", tf.zeros([0, 3], tf.int32)),
        ("rank3_float", tf.reshape(tf.range(24, dtype=tf.float32), [2, 3, 4])),
        # strings
        (
            "string",
            tf.constant(
                [[b"", b"hello", b"x" * 200], [b"caf\xc3\xa9 \xe2\x9c\x93", b"\x00\xff\x01bin", b""]]
            ),
        ),
        ("string_scalar", tf.constant(b"abc")),
        ("string_scalar_empty", tf.constant(b"")),
        ("string_empty", tf.constant([], tf.string)),
        ("string_long", tf.constant([b"L" * 300, b"\x80" * 129])),
    ]
    return out


def fixture_dtypes():
    """Every dtype (and edge shapes/strings) written with the raw SaveV2 op."""
    import tensorflow as tf

    out = fresh_dir("dtypes")
    tensors = dtype_tensors(tf)
    prefix = os.path.join(out, "all")
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=[n for n, _ in tensors],
        shape_and_slices=[""] * len(tensors),
        tensors=[t for _, t in tensors],
    )
    write_expected(prefix, os.path.join(out, "expected.json"))


def fixture_variant():
    """Only a tf.data iterator (DT_VARIANT ITERATOR_STATE), two components incl. strings."""
    import tensorflow as tf

    out = fresh_dir("variant")
    ds = tf.data.Dataset.from_tensor_slices(
        {"n": tf.range(6, dtype=tf.int64), "s": tf.constant([b"a", b"bb", b"", b"dddd", b"e", b"f"])}
    ).batch(2)
    it = iter(ds)
    next(it)
    ckpt = tf.train.Checkpoint(it=it)
    prefix = ckpt.write(os.path.join(out, "ckpt"))
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def emb_initializer(full):
    """TF1 initializer returning the right rows of `full` for each partition."""

    def init(shape, dtype=None, partition_info=None):
        off = partition_info.var_offset if partition_info is not None else [0] * len(shape)
        idx = tuple(slice(o, o + n) for o, n in zip(off, shape))
        return full[idx].astype(np.float32)

    return init


def fixture_sliced_tf1():
    """TF1 PartitionedVariable saved with tf.compat.v1.train.Saver (V2 bundle with slices)."""
    import tensorflow as tf

    out = fresh_dir("sliced_tf1")
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        emb = v1.get_variable(
            "emb",
            [6, 2],
            partitioner=v1.fixed_size_partitioner(3),
            initializer=emb_initializer(np.arange(12).reshape(6, 2) / 4),
        )
        w = v1.get_variable("w", [3], initializer=v1.constant_initializer([1.0, 2.0, 3.0]))
        saver = v1.train.Saver(save_relative_paths=True)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            del emb, w
            prefix = saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False)
    write_expected(prefix, os.path.join(out, "expected.json"))


def fixture_sliced_policy():
    """TF2 Checkpoint with MaxShardSizePolicy: ordinary variables split into slices."""
    import tensorflow as tf

    out = fresh_dir("sliced_policy")
    root = tf.Module()
    root.big = tf.Variable(tf.reshape(tf.range(40, dtype=tf.float32), [10, 4]))
    root.small = tf.Variable([1.0, 2.0])
    root.ints = tf.Variable(tf.range(20, dtype=tf.int32))
    root.step = tf.Variable(7, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=root)
    opts = tf.train.CheckpointOptions(
        experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(max_shard_size=64)
    )
    prefix = ckpt.write(os.path.join(out, "ckpt"), options=opts)
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def fixture_sharded_variable():
    """A tf ShardedVariable (3 parts of a [9,2] variable) in a tf.train.Checkpoint."""
    import tensorflow as tf
    from tensorflow.python.distribute.sharded_variable import ShardedVariable

    out = fresh_dir("sharded_variable")
    full = np.arange(18, dtype="float32").reshape(9, 2)
    parts = [tf.Variable(full[i * 3 : (i + 1) * 3], name=f"sv/part_{i}") for i in range(3)]
    sv = ShardedVariable(parts, name="sv")
    ckpt = tf.train.Checkpoint(sv=sv, other=tf.Variable(1.5))
    prefix = ckpt.write(os.path.join(out, "ckpt"))
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def fixture_multi_shard():
    """num_shards > 1: TF1 Saver(sharded=True) with variables on two logical CPU devices.

    (tf.train.Checkpoint with variables on two logical CPUs of one host still writes one
    shard in TF 2.21, because MultiDeviceSaver groups by host CPU.)
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    out = fresh_dir("multi_shard")
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        with tf.device("/cpu:0"):
            v1.get_variable("a", initializer=tf.constant([1.0, 2.0, 3.0]))
            v1.get_variable("b", initializer=tf.constant(5, tf.int64))
        with tf.device("/cpu:1"):
            v1.get_variable("c", initializer=tf.constant([[4.0, 5.0], [6.0, 7.0]]))
            v1.get_variable("d", initializer=tf.constant(b"on cpu1"))
        saver = v1.train.Saver(sharded=True, save_relative_paths=True)
        with v1.Session(config=v1.ConfigProto(device_count={"CPU": 2})) as sess:
            sess.run(v1.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False)
    write_expected(prefix, os.path.join(out, "expected.json"))


def fixture_many_keys():
    """6000 float scalars with ~85-char names: the .index spans several data blocks."""
    import tensorflow as tf

    out = fresh_dir("many_keys")
    names = []
    for i in range(6000):
        h = hashlib.md5(str(i).encode()).hexdigest()
        names.append(f"{h[:12]}/block_{i % 7}/layer_{i:05d}/{h[12:]}_kernel_with_a_rather_long_name")
    values = [tf.constant(float(i) / 8, tf.float32) for i in range(len(names))]
    prefix = os.path.join(out, "many")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names), tensors=values)
    write_expected(prefix, os.path.join(out, "expected.json"), compact=True)


def fixture_tf1_saver():
    """TF1 name-based checkpoint: 2 dense layers, AdamOptimizer, global_step, saved twice."""
    import tensorflow as tf

    out = fresh_dir("tf1_saver")
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.set_random_seed(3)
        x = tf.constant(np.arange(8, dtype="float32").reshape(4, 2) / 4)
        y = tf.constant(np.ones((4, 1), dtype="float32"))
        h = x
        for scope, (n_in, n_out) in (("dense", (2, 3)), ("dense_1", (3, 1))):
            with v1.variable_scope(scope):
                kernel = v1.get_variable(
                    "kernel", [n_in, n_out], initializer=v1.glorot_uniform_initializer(seed=4)
                )
                bias = v1.get_variable("bias", [n_out], initializer=v1.zeros_initializer())
            h = tf.matmul(h, kernel) + bias
        loss = tf.reduce_mean(tf.square(h - y))
        a = v1.get_variable("a", [], initializer=v1.constant_initializer(1.0))
        b = v1.get_variable("b", [2], initializer=v1.constant_initializer(2.0))
        with v1.variable_scope("scoped"):
            c = v1.get_variable("c", [3], initializer=v1.constant_initializer(3.0))
        del a, b, c
        global_step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.01).minimize(loss, global_step=global_step)
        saver = v1.train.Saver(save_relative_paths=True)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for _ in range(2):
                sess.run(train)
                saver.save(sess, os.path.join(out, "model.ckpt"), global_step=global_step)
    write_expected(os.path.join(out, "model.ckpt-2"), os.path.join(out, "expected.json"))
    write_expected(os.path.join(out, "model.ckpt-1"), os.path.join(out, "expected_ckpt1.json"))


def fixture_v1_format():
    """TF1 Saver with write_version=V1: one legacy SavedTensorSlices file."""
    import tensorflow as tf

    out = fresh_dir("v1_format")
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        v1.get_variable(
            "emb",
            [6, 2],
            partitioner=v1.fixed_size_partitioner(3),
            initializer=emb_initializer(np.arange(12).reshape(6, 2) / 4),
        )
        v1.get_variable("w", [3], initializer=v1.constant_initializer([1.0, 2.0, 3.0]))
        v1.get_variable("count", [], dtype=tf.int64, initializer=v1.constant_initializer(9))
        saver = v1.train.Saver(write_version=v1.train.SaverDef.V1, save_relative_paths=True)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            prefix = saver.save(sess, os.path.join(out, "model.ckpt"), write_meta_graph=False)
    write_expected(prefix, os.path.join(out, "expected.json"))


def fixture_savedmodel():
    """tf.saved_model.save of a tf.Module with two variables and a tf.function."""
    import tensorflow as tf

    out = fresh_dir("savedmodel")

    class Affine(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="w")
            self.b = tf.Variable([0.5, -0.5], name="b")

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
        def __call__(self, x):
            return tf.matmul(x, self.w) + self.b

    module = Affine()
    tf.saved_model.save(module, out)
    prefix = os.path.join(out, "variables", "variables")
    write_expected(prefix, os.path.join(out, "expected.json"), ckpt_dir=out)
    write_graph(prefix, module, os.path.join(out, "graph.json"))


def h5_expected(weights_h5, prefix_name):
    import h5py

    keys = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            v = obj[()]
            v = np.asarray(v)
            dtype = obj.attrs.get("dtype")
            dtype = dtype.decode() if isinstance(dtype, bytes) else dtype
            keys[name] = {
                "dtype": str(dtype) if dtype is not None else v.dtype.name,
                "shape": list(obj.shape),
                "value": {"numpy_dtype": v.dtype.str, "shape": list(v.shape), "b64": b64(v.tobytes())},
            }

    with h5py.File(weights_h5, "r") as f:
        f.visititems(visit)
    return {"prefix": prefix_name, "keys": dict(sorted(keys.items()))}


def fixture_keras3_files():
    """Keras 3 .weights.h5 and .keras files (HDF5 / ZIP, not TensorBundles)."""
    import zipfile

    import keras

    out = fresh_dir("keras3_files")
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.Dense(2, dtype="bfloat16"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x = np.arange(8, dtype="float32").reshape(2, 4) / 8
    y = np.ones((2, 2), dtype="float32")
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    weights = os.path.join(out, "model.weights.h5")
    model.save_weights(weights)
    model.save(os.path.join(out, "model.keras"))
    expected = h5_expected(weights, "model.weights.h5")
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(os.path.join(out, "model.keras")) as z:
            z.extract("model.weights.h5", tmp)
        inner = h5_expected(os.path.join(tmp, "model.weights.h5"), "model.weights.h5")
    assert inner["keys"] == expected["keys"], "model.keras and model.weights.h5 disagree"
    write_json(os.path.join(out, "expected.json"), expected)


def fixture_object_graph_edge_cases():
    """Self-loop, shared nodes, escaped dict key, _serialize_to_tensors names, lookup table."""
    import tensorflow as tf
    from tensorflow.python.trackable import base as trackable_base

    class Pair(trackable_base.Trackable):
        """Custom trackable saving two tensors through _serialize_to_tensors."""

        def __init__(self):
            self.x = tf.Variable([1.0, 2.0])
            self.y = tf.Variable(3, dtype=tf.int64)

        def _serialize_to_tensors(self):
            return {"x/y.z": self.x.read_value(), "plain": self.y.read_value()}

        def _restore_from_tensors(self, restored_tensors):
            return tf.group(
                self.x.assign(restored_tensors["x/y.z"]), self.y.assign(restored_tensors["plain"])
            )

    out = fresh_dir("object_graph_edge_cases")
    root = tf.Module()
    root.me = root  # (a) self-loop
    shared = tf.Variable([10.0, 20.0], name="shared")
    root.first = shared  # (b) shared node: two attributes ...
    root.second = shared
    root.items = [shared, tf.Variable(4.0, name="own")]  # ... and a list element
    root.mapping = {"a.b/c": tf.Variable([7, 8], dtype=tf.int32), "plain": shared}  # (c) escaping
    root.pair = Pair()  # (d) double escaping
    table = tf.lookup.experimental.MutableHashTable(
        key_dtype=tf.string, value_dtype=tf.int64, default_value=-1
    )
    table.insert(tf.constant(["one", "two", "three"]), tf.constant([1, 2, 3], tf.int64))
    root.table = table
    ckpt = tf.train.Checkpoint(root)  # root object: the module itself
    prefix = ckpt.write(os.path.join(out, "ckpt"))
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, root, os.path.join(out, "graph.json"))


def fixture_resnet50_adam():
    """Object graph of Keras 3 ResNet50 + Adam (~950 nodes); only the graph is committed."""
    import keras
    import tensorflow as tf

    out = fresh_dir("resnet50_adam")
    keras.utils.set_random_seed(5)
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    opt = keras.optimizers.Adam(1e-3)
    x = tf.random.stateless_uniform([1, 32, 32, 3], seed=[1, 2])
    y = tf.one_hot([3], 10)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, model(x, training=True)))
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = ckpt.write(os.path.join(tmp, "ckpt"))
        reader = tf.train.load_checkpoint(prefix)
        with open(os.path.join(out, "object_graph.pb"), "wb") as f:
            f.write(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
        dtypes = reader.get_variable_to_dtype_map()
        shapes = reader.get_variable_to_shape_map()
        write_json(
            os.path.join(out, "variables.json"),
            {k: {"dtype": dtypes[k].name, "shape": list(shapes[k])} for k in sorted(dtypes)},
        )
        write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def fixture_keras3_models():
    """Keras 3 functional (with BatchNorm), Sequential and subclassed models, each after one step
    of Adam or SGD with momentum, saved as ``tf.train.Checkpoint(model=, optimizer=).write``; and
    the functional model in tf_keras (Keras 2) for contrast. Keras 3 files the model weights under
    ``optimizer/_trainable_variables/N``: the fixtures for ownership and names."""
    import keras
    import tensorflow as tf

    sys.path.insert(0, HERE)
    import keras_models as M

    out = fresh_dir("keras3_models")
    for name, build in M.BUILDERS.items():
        keras.utils.set_random_seed(11)
        model = build(keras)
        opt = M.optimizer(keras, M.OPTIMIZERS[name])
        M.train_step(tf, model, opt)
        ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
        prefix = os.path.join(out, name, "ckpt")
        ckpt.write(prefix)
        write_expected(prefix, os.path.join(out, name, "expected.json"))
        write_graph(prefix, ckpt, os.path.join(out, name, "graph.json"))


def fixture_tfkeras_functional():
    """The functional model of ``keras3_models`` in tf_keras (Keras 2) with its Adam: weights keyed
    under the model (``model/layer_with_weights-0/kernel``), slots inferred by name."""
    import tensorflow as tf
    import tf_keras

    sys.path.insert(0, HERE)
    import keras_models as M

    out = fresh_dir("tfkeras_functional")
    tf_keras.utils.set_random_seed(11)
    model = M.functional(tf_keras)
    opt = tf_keras.optimizers.Adam(0.01)
    M.train_step(tf, model, opt)
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt)
    prefix = os.path.join(out, "ckpt")
    ckpt.write(prefix)
    write_expected(prefix, os.path.join(out, "expected.json"))
    write_graph(prefix, ckpt, os.path.join(out, "graph.json"))


def fixture_training_run():
    """A training run: a Keras 3 model + Adam saved at 6 global steps by CheckpointManager.

    The ``frozen`` layer is not trainable, so a timeline shows it flat while the others move.
    ``values.json`` records what TF's reader returns for every float key of every checkpoint.
    """
    import keras
    import tensorflow as tf

    out = fresh_dir("training_run")
    keras.utils.set_random_seed(3)

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(6, activation="tanh")
            self.frozen = keras.layers.Dense(3, trainable=False)
            self.head = keras.layers.Dense(1)

        def call(self, x):
            return self.head(self.frozen(self.hidden(x)))

    model = Net()
    model(tf.zeros([1, 4]))
    opt = keras.optimizers.Adam(0.05)
    global_step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt, global_step=global_step)
    manager = tf.train.CheckpointManager(ckpt, out, max_to_keep=None)
    x = tf.random.stateless_normal([16, 4], seed=[1, 2])
    y = tf.reduce_sum(x, axis=1, keepdims=True)
    prefixes = []
    for _ in range(6):
        for _ in range(2):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x) - y))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            global_step.assign_add(1)
        prefixes.append(manager.save(checkpoint_number=global_step))
    values = {}
    for prefix in prefixes:
        reader = tf.train.load_checkpoint(prefix)
        dtypes = reader.get_variable_to_dtype_map()
        floats = [k for k in sorted(dtypes) if dtypes[k].is_floating]
        values[os.path.basename(prefix)] = {
            k: encode_value(reader.get_tensor(k), dtypes[k].name) for k in floats
        }
    write_json(os.path.join(out, "values.json"), values, compact=True)
    write_expected(prefixes[-1], os.path.join(out, "expected.json"))
    write_graph(prefixes[-1], ckpt, os.path.join(out, "graph.json"))


FIXTURES = {name[len("fixture_") :]: fn for name, fn in globals().items() if name.startswith("fixture_")}


# --------------------------------------------------------------------------------------
# corpus.json
# --------------------------------------------------------------------------------------


def corpus_entries():
    def ck(name, path, why, graph=True, expected=None):
        d = name.split(".")[0]
        e = {"name": name, "path": path, "expected": expected or f"{d}/expected.json"}
        if graph:
            e["graph"] = f"{d}/graph.json"
        e["why"] = why
        return e

    def err(name, path, error, why):
        return {"name": name, "path": path, "error": error, "why": why}

    g = "guide_legacy_adam"
    return [
        ck(
            g,
            f"{g}/ckpt-4",
            "TF guide example: tf_keras Net + legacy Adam (recorded slot_variables), "
            "step variable, tf.data iterator (variant ITERATOR_STATE), CheckpointManager",
        ),
        ck(f"{g}.index_path", f"{g}/ckpt-4.index", "path form: .index"),
        ck(f"{g}.data_path", f"{g}/ckpt-4.data-00000-of-00001", "path form: .data-00000-of-00001"),
        ck(f"{g}.directory", g, "path form: directory -> latest checkpoint from the 'checkpoint' file"),
        ck(f"{g}.directory_slash", f"{g}/", "path form: directory with trailing slash"),
        err(
            f"{g}.deleted",
            f"{g}/ckpt-1",
            "CheckpointNotFoundError",
            "ckpt-1 was deleted by CheckpointManager(max_to_keep=3)",
        ),
        ck(
            "guide_keras3",
            "guide_keras3/ckpt-1",
            "guide example with Keras 3 model/optimizer: "
            "no recorded slot_variables (inferred), state under optimizer/_variables/N, kernel key net/l1/_kernel",
        ),
        ck(
            "tfkeras_new_adam",
            "tfkeras_new_adam/weights",
            "tf_keras model.save_weights TF format with the "
            "non-legacy Adam (Adam/m/... full_names), layer_with_weights-N / layer-N alias edges",
        ),
        ck(
            "dtypes",
            "dtypes/all",
            "every dtype of TF 2.21 via raw SaveV2 (no object graph), "
            "scalars, empty shapes, strings incl. empty/long/binary",
            graph=False,
        ),
        ck("variant", "variant/ckpt", "only a tf.data iterator: DT_VARIANT entry, string+int components"),
        ck(
            "sliced_tf1",
            "sliced_tf1/model.ckpt",
            "TF1 PartitionedVariable: slice keys folded into 'emb'",
            graph=False,
        ),
        ck(
            "sliced_policy",
            "sliced_policy/ckpt",
            "MaxShardSizePolicy(64 bytes): variables split into slices over several data files",
        ),
        ck("sharded_variable", "sharded_variable/ckpt", "tf ShardedVariable with 3 parts"),
        ck(
            "multi_shard",
            "multi_shard/model.ckpt",
            "num_shards=2: TF1 Saver(sharded=True), variables on two "
            "logical CPU devices, merged by MergeV2Checkpoints",
            graph=False,
        ),
        ck("many_keys", "many_keys/many", "6000 keys: the .index has three data blocks", graph=False),
        ck(
            "tf1_saver",
            "tf1_saver/model.ckpt-2",
            "TF1 name-based Saver checkpoint (no object graph), "
            "AdamOptimizer slots dense/kernel/Adam, beta1_power, global_step, a, b, scoped/c",
            graph=False,
        ),
        ck(
            "tf1_saver.ckpt1",
            "tf1_saver/model.ckpt-1",
            "older of two Saver checkpoints",
            graph=False,
            expected="tf1_saver/expected_ckpt1.json",
        ),
        ck(
            "tf1_saver.directory",
            "tf1_saver",
            "TF1 'checkpoint' file (only fields 1-2) -> model.ckpt-2",
            graph=False,
        ),
        ck(
            "v1_format",
            "v1_format/model.ckpt",
            "legacy V1 (SavedTensorSlices) single-file checkpoint",
            graph=False,
        ),
        ck("savedmodel", "savedmodel", "SavedModel directory -> variables/variables bundle"),
        ck("savedmodel.variables_prefix", "savedmodel/variables/variables", "SavedModel variables prefix"),
        ck(
            "keras3_files",
            "keras3_files/model.weights.h5",
            "Keras 3 .weights.h5 (HDF5), incl. bfloat16 layer; expected built with h5py",
            graph=False,
        ),
        ck(
            "keras3_files.keras",
            "keras3_files/model.keras",
            "Keras 3 .keras ZIP (inner model.weights.h5)",
            graph=False,
        ),
        ck(
            "object_graph_edge_cases",
            "object_graph_edge_cases/ckpt",
            "self-loop, shared variable under two "
            "attributes + list + dict, dict key 'a.b/c', _serialize_to_tensors name 'x/y.z', MutableHashTable",
        ),
        ck(
            "training_run",
            "training_run/ckpt-12",
            "CheckpointManager(max_to_keep=None) run saved at global steps 2..12: the timeline's input",
        ),
        *(
            {
                "name": f"keras3_{m}",
                "path": f"keras3_models/{m}/ckpt",
                "expected": f"keras3_models/{m}/expected.json",
                "graph": f"keras3_models/{m}/graph.json",
                "why": f"Keras 3 {m} model + optimizer after one step: weights keyed under optimizer/_trainable_variables/N",
            }
            for m in ("functional", "sequential", "subclassed")
        ),
        ck(
            "tfkeras_functional",
            "tfkeras_functional/ckpt",
            "the same functional model in tf_keras (Keras 2): weights keyed under the model",
        ),
        err("missing.prefix", "guide_legacy_adam/ckpt-99", "CheckpointNotFoundError", "no such prefix"),
        err("missing.directory", "does_not_exist", "CheckpointNotFoundError", "no such directory"),
    ]


def write_corpus():
    entries = corpus_entries()
    for e in entries:
        full = os.path.join(HERE, e["path"])
        present = os.path.exists(full) or os.path.exists(full + ".index")
        assert present == ("error" not in e), e["path"]
    write_json(
        os.path.join(HERE, "corpus.json"),
        {"tensorflow": TF_VERSION, "keras": KERAS_VERSION, "tf_keras": TF_KERAS_VERSION, "fixtures": entries},
    )


def main(argv):
    if len(argv) == 2 and argv[1].startswith("--child="):
        os.chdir(HERE)
        FIXTURES[argv[1][len("--child=") :]]()
        return
    import tensorflow as tf

    assert tf.__version__ == TF_VERSION, tf.__version__
    names = argv[1:] or list(FIXTURES)
    for name in names:
        print(f"== {name}", flush=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), f"--child={name}"], check=True)
    write_corpus()
    print("wrote", rel(os.path.join(HERE, "corpus.json")))


if __name__ == "__main__":
    main(sys.argv)
