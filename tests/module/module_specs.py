"""Module structures described as JSON, built identically in TensorFlow (tools/
record_module_fixtures.py) and in featherflow (tests), so walk order can be compared one-to-one.

A node is one of:
  {"module": label, "cls": ClassName, "name": module name, "attrs": [[key, node], ...],
   "ignored": [attr, ...], "props": [[key, node], ...]}
  {"var": label, "trainable": bool}     {"ref": label}     {"value": json scalar}
  {"list": [node, ...]}  {"tuple": [...]}  {"dict": [[key, node], ...]}  {"odict": [[key, node]]}
  {"namedtuple": [[field, node], ...]}  {"set": [scalar, ...]}  {"range": n}
Attributes are set in the order given, after the module exists, so a "ref" may point at an
ancestor (a cycle) or at anything built earlier (sharing).
"""
import collections

_NAMEDTUPLES = {}


def _namedtuple(fields):
    key = tuple(fields)
    if key not in _NAMEDTUPLES:
        _NAMEDTUPLES[key] = collections.namedtuple("NT_" + "_".join(fields), fields)
    return _NAMEDTUPLES[key]


def build(spec, module_base, make_var):
    """Builds `spec`; returns (root, labels) where labels maps id(obj) -> label."""
    by_label, labels = {}, {}

    def node(s):
        if "module" in s:
            # Extended, not replaced, as Keras does: a replacing set in TensorFlow still finds the
            # "ignored" variables through its checkpoint bookkeeping attributes.
            ignored = module_base._TF_MODULE_IGNORED_PROPERTIES.union(s.get("ignored", ()))
            ns = {"_TF_MODULE_IGNORED_PROPERTIES": ignored}
            for key, sub in s.get("props", ()):
                ns[key] = property(lambda self, sub=sub: node(sub))
            cls = type(s.get("cls", "Module"), (module_base,), ns)
            m = cls(name=s.get("name"))
            by_label[s["module"]] = m
            labels[id(m)] = s["module"]
            for key, sub in s.get("attrs", ()):
                setattr(m, key, node(sub))
            return m
        if "var" in s:
            v = make_var(s["var"], s.get("trainable", True))
            by_label[s["var"]] = v
            labels[id(v)] = s["var"]
            return v
        if "ref" in s:
            return by_label[s["ref"]]
        if "value" in s:
            return s["value"]
        if "list" in s:
            return [node(x) for x in s["list"]]
        if "tuple" in s:
            return tuple(node(x) for x in s["tuple"])
        if "dict" in s:
            return {k: node(x) for k, x in s["dict"]}
        if "odict" in s:
            return collections.OrderedDict((k, node(x)) for k, x in s["odict"])
        if "namedtuple" in s:
            cls = _namedtuple([f for f, _ in s["namedtuple"]])
            return cls(*[node(x) for _, x in s["namedtuple"]])
        if "set" in s:
            return set(s["set"])
        if "range" in s:
            return range(s["range"])
        raise ValueError(f"unknown spec node {s!r}")

    return node(spec), labels


def _var(label, trainable=True):
    return {"var": label, "trainable": trainable}


def _mod(label, *attrs, **kw):
    return {"module": label, "attrs": [list(a) for a in attrs], **kw}


