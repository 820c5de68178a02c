"""A test kit: the embedded local DynamoDB and a pytest plugin (layer 7).

The plugin is registered through the ``pytest11`` entry point; its fixtures are
documented in `dynamorm_async.testing.pytest_plugin`.
"""

from dynamorm_async.testing._server import (
    LOCAL_CREDENTIALS,
    LocalCredentials,
    local_dynamodb,
    running_local_dynamodb,
)

__all__ = ["LOCAL_CREDENTIALS", "LocalCredentials", "local_dynamodb", "running_local_dynamodb"]
