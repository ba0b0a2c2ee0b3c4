"""tf.Module: name scopes, with_name_scope, and walks over real tf.Variables."""
import pytest

import featherflow as tf


def test_name_scope_object_and_nesting():
    m = tf.Module(name="outer_mod")
    assert m.name_scope.name == "outer_mod/"
    with tf.name_scope("top"):
        inner = tf.Module(name="inner")
    assert inner.name_scope.name == "top/inner/"
    with m.name_scope as scope:
        assert scope == "outer_mod/"
        # The module's scope is absolute: entering it from inside another scope does not nest.
        with inner.name_scope as s2:
            assert s2 == "top/inner/"


def test_name_scope_restored_after_exception():
    from featherflow._src.framework.device_scope import current_name_scope

    m = tf.Module(name="m")
    with pytest.raises(RuntimeError):
        with m.name_scope:
            raise RuntimeError("boom")
    assert current_name_scope() == ""


def test_with_name_scope_decorator():
    from featherflow._src.framework.device_scope import current_name_scope

    class M(tf.Module):
        @tf.Module.with_name_scope
        def where(self, x):
            """Doc kept."""
            return current_name_scope(), x

    m = M(name="dense")
    assert m.where(3) == ("dense/", 3)
    assert M.where.__name__ == "where" and M.where.__doc__ == "Doc kept."
    assert current_name_scope() == ""


def test_module_is_exported():
    assert tf.Module.__module__.startswith("featherflow.")
    assert tf.Module._TF_MODULE_IGNORED_PROPERTIES == frozenset(
        ["_self_unconditional_checkpoint_dependencies", "_self_unconditional_dependency_names"])


# -- with real tf.Variable (built by the variable helper) ----------------------------------------
def test_variables_created_in_name_scope_get_prefix():
    class Dense(tf.Module):
        def __init__(self, name=None):
            super().__init__(name=name)
            with self.name_scope:
                self.w = tf.Variable(1.0, name="w")

        @tf.Module.with_name_scope
        def make(self):
            return tf.Variable(2.0, name="b")

    d = Dense()
    assert d.w.name == "dense/w:0"
    assert d.make().name == "dense/b:0"


def test_trainable_split_with_real_variables():
    m = tf.Module()
    m.a = tf.Variable(1.0)
    m.b = tf.Variable(2.0, trainable=False)
    m.sub = tf.Module()
    m.sub.c = [tf.Variable(3.0)]
    assert [float(v.numpy()) for v in m.variables] == [1.0, 2.0, 3.0]
    assert [float(v.numpy()) for v in m.trainable_variables] == [1.0, 3.0]
    assert [float(v.numpy()) for v in m.non_trainable_variables] == [2.0]
    assert m.submodules == (m.sub,)


def test_same_real_variable_listed_once():
    m = tf.Module()
    v = tf.Variable(1.0)
    m.x = v
    m.y = [v, {"k": v}]
    assert len(m.variables) == 1 and m.variables[0] is v
