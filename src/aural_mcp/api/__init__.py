"""`aural_mcp.api`: the typed async Python SDK of the Aural Developer API.

```python
from aural_mcp.api import AuralClient, errors, models
```

No MCP imports here: the SDK stands on its own.
"""

from . import errors
from .client import DEFAULT_BASE_URL, AuralClient, models
from .errors import (
    APIError,
    AuralError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknownError,
    PlanLimitExceededError,
    RateLimitedError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UnauthorizedError,
)
from .pacing import Pacer

__all__ = [
    "DEFAULT_BASE_URL",
    "APIError",
    "AuralClient",
    "AuralError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "OutcomeUnknownError",
    "Pacer",
    "PlanLimitExceededError",
    "RateLimitedError",
    "ResponseTooLargeError",
    "ServerError",
    "TransportError",
    "UnauthorizedError",
    "errors",
    "models",
]
