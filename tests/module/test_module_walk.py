"""The attribute walker against TensorFlow's recorded walk order (tests/fixtures/module_walk.json,
written by tools/record_module_fixtures.py), using a stand-in leaf class so these tests do not
depend on tf.Variable."""
import json
import os

import pytest

import featherflow as tf
from featherflow._src.module import walk

import module_specs as specs

with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "module_walk.json")) as _f:
    FIXTURE = json.load(_f)


class Leaf:
    """A variable stand-in: registered with the walker, compared by identity."""

    def __init__(self, label, trainable=True):
        self.label = label
        self.trainable = trainable

    def __eq__(self, other):  # like tensors: == is not identity, so the walker must use id()
        raise TypeError("Leaf does not compare")

    __hash__ = None


@pytest.fixture(autouse=True)
def _leaf_registered():
    walk.register_leaf_type(Leaf)
    yield
    walk.unregister_leaf_type(Leaf)


def _observe(case):
    root, labels = specs.build(specs.CASES[case], tf.Module, Leaf)
    return specs.observe(root, labels, walk.is_variable, walk.is_module)


@pytest.mark.parametrize("case", sorted(specs.CASES))
@pytest.mark.parametrize("what", ["variables", "trainable_variables", "non_trainable_variables",
                                  "submodules", "flatten_paths", "flatten_labelled",
                                  "flatten_nonrecursive", "variables_reverse_key"])
def test_walk_matches_tensorflow(case, what):
    got = json.loads(json.dumps(_observe(case)[what]))  # tuples -> lists, as in the fixture
    assert got == FIXTURE["cases"][case][what]


def test_fixture_covers_every_case():
    assert sorted(FIXTURE["cases"]) == sorted(specs.CASES)


@pytest.mark.parametrize("cls_name", specs.CLASS_NAMES)
def test_default_name_is_snake_case_class_name(cls_name):
    assert type(cls_name, (tf.Module,), {})().name == FIXTURE["class_names"][cls_name]


@pytest.mark.parametrize("name", specs.MODULE_NAMES)
def test_name_validation(name):
    want = FIXTURE["module_names"][name]
    if "error" in want:
        with pytest.raises(ValueError) as info:
            tf.Module(name=name)
        assert str(info.value) == want["message"]
    else:
        m = tf.Module(name=name)
        assert (m.name, m.name_scope.name) == (want["name"], want["scope"])


def test_non_string_name_is_type_error():
    with pytest.raises(TypeError):
        tf.Module(name=3)


def test_collections_are_tuples_and_variables_unique():
    m = tf.Module()
    v = Leaf("v")
    m.a = v
    m.b = [v, (v,), {"k": v}]
    for attr in ("variables", "trainable_variables", "non_trainable_variables", "submodules"):
        assert type(getattr(m, attr)) is tuple
    assert len(m.variables) == 1 and m.variables[0] is v
    assert len([p for p, x in m._flatten(with_path=True) if x is v]) == 4


def test_sets_and_properties_are_not_walked():
    class P(tf.Module):
        @property
        def p(self):
            return Leaf("p")

    m = P()
    m.s = frozenset([1])
    m.t = {2}
    assert m.variables == ()


def test_unsortable_dict_keys_name_the_attribute():
    m = tf.Module()
    m.d = {1: Leaf("a"), "a": 2}
    with pytest.raises(ValueError, match="Error processing property 'd'") as info:
        m.variables
    assert isinstance(info.value.__cause__, TypeError)


def test_module_without_super_init_still_walks():
    class NoInit(tf.Module):
        def __init__(self):
            self.v = Leaf("v")

    m = NoInit()
    assert len(m.variables) == 1
    with pytest.raises(AttributeError):
        m.name


def test_ignored_properties_inherit():
    class Base(tf.Module):
        _TF_MODULE_IGNORED_PROPERTIES = frozenset(["cache"])

    class Child(Base):
        pass

    c = Child()
    c.cache = Leaf("c")
    c.kept = Leaf("k")
    assert [x.label for x in c.variables] == ["k"]


def test_deep_cycle_terminates():
    a, b, c = tf.Module(name="a"), tf.Module(name="b"), tf.Module(name="c")
    a.b, b.c, c.a = b, c, a
    c.v = Leaf("v")
    assert a.submodules == (b, c)
    assert [x.label for x in a.variables] == ["v"]
    assert len(list(a._flatten(with_path=True))) > 0


def test_register_leaf_type_validates():
    with pytest.raises(TypeError, match="Received"):
        walk.register_leaf_type("not a class")


def test_registered_leaf_is_not_entered():
    class ListLeaf(list):
        trainable = True

    walk.register_leaf_type(ListLeaf)
    try:
        m = tf.Module()
        m.x = ListLeaf([Leaf("inner")])
        assert len(m.variables) == 1 and m.variables[0] is m.x
    finally:
        walk.unregister_leaf_type(ListLeaf)
