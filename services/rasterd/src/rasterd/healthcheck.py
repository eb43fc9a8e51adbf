"""`python -m rasterd.healthcheck [PORT]`: exit 0 when `rasterd serve` on 127.0.0.1 answers /healthz
with 200 (``ok`` or ``degraded``), 1 otherwise, saying why on stderr.

The images' HEALTHCHECK runs this module rather than an inline ``python -c '...'``: podman's Docker
API splits a CMD array's arguments at spaces, which broke the inline program (docs/containers.md).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORT = 8000
TIMEOUT_S = 4.0


def check(port: int, timeout: float = TIMEOUT_S) -> str | None:
    """None when healthy, else what is wrong."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return None if response.status == 200 else f"/healthz answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"/healthz answered {error.code}"
    except (OSError, ValueError) as error:
        return f"no answer on 127.0.0.1:{port}: {error}"


def main(argv: list[str]) -> int:
    port = int(argv[0]) if argv else int(os.environ.get("RASTERD_SERVER__PORT", DEFAULT_PORT))
    problem = check(port)
    if problem:
        print(f"rasterd unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
