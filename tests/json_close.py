"""One comparison of two JSON documents: equal in shape and text, numbers within tolerances."""

from __future__ import annotations

import math


def assert_json_close(left, right, *, rel: float, abs: float, where: str = "$") -> None:
    """Fail at the first place (`where`, a JSON path) the documents differ."""
    if isinstance(left, float) or isinstance(right, float):
        assert isinstance(left, int | float) and isinstance(right, int | float), (where, left, right)
        assert math.isclose(left, right, rel_tol=rel, abs_tol=abs), (where, left, right)
    elif isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), where
        for key in left:
            assert_json_close(left[key], right[key], rel=rel, abs=abs, where=f"{where}.{key}")
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right)):
            assert_json_close(a, b, rel=rel, abs=abs, where=f"{where}[{i}]")
    else:
        assert type(left) is type(right) and left == right, (where, left, right)
