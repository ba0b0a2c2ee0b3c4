"""Damaged checkpoints: whatever happens to the bytes, the reader raises DataLossError,
NotFoundError, ValueError or InvalidArgumentError (never another exception, never wrong values
silently)."""
import os
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featherflow as tf
from featherflow._src.train.bundle import BundleReader, BundleWriter, data_path, index_path

ALLOWED = (tf.errors.DataLossError, tf.errors.NotFoundError, ValueError,
           tf.errors.InvalidArgumentError)
VALUES = {
    "a": np.arange(6, dtype=np.float32).reshape(2, 3),
    "b/strings": np.array([b"x", b"", b"yz" * 70], dtype=object),
    "c": np.int64(-3),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    prefix = str(tmp_path_factory.mktemp("good") / "ck")
    with BundleWriter(prefix) as w:
        for k, v in VALUES.items():
            w.add(k, v)
    with open(index_path(prefix), "rb") as f:
        index = f.read()
    with open(data_path(prefix), "rb") as f:
        data = f.read()
    return index, data


def _check(tmp, index: bytes, data: bytes):
    prefix = os.path.join(tmp, "ck")
    with open(index_path(prefix), "wb") as f:
        f.write(index)
    with open(data_path(prefix), "wb") as f:
        f.write(data)
    try:
        reader = BundleReader(prefix)
        for key in reader.keys():
            value = reader.read(key)
            # Anything read without an error must be exactly what was saved.
            want = VALUES[key]
            assert value.shape == np.shape(want)
            assert value.reshape(-1).tolist() == np.asarray(want).reshape(-1).tolist()
    except ALLOWED:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["index", "data"]), edits=st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=3),
    cut=st.one_of(st.none(), st.integers(0, 10_000)))
def test_mutations(tmp_path, good, which, edits, cut):
    index, data = good
    blob = bytearray(index if which == "index" else data)
    for pos, flip in edits:
        blob[pos % len(blob)] ^= flip
    if cut is not None:
        del blob[cut % (len(blob) + 1):]
    if which == "index":
        _check(tmp_path, bytes(blob), data)
    else:
        _check(tmp_path, index, bytes(blob))


# Regression cases: one per kind of damage, each with the error it must give.
def _case(good, which, mutate):
    index, data = good
    blob = bytearray(index if which == "index" else data)
    mutate(blob)
    return (bytes(blob), data) if which == "index" else (index, bytes(blob))


def _flip(pos):
    def f(b):
        b[pos] ^= 0x01
    return f


def _index_handle_pos(blob, skip=2):
    pos = len(blob) - 48
    for _ in range(skip):  # skip the metaindex handle's two varints (and more)
        while blob[pos] & 0x80:
            pos += 1
        pos += 1
    return pos


REGRESSIONS = [
    ("index", _flip(-1), "bad table magic"),                       # magic number
    ("index", lambda b: b.__delitem__(slice(-1, None)), "magic"),  # truncated footer
    ("index", lambda b: b.__delitem__(slice(0, None)), "too short"),  # empty index
    ("index", _flip(3), "checksum mismatch in data block"),         # inside a data block
    ("index", _flip(-48), None),                                   # metaindex handle: unused
    ("index", lambda b: _flip(_index_handle_pos(b))(b), "index block"),  # index handle offset
    ("index", lambda b: _flip(_index_handle_pos(b, 3))(b), "index block"),  # its size
    ("data", _flip(0), "Checksum does not match for checkpoint entry 'a'"),
    ("data", _flip(24), "string lengths|Checksum"),                 # string length varint
    ("data", lambda b: b.__delitem__(slice(30, None)), "truncated"),
]


@pytest.mark.parametrize("which,mutate,match", REGRESSIONS)
def test_regressions(tmp_path, good, which, mutate, match):
    index, data = _case(good, which, mutate)
    prefix = str(tmp_path / "ck")
    with open(index_path(prefix), "wb") as f:
        f.write(index)
    with open(data_path(prefix), "wb") as f:
        f.write(data)
    if match is None:  # harmless damage: everything still reads back exactly
        reader = BundleReader(prefix)
        assert {k: reader.read(k).tolist() for k in reader.keys()} == {
            k: np.asarray(v).tolist() for k, v in VALUES.items()}
        return
    with pytest.raises(tf.errors.DataLossError, match=match):
        reader = BundleReader(prefix)
        for key in reader.keys():
            reader.read(key)


def test_missing_data_shard(tmp_path):
    src = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tf_checkpoints")
    for name in os.listdir(src):
        if name.startswith("two_shards"):
            shutil.copy(os.path.join(src, name), tmp_path / name)
    os.remove(tmp_path / "two_shards.data-00001-of-00002")
    reader = BundleReader(str(tmp_path / "two_shards"))
    np.testing.assert_array_equal(reader.read("a"), [1.0, 2.0])
    with pytest.raises(tf.errors.NotFoundError, match="data-00001-of-00002 not found"):
        reader.read("b")
