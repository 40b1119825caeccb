"""Plain data: the only form in which answers leave a student's kernel.

``encode`` turns a value into JSON-ready dicts and ``decode`` rebuilds it, checking
every field, so whatever a notebook prints, the grader gets back numbers, arrays,
text and containers of them, never an object with behaviour of its own. The format,
one dict per value, tagged by ``"t"``:

============  ==============================================================
``none``      ``None``; ``ellipsis``: the ``...`` placeholder; ``missing``: no such name
``bool``      ``{"v": true}``
``int``       ``{"v": "123"}`` (decimal text); ``{"big": true}`` beyond 400 digits
``float``     ``{"v": 1.5}``, or ``"nan"``, ``"inf"``, ``"-inf"``
``str``       ``{"v": "..."}``, at most ``MAX_TEXT`` characters
``array``     ``{"dtype": "float64", "shape": [2, 3], "b64": ...}``: numeric arrays as
              little-endian float64 bytes; other dtypes carry no data
``list``      ``{"items": [...]}``; also ``tuple``
``dict``      ``{"items": [["key", value], ...]}`` (text keys only)
``function``  ``{"name": "f"}``; ``object``: ``{"type": "ClassName"}``
============  ==============================================================

At most ``MAX_NODES`` values and ``MAX_ELEMENTS`` array entries per answer, nested at
most ``MAX_DEPTH`` deep. NumPy only: this module runs inside the student's kernel too.
"""

import base64
import json
import math
import numbers
import re

import numpy as np

MAX_DEPTH, MAX_NODES, MAX_ELEMENTS, MAX_TEXT = 16, 20_000, 250_000, 20_000
_MAX_INT_BITS = 1329  # about 400 decimal digits
_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")


class Unreadable(ValueError):
    """A value that cannot be written as plain data, or plain data that does not check out."""


class Missing:
    """Stands for a name the notebook never defined."""


MISSING = Missing()


class Opaque:
    """Stands for an object that is not plain data; its class carries the original type name."""

    def __repr__(self):
        return f"<{type(self).__name__} object>"


def opaque(type_name):
    return type(type_name, (Opaque,), {})()


# --- encoding (in the student's kernel) ---

def encode(value):
    """``value`` as plain data; ``Unreadable`` if it is too big or too deep."""
    return _Encoder().encode(value, 0)


class _Encoder:
    def __init__(self):
        self.nodes, self.elements = 0, 0

    def encode(self, value, depth):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise Unreadable(f"it holds more than {MAX_NODES} values or is nested more "
                             f"than {MAX_DEPTH} deep")
        if value is None:
            return {"t": "none"}
        if value is Ellipsis:
            return {"t": "ellipsis"}
        if isinstance(value, (bool, np.bool_)):
            return {"t": "bool", "v": bool(value)}
        if isinstance(value, numbers.Integral):
            value = int(value)
            if value.bit_length() > _MAX_INT_BITS:
                return {"t": "int", "big": True}
            return {"t": "int", "v": str(value)}
        if isinstance(value, numbers.Real):
            number = float(value)
            return {"t": "float", "v": number if math.isfinite(number) else repr(number)}
        if isinstance(value, str):
            return {"t": "str", "v": value[:MAX_TEXT]}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, (list, tuple)):
            return {"t": "tuple" if isinstance(value, tuple) else "list",
                    "items": [self.encode(item, depth + 1) for item in value]}
        if isinstance(value, dict):
            return {"t": "dict", "items": [[key, self.encode(item, depth + 1)]
                                           for key, item in value.items()
                                           if isinstance(key, str)]}
        kind = "function" if callable(value) and hasattr(value, "__code__") else "object"
        name = type(value).__name__ if kind == "object" else "function"
        return {"t": kind, "type" if kind == "object" else "name": str(name)[:60]}

    def array(self, value):
        shape = [int(n) for n in value.shape]
        self.elements += value.size
        if self.elements > MAX_ELEMENTS:
            raise Unreadable(f"it holds more than {MAX_ELEMENTS} array entries")
        if value.dtype.kind not in "iuf":
            return {"t": "array", "dtype": str(value.dtype)[:40], "shape": shape}
        data = np.ascontiguousarray(value, dtype="<f8").tobytes()
        return {"t": "array", "dtype": "float64", "shape": shape,
                "b64": base64.b64encode(data).decode("ascii")}


