"""CRC32C: RFC 3720 test vectors, the NumPy fallback against a bytewise reference and against
each fast package that is installed (crc32c, google-crc32c), which one is chosen, TF's masking."""
import sys

import numpy as np
import pytest

from featherflow._src.train import crc32c

# RFC 3720 (iSCSI), appendix B.4, plus the common check value.
ISCSI_PDU = bytes.fromhex(  # SCSI Read (10) command PDU, 48 bytes
    "01c00000" + "00000000" * 3 + "14000000" + "00000400" + "00000014" + "00000018"
    + "28000000" + "00000000" + "02000000" + "00000000")
VECTORS = [
    (b"\x00" * 32, 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
    (ISCSI_PDU, 0xD9963A56),
    (b"123456789", 0xE3069283),
    (b"", 0),
]


def _bitwise(data: bytes, crc: int = 0) -> int:
    """Independent reference: one bit at a time, straight from the polynomial."""
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("data,expected", VECTORS)
def test_vectors(data, expected):
    assert crc32c.value(data) == expected
    assert crc32c._extend_fallback(0, data) == expected
    assert _bitwise(data) == expected


@pytest.mark.parametrize("n", [1, 3, 4095, 4096, 4099, 10_000, 65_543, 300_001])
def test_fallback_matches_reference(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    expected = _bitwise(data) if n <= 10_000 else None
    got = crc32c._extend_fallback(0, data)
    if expected is not None:
        assert got == expected
    # Splitting anywhere and extending gives the same value.
    cut = n // 3
    assert crc32c._extend_fallback(crc32c._extend_fallback(0, data[:cut]), data[cut:]) == got
    assert crc32c.value(data) == got


def test_numpy_path_against_scalar_path():
    data = np.random.default_rng(5).integers(0, 256, 1 << 17, dtype=np.uint8)
    seed = 0x12345678
    scalar = crc32c._register_bytes(seed ^ 0xFFFFFFFF, data.tobytes()) ^ 0xFFFFFFFF
    assert crc32c._extend_fallback(seed, data) == scalar


def test_buffers_and_arrays():
    a = np.arange(5000, dtype=np.float32)
    expected = crc32c.value(a.tobytes())
    assert crc32c.value(a) == expected
    assert crc32c.value(memoryview(a)) == expected
    assert crc32c._extend_fallback(0, a) == expected
    with pytest.raises(ValueError, match="C-contiguous"):
        crc32c.value(a[::2])


_FAST = ("crc32c", "google-crc32c")


def _installed_fast():
    out = []
    for name in _FAST:
        try:
            _, extend, _ = crc32c._load((name,))
        except ValueError:  # not installed
            continue
        out.append(pytest.param(extend, id=name))
    return out or [pytest.param(None, marks=pytest.mark.skip("no fast crc32c package"))]


@pytest.mark.parametrize("extend", _installed_fast())
def test_fast_package_agrees_with_fallback(extend):
    rng = np.random.default_rng(0)
    for n in (0, 7, 5000, 1 << 20, (1 << 20) + 13, 3 << 20):
        data = rng.integers(0, 256, n, dtype=np.uint8)
        expected = crc32c._extend_fallback(0, data)
        assert extend(0, data) == expected
        assert extend(0, data.tobytes()) == expected
        assert extend(0, memoryview(data)) == expected
        assert extend(99, data) == crc32c._extend_fallback(99, data)
    # Typed buffers are taken as their bytes, in place; strided ones are refused.
    a = rng.standard_normal((300, 7)).astype(np.float32)
    assert extend(0, a) == extend(0, memoryview(a)) == crc32c._extend_fallback(0, a.tobytes())
    assert extend(0, a[100:]) == crc32c._extend_fallback(0, a[100:].tobytes())
    with pytest.raises(ValueError, match="C-contiguous"):
        extend(0, a[:, ::2])


def test_implementation_order(monkeypatch):
    """`crc32c` first, then `google-crc32c` (its C build), then the NumPy fallback."""
    try:
        import crc32c as pkg  # noqa: F401
        have_crc32c = True
    except ImportError:
        have_crc32c = False
    try:
        import google_crc32c as google
        have_google = google.implementation == "c"
    except ImportError:
        have_google = False
    name, extend, releases = crc32c._load()
    expected = ("crc32c" if have_crc32c else "google-crc32c" if have_google else "numpy")
    assert name == expected == crc32c.implementation()
    assert releases == (name == "crc32c") == crc32c.RELEASES_GIL
    # Hide the first choice: the next one is taken.
    monkeypatch.setitem(sys.modules, "crc32c", None)  # makes `import crc32c` fail
    name, extend, releases = crc32c._load()
    assert name == ("google-crc32c" if have_google else "numpy")
    assert not releases
    monkeypatch.setitem(sys.modules, "google_crc32c", None)
    name, extend, releases = crc32c._load()
    assert (name, extend, releases) == ("numpy", crc32c._extend_fallback, False)
    assert extend(0, b"123456789") == 0xE3069283
    with pytest.raises(ValueError, match="Received: 'zlib'"):
        crc32c._load(("zlib",))


def test_mask():
    assert crc32c.mask(0) == 0xA282EAD8  # TF's empty-tensor checksum, seen in TF's files
    for value in (0, 1, 0xFFFFFFFF, 0xE3069283, 0x80000000):
        assert crc32c.unmask(crc32c.mask(value)) == value
        assert 0 <= crc32c.mask(value) <= 0xFFFFFFFF
    assert crc32c.implementation() in ("crc32c", "google-crc32c", "numpy")
