"""Three minutes of a watcher and an agent sharing one key at a short rate limit: zero 429s, and
the agent's calls never wait because of the watcher. The scenario is `budget_soak.py`; the suite
starts it in the background when this test is collected and runs this test last, so the three
minutes overlap the rest of the suite (`tests/conftest.py`)."""

from __future__ import annotations

import json

import pytest
from tests.watch.budget_soak import SOAK_SECONDS


@pytest.mark.soak
def test_watcher_stays_in_its_share_and_never_delays_the_agent(budget_soak_result: str) -> None:
    result = json.loads(budget_soak_result)
    assert result["rate_limited"] == 0 and result["client_rate_limited"] == 0, result
    assert result["foreground_waits"] == 0, result  # no agent call waited for a slot
    assert result["agent_calls"] >= result["agent_calls_planned"] - 1, result
    assert result["seconds"] >= SOAK_SECONDS, result
    # The watcher worked within its share all along: what finished in time was announced, in order.
    assert result["due"] >= 5 and result["missed"] == [], result
