"""moto's server with IAM enforcement on, run as its own process: ``python box_moto_server.py``.

moto authorises requests against IAM policies only when ``INITIAL_NO_AUTH_ACTION_COUNT`` is set in
its own process before it is imported, and counts the first requests as unauthenticated: the parent
sets it to the number of actions that bootstrap the admin user (see ``box_aws``).

One correction, so that moto can judge the parameter statements at all: moto authorises SSM
requests against the resource ``*`` (it knows resource ARNs only for S3 and SQS), so an Allow
naming exact parameter ARNs, as every role here does, would be refused where AWS grants it. Here
each parameter a request names is authorised against its own ARN, as AWS does for GetParameters.
That makes moto stricter, never more permissive: nothing is granted that the policy does not say.

Prints ``PORT <n>`` once listening on 127.0.0.1, and exits when its standard input closes (so it
never outlives the test session that started it).
"""

import os
import sys
from typing import Any


def authorise_each_parameter() -> None:
    from moto.ssm.responses import SimpleSystemManagerResponse

    authorise = SimpleSystemManagerResponse._authenticate_and_authorize_normal_action

    def per_parameter(self: Any, resource: str = "*") -> None:
        names = self._get_param("Names") or ([self._get_param("Name")] if self._get_param("Name") else [])
        if not names:
            authorise(self, resource)
            return
        for name in names:
            path = name.lstrip("/")
            authorise(self, f"arn:aws:ssm:{self.region}:{self.current_account}:parameter/{path}")

    SimpleSystemManagerResponse._authenticate_and_authorize_normal_action = per_parameter  # type: ignore[method-assign]


def main() -> int:
    if "INITIAL_NO_AUTH_ACTION_COUNT" not in os.environ:
        print("INITIAL_NO_AUTH_ACTION_COUNT must be set: without it moto enforces no IAM", file=sys.stderr)
        return 2
    from moto.server import ThreadedMotoServer

    authorise_each_parameter()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    print(f"PORT {port}", flush=True)
    sys.stdin.read()  # until the parent closes the pipe or exits
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