# --- decoding (in the grader) ---

def parse(text):
    """One JSON document, strictly (no NaN tokens); ``Unreadable`` if it is not one."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise Unreadable(f"it is not valid JSON ({type(error).__name__})") from None


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed")


def decode(data):
    """Rebuild a value from plain data, checking every field."""
    return _Decoder().decode(data, 0)


class _Decoder:
    def __init__(self):
        self.nodes, self.elements = 0, 0

    def decode(self, data, depth):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise Unreadable("it is too large or nested too deep")
        tag = field(data, "t", str)
        simple = {"none": None, "ellipsis": Ellipsis, "missing": MISSING}
        if tag in simple:
            return simple[tag]
        if tag == "unreadable":
            raise Unreadable(str(data.get("why", "it could not be read"))[:200])
        if tag == "bool":
            return field(data, "v", bool)
        if tag == "int":
            return math.inf if data.get("big") is True else _integer(field(data, "v", str))
        if tag == "float":
            return _float(data.get("v"))
        if tag == "str":
            return field(data, "v", str)[:MAX_TEXT]
        if tag == "array":
            return self.array(data)
        if tag in ("list", "tuple"):
            items = [self.decode(item, depth + 1) for item in field(data, "items", list)]
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            pairs = [_pair(pair) for pair in field(data, "items", list)]
            return {key: self.decode(item, depth + 1) for key, item in pairs}
        if tag in ("function", "object"):
            name = data.get("type", "object") if tag == "object" else "function"
            return opaque(name if isinstance(name, str) and _NAME.fullmatch(name) else "object")
        raise Unreadable(f"it has an unknown tag {tag[:20]!r}")

    def array(self, data):
        shape = field(data, "shape", list)
        if len(shape) > 32 or not all(isinstance(n, int) and 0 <= n <= MAX_ELEMENTS
                                      for n in shape):
            raise Unreadable("its array shape is not a list of sizes")
        size = math.prod(shape)
        self.elements += size
        if self.elements > MAX_ELEMENTS:
            raise Unreadable(f"it holds more than {MAX_ELEMENTS} array entries")
        dtype = field(data, "dtype", str)
        if dtype != "float64":
            return np.empty(shape, dtype=_safe_dtype(dtype))
        try:
            raw = base64.b64decode(field(data, "b64", str), validate=True)
        except ValueError:
            raise Unreadable("its array data is not base64") from None
        if len(raw) != 8 * size:
            raise Unreadable(f"its array data has {len(raw)} bytes for shape {tuple(shape)}")
        return np.frombuffer(raw, dtype="<f8").astype(np.float64).reshape(shape)


def field(data, key, kind):
    """``data[key]``, which must be of type ``kind``; ``Unreadable`` otherwise."""
    if not isinstance(data, dict) or not isinstance(data.get(key), kind):
        raise Unreadable(f"a value has no valid {key!r} field")
    return data[key]


def _pair(pair):
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
        raise Unreadable("a dict entry is not a [text key, value] pair")
    return pair


def _integer(text):
    if len(text) > 401 or not re.fullmatch(r"-?[0-9]+", text):
        raise Unreadable("an integer is not written in decimal digits")
    return int(text)


def _float(value):
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise Unreadable("a float is not a number")


def _safe_dtype(name):
    """A stand-in dtype of the same kind for a non-numeric array (strings, objects, complex)."""
    try:
        kind = np.dtype(name).kind
    except TypeError:
        kind = "O"
    return {"U": "<U1", "S": "S1", "b": bool, "c": complex, "M": "M8[s]", "m": "m8[s]"}.get(
        kind, object)