CASES = {
    "guide": _mod("m_other", ("m", _mod("m_one", ("v0", _var("v0")),
                                       ("vs", {"list": [_var(f"vs{i}") for i in range(10)]}),
                                       cls="MyModuleOne")),
                  ("v", _var("v")), cls="MyOtherModule"),
    "tree": _mod("a", ("z", _mod("b", ("c", _mod("c", ("v", _var("cv")))), ("v", _var("bv")))),
                 ("y", _mod("d", ("e", _mod("e", ("v", _var("ev")))), ("v", _var("dv")))),
                 ("w", _var("aw"))),
    "shared_variable": _mod("root", ("x", _var("s")),
                            ("y", {"list": [{"ref": "s"}, {"dict": [["k", {"ref": "s"}]]}]}),
                            ("b", _mod("b", ("s", {"ref": "s"}), ("t", _var("t"))))),
    "cycle": _mod("x", ("y", _mod("y", ("x", {"ref": "x"}), ("v", _var("yv")))),
                  ("self", {"ref": "x"}), ("w", _var("xw"))),
    "containers": _mod("root",
                       ("nt", {"namedtuple": [["b", _var("ntb")], ["a", _var("nta")]]}),
                       ("d", {"dict": [["z", _var("dz")], ["a", {"list": [_var("da0")]}]]}),
                       ("od", {"odict": [["y", _var("ody")], ["b", _var("odb")]]}),
                       ("t", {"tuple": [_var("t0"), {"list": [_var("t1"), {"tuple": []}]}]}),
                       ("ints", {"list": [{"value": 1}, {"value": 1}, {"value": "a"},
                                          {"value": None}, {"dict": [[2, {"value": 3}],
                                                                     [1, {"value": 4}]]}]}),
                       ("s", {"set": [1, 2]}), ("r", {"range": 3}), ("n", {"value": None}),
                       ("e", {"list": []})),
    "trainable_mix": _mod("root", ("a", _var("a", True)), ("b", _var("b", False)),
                          ("c", _mod("c", ("x", _var("cx", False)), ("y", _var("cy", True))))),
    "ignored_and_properties": _mod("root", ("hidden", _var("hidden")), ("shown", _var("shown")),
                                   ignored=["hidden"], props=[["p", _var("prop")]]),
    "modules_in_containers": _mod("root",
                                  ("layers", {"list": [_mod("m1", ("w", _var("m1w"))),
                                                       _mod("m2", ("w", _var("m2w")))]}),
                                  ("heads", {"dict": [["b", _mod("m3", ("w", _var("m3w")))],
                                                      ["a", _mod("m4", ("w", _var("m4w")))]]})),
    "shared_submodule": _mod("root", ("a", _mod("m", ("w", _var("mw")))), ("b", {"ref": "m"}),
                             ("c", {"list": [{"ref": "m"}]})),
    "deep_chain": _mod("root", ("a", _mod("A", ("a2", _mod("A2", ("a3", _mod("A3", ("v", _var(
        "a3v")))))))), ("b", _mod("B", ("v", _var("bv"))))),
}

CLASS_NAMES = ["MyModuleOne", "HTTPServer", "ABCdef2X", "My_Module", "_Private", "Layer2D",
               "Conv2DTranspose", "lower", "A", "XLAModule2", "snake_case_already"]

MODULE_NAMES = ["my module", "1abc", "a/b", "_x", "a-b", "a.b", "", "A", "-a", "x1", "über"]


def _public(path):
    return not any(isinstance(k, str) and k.startswith("_") for k in path)


def describe(leaf, labels):
    if id(leaf) in labels:
        return labels[id(leaf)]
    if isinstance(leaf, (set, frozenset)):
        return "<set>"
    if leaf is None or isinstance(leaf, (int, float, str)):
        return leaf
    return f"<{type(leaf).__name__}>"


def observe(root, labels, is_variable, is_module):
    """What the fixture records about one built structure."""
    lab = lambda xs: [labels[id(x)] for x in xs]  # noqa: E731
    return {
        "variables": lab(root.variables),
        "trainable_variables": lab(root.trainable_variables),
        "non_trainable_variables": lab(root.non_trainable_variables),
        "submodules": lab(root.submodules),
        "flatten_paths": [[list(p), describe(x, labels)]
                          for p, x in root._flatten(with_path=True) if _public(p)],
        "flatten_labelled": [describe(x, labels) for x in root._flatten() if id(x) in labels],
        "flatten_nonrecursive": lab(root._flatten(
            recursive=False, predicate=lambda x: is_variable(x) or is_module(x))),
        "variables_reverse_key": lab(root._flatten(
            predicate=is_variable, attribute_traversal_key=lambda k: [-ord(c) for c in k])),
    }
