"""Pulumi's entry point (``main: infra/`` in Pulumi.yaml).

Pulumi runs this folder as a script, so ``infra/`` itself is first on ``sys.path`` and the repository
root is not: swap them, so that ``infra`` is imported as a package and its modules (``packaging``)
cannot shadow libraries of the same name.
"""

import sys
from pathlib import Path

_INFRA = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _INFRA]
sys.path.insert(0, str(_INFRA.parent))

from infra.program import main  # noqa: E402

main()
