"""tf.nest (messages recorded from TF 2.21) and tf.IndexedSlices."""
import collections

import numpy as np
import pytest

import featherflow as tf

P = collections.namedtuple("P", "x y")


def test_flatten_pack_map():
    assert tf.nest.flatten({"b": 1, "a": [2, None]}) == [2, None, 1]
    assert tf.nest.flatten(None) == [None]
    assert tf.nest.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [2, 1]
    assert tf.nest.pack_sequence_as(collections.OrderedDict([("b", 1), ("a", 2)]), [5, 6]) == \
        collections.OrderedDict([("b", 6), ("a", 5)])
    assert tf.nest.map_structure(lambda a: a * 2, P(1, [2, 3])) == P(2, [4, 6])
    assert tf.nest.map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    assert tf.nest.map_structure(lambda a, b: a, [1], (1,), check_types=False) == [1]
    assert tf.nest.is_nested([]) and not tf.nest.is_nested("ab")
    assert not tf.nest.is_nested(tf.constant(1))


def test_assert_same_structure_messages():
    with pytest.raises(ValueError) as e:
        tf.nest.assert_same_structure([1, 2], [1])
    assert str(e.value) == (
        "The two structures don't have the same nested structure.\n\nFirst structure: type=list "
        "str=[1, 2]\n\nSecond structure: type=list str=[1]\n\nMore specifically: The two "
        "structures don't have the same number of elements. First structure: type=list "
        "str=[1, 2]. Second structure: type=list str=[1]\nEntire first structure:\n[., .]\n"
        "Entire second structure:\n[.]")
    with pytest.raises(TypeError, match="don't have the same sequence type"):
        tf.nest.assert_same_structure(P(1, 2), (1, 2))
    tf.nest.assert_same_structure([1, 2], (1, 2), check_types=False)
    with pytest.raises(ValueError, match="don't have the same set of keys"):
        tf.nest.assert_same_structure({"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match='Substructure "type=list str=\\[2\\]" is a sequence'):
        tf.nest.assert_same_structure([1, [2]], [1, 2])


def test_pack_errors():
    with pytest.raises(ValueError, match="Structure had 2 atoms, but flat_sequence had 1 items"):
        tf.nest.pack_sequence_as([1, 2], [1])
    with pytest.raises(TypeError, match="Attempted to pack value"):
        tf.nest.pack_sequence_as(1, 5)
    with pytest.raises(ValueError, match="Must provide at least one structure"):
        tf.nest.map_structure(lambda a: a)
    with pytest.raises(ValueError, match="Only valid keyword arguments"):
        tf.nest.map_structure(lambda a: a, [1], foo=1)


def _slices():
    return tf.IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
                            tf.constant([0, 2, 0]), tf.constant([4, 2]))


def test_indexed_slices_attributes():
    s = _slices()
    assert s._is_indexed_slices and tf.is_tensor(s)
    assert s.dtype == tf.float32 and s.shape == (4, 2)
    assert s.device == s.values.device
    assert str(s).startswith("IndexedSlices(indices=tf.Tensor([0 2 0]")
    assert "IndexedSlices object at" in repr(s)
    assert tf.IndexedSlices(tf.constant([1.0]), tf.constant([0])).shape.rank is None


def test_indexed_slices_densify_sums_duplicates():
    s = _slices()
    want = np.zeros((4, 2), np.float32)
    np.add.at(want, [0, 2, 0], s.values.numpy())
    dense = tf.convert_to_tensor(s)
    assert dense.dtype == tf.float32
    np.testing.assert_array_equal(dense.numpy(), want)
    with pytest.raises(ValueError, match="without dense_shape"):
        tf.convert_to_tensor(tf.IndexedSlices(tf.constant([1.0]), tf.constant([0])))
    with pytest.raises(ValueError, match="Incompatible tensor conversion"):
        tf.convert_to_tensor(s, dtype=tf.int32)


def test_nest_expand_composites():
    s = _slices()
    assert tf.nest.flatten(s) == [s]
    parts = tf.nest.flatten(s, expand_composites=True)
    assert len(parts) == 3 and parts[0] is s.values
    back = tf.nest.pack_sequence_as(s, parts, expand_composites=True)
    assert isinstance(back, tf.IndexedSlices) and back.indices is s.indices
