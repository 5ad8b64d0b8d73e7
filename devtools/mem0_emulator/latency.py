"""How long the emulated Mem0 Platform waits before answering: the latency model and its profiles.

A latency is nothing, a fixed time, or a lognormal draw fitted to a p50 and a p95. The ``published``
profile uses the only latency Mem0 publishes, search's p50 0.148 s and p95 0.200 s (Mem0 paper,
Chhikara et al., arXiv 2504.19413, Table 2; ``docs/mem0-platform.md``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

LatencyKind = Literal["zero", "fixed", "lognormal"]
_Z95 = 1.6448536269514722  # the standard normal's 95th percentile


@dataclass(frozen=True)
class Latency:
    """How long the emulator waits before answering: nothing, a fixed time, or a lognormal draw."""

    kind: LatencyKind = "zero"
    seconds: float = 0.0
    p50: float = 0.0
    p95: float = 0.0

    @classmethod
    def fixed(cls, seconds: float) -> Latency:
        return cls(kind="fixed", seconds=seconds) if seconds > 0 else cls()

    @classmethod
    def lognormal(cls, p50: float, p95: float) -> Latency:
        if not 0 < p50 <= p95:
            raise ValueError("a lognormal latency needs 0 < p50 <= p95")
        return cls(kind="lognormal", p50=p50, p95=p95)

    @classmethod
    def parse(cls, spec: Any) -> Latency:
        """``None``/``"zero"``, a number of seconds, or ``{"kind", "seconds"|"p50"+"p95"}``."""
        if isinstance(spec, Latency):
            return spec
        if spec is None or spec == "zero":
            return cls()
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return cls.fixed(float(spec))
        if isinstance(spec, Mapping):
            kind = spec.get("kind", "fixed")
            if kind == "lognormal":
                return cls.lognormal(float(spec["p50"]), float(spec["p95"]))
            if kind == "fixed":
                return cls.fixed(float(spec.get("seconds", 0)))
            if kind == "zero":
                return cls()
        raise ValueError(f"not a latency: {spec!r}")

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.seconds
        if self.kind == "lognormal":
            sigma = math.log(self.p95 / self.p50) / _Z95
            # Capped so that one unlucky draw cannot stall a load test.
            return min(rng.lognormvariate(math.log(self.p50), sigma), self.p95 * 10)
        return 0.0


PUBLISHED_SEARCH_LATENCY = Latency.lognormal(0.148, 0.200)  # Mem0 paper, Table 2 (docs/mem0-platform.md)
PROFILES: dict[str, Latency] = {
    "none": Latency(),
    # Only search latency is published; every endpoint gets it, for want of better figures.
    "published": PUBLISHED_SEARCH_LATENCY,
    "slow": Latency.fixed(2.0),
}
