"""`call()` never fails with anything but the SDK's own errors, whatever the arguments look like,
and every request it does send is well-formed JSON to a path under the base URL."""

from __future__ import annotations

import json

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aural_mcp import operations
from aural_mcp.api import errors

from .helpers import BASE, client, ok, uid

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
arg_names = sorted({a.name for op in operations.OPERATIONS for a in op.args} | {"bogus"})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    op=st.sampled_from([op.name for op in operations.OPERATIONS]),
    args=st.dictionaries(st.sampled_from(arg_names), json_values | st.just("uuid"), max_size=6),
    nasty=st.sampled_from([None, "nul\x00byte", "ü" * 300, "[1,2", '{"a": 1}', set(), object()]),
)
def test_call_raises_only_sdk_errors(op, args, nasty):
    args = {k: (uid() if v == "uuid" else v) for k, v in args.items()}
    if nasty is not None and args:
        args[sorted(args)[0]] = nasty

    async def run():
        lists = op.startswith("list_") or op in ("add_questions", "add_candidates")
        c, rec = client(lambda r: ok([] if lists else {}))
        try:
            await c.call(op, args)
        except errors.AuralError:
            assert rec.count == 0  # refused before sending
            return
        req = rec.requests[-1]
        assert str(req.url).startswith(BASE + "/")
        if req.content:
            json.loads(req.content)

    anyio.run(run)
