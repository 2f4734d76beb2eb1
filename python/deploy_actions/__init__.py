"""deploy-actions: one artifact, one smoke check — locally, on stage and in production."""

import os as _os

from deploy_actions import bytecode as _bytecode

__version__ = "0.1.0"

_bytecode.install(_os.path.dirname(__file__))
