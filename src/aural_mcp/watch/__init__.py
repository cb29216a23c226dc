"""Session events over time: a watcher that detects new sessions, status changes, analyses and
candidates by polling the API within a share of the rate limit, with its state in SQLite.

- `events`: the event kinds and their JSON form.
- `state`: the SQLite state (what was seen, the events found, cursors).
- `detector`: one pass over one interview.
- `watcher`: passes over many interviews on a schedule.
"""

from aural_mcp.watch.detector import Detector
from aural_mcp.watch.events import EVENT_TYPES, Event
from aural_mcp.watch.state import StateError, WatchState, default_state_path
from aural_mcp.watch.watcher import Watcher

__all__ = ["EVENT_TYPES", "Detector", "Event", "StateError", "WatchState", "Watcher", "default_state_path"]
