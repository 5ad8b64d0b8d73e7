"""The local runtime's admin API (local_runtime/admin.py): operator commands only from this machine, only with
the admin key, only operator commands; the answer is what the command printed and its exit code."""

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from local_runtime import admin
from local_runtime.admin import ADMIN_HEADER, COMMANDS_PATH, CommandEndpoint

KEY = "adm_dev_0123456789abcdef"


def client_from(host: str, ran: list[list[str]]) -> TestClient:
    def runner(argv: list[str]) -> int:
        ran.append(argv)
        print(f"caller {argv[1]}: 0 memories")
        return 0

    endpoint = CommandEndpoint(KEY, runner)
    app = Starlette(routes=[Route(COMMANDS_PATH, endpoint.handle, methods=["POST"])])
    return TestClient(app, client=(host, 50000))


def test_a_command_from_this_machine_with_the_key_runs_and_answers_what_it_printed():
    ran: list[list[str]] = []
    answer = client_from("127.0.0.1", ran).post(
        COMMANDS_PATH, json={"argv": ["memories", "+15550100142"]}, headers={ADMIN_HEADER: KEY}
    )
    assert answer.status_code == 200
    assert answer.json() == {"exit_code": 0, "output": "caller +15550100142: 0 memories\n", "errors": ""}
    assert ran == [["memories", "+15550100142"]]


def test_another_machine_is_refused_even_with_the_key():
    ran: list[list[str]] = []
    answer = client_from("203.0.113.7", ran).post(
        COMMANDS_PATH, json={"argv": ["forget", "+15550100142", "--yes"]}, headers={ADMIN_HEADER: KEY}
    )
    assert (answer.status_code, answer.json()["error"]) == (403, "forbidden")
    assert ran == []


def test_ipv6_loopback_counts_as_this_machine_but_a_wrong_key_does_not():
    ran: list[list[str]] = []
    answer = client_from("::1", ran).post(
        COMMANDS_PATH, json={"argv": ["memories", "+15550100142"]}, headers={ADMIN_HEADER: KEY + "x"}
    )
    assert answer.status_code == 401 and ran == []


def test_only_operator_commands_and_well_formed_requests_are_accepted():
    ran: list[list[str]] = []
    client = client_from("127.0.0.1", ran)
    for body in ({"argv": ["serve", "--host", "0.0.0.0"]}, {"argv": []}, {"argv": "memories"}, {}):
        answer = client.post(COMMANDS_PATH, json=body, headers={ADMIN_HEADER: KEY})
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_request"), body
    assert ran == []


def test_no_runtime_is_found_without_an_announcement_or_when_it_does_not_answer(tmp_path):
    assert admin.running_runtime(tmp_path) is None
    # Given a runtime.json left behind by a runtime that was killed
    admin.runtime_file(tmp_path).write_text('{"url": "http://127.0.0.1:9", "pid": 1}')
    # Then the commands open the data themselves
    assert admin.running_runtime(tmp_path) is None
