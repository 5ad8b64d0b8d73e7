"""``agentic-memory replay | forget | memories``: operator tasks on local data or a stack's.

They use the adapters the environment selects: the local archive and embedded memory by default,
or ``S3_BUCKET_NAME`` and ``MEM0_API_KEY`` (or their ``*_PARAMETER`` names) for a deployed stack.
"""

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from agentic_memory import archive_keys, retention
from agentic_memory.adapters.ssm_parameters import resolve_secret_parameters
from agentic_memory.caller_profile import CallerProfile
from agentic_memory.errors import MemoryUnavailable, UnsafeIdentifier
from agentic_memory.identity import caller_key, mask
from agentic_memory.profile_store import archived_callers, read_profile
from agentic_memory.scope import AGENT_SEPARATOR
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies

from . import admin, correction_commands, dead_letter, operations
from .backends import dependencies_from
from .home import HomeInUse, HomeLock, has_local_data, home_from, in_use

# Set, they point the commands at a deployed stack's archive and memory rather than the local runtime's.
STACK_VARIABLES = ("S3_BUCKET_NAME", "MEM0_API_KEY", "MEM0_API_KEY_PARAMETER", "MEMORY_BACKEND")


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    replay = commands.add_parser("replay", help="process archived post-call events again (idempotent)")
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--caller",
        help="everything archived for this caller: transcriptions, their calls' audio and failure events, "
        "and unattributed transcriptions that are theirs (moved to them)",
    )
    chosen.add_argument("--conversation", help="the events of one conversation")
    chosen.add_argument(
        "--dead-letter", action="store_true", help="everything parked in the dead-letter queue"
    )
    chosen.add_argument(
        "--all", action="store_true", help="every archived event (optionally within --since/--until)"
    )
    replay.add_argument("--since", type=_moment, help="ISO time (UTC unless given): at or after it (--by)")
    replay.add_argument("--until", type=_moment, help="ISO time (UTC unless given): at or before it (--by)")
    replay.add_argument(
        "--by",
        choices=["call", "archived"],
        default="call",
        help="the time --since/--until compare: the call's own start (default) or when it was archived",
    )
    replay.add_argument(
        "--dead-letter-queue-url", help="the stack's DLQ (default: the local dead-letter folder)"
    )

    forget = commands.add_parser("forget", help="erase a caller's memories and archived calls (lists first)")
    forget.add_argument("caller")
    forget.add_argument(
        "--yes", action="store_true", help="really erase (without it, only list what would go)"
    )

    memories = commands.add_parser("memories", help="show a caller's brief, then list their memories")
    memories.add_argument("caller")
    memories.add_argument("--json", action="store_true", help="print the memories as JSON instead of text")

    profiles = commands.add_parser("profiles", help="caller briefs (profiles/{caller}.json)")
    profile_commands = profiles.add_subparsers(dest="profiles_command", required=True)
    rebuild = profile_commands.add_parser(
        "rebuild",
        help="rebuild briefs and recall indexes from the archived post-call transcriptions (also migrates)",
    )
    whose = rebuild.add_mutually_exclusive_group(required=True)
    whose.add_argument("--caller", help="this caller's brief")
    whose.add_argument("--all", action="store_true", help="the brief of every caller with an archived call")

    retention = commands.add_parser("retention", help="RETENTION_DAYS: what has expired")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_commands.add_parser(
        "purge", help="delete expired briefs, their memories and their archived calls"
    )
    purge.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    purge.add_argument(
        "--days",
        type=_days,
        help="the retention period (default: RETENTION_DAYS in this command's environment, which a "
        "running runtime is given too, else the runtime's own)",
    )

    correction_commands.add_parsers(commands)


def parse(argv: list[str]) -> argparse.Namespace:
    """``argv`` of one operator command (``["memories", "+15550100123"]``); SystemExit when malformed."""
    parser = argparse.ArgumentParser(prog="agentic-memory")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def run(args: argparse.Namespace, deps: Dependencies | None = None, argv: list[str] | None = None) -> int:
    """Run the command with ``deps``, else through the local runtime when one runs (it holds the
    embedded store), else on the local data while holding it (never on a store it would create),
    else with the backends the environment selects."""
    if deps is None and argv is not None and args.command in admin.ROUTED_COMMANDS and _on_local_data():
        return _run_on_local_data(args, argv)
    return _run(args, deps)


def _run(args: argparse.Namespace, deps: Dependencies | None) -> int:
    inside_runtime = deps is not None
    try:
        deps = deps or _dependencies()
        if args.command == "replay":
            return replay_events(args, deps)
        if args.command == "profiles":
            return rebuild_profiles(args, deps)
        if args.command == "retention":
            return purge_expired(args.dry_run, deps, args.days)
        caller = caller_key(args.caller, deps.settings.default_country_code)
        if caller is None:
            raise UnsafeIdentifier("the caller is empty")
        if args.command == "forget":
            return _forget(caller, args.yes, deps)
        if args.command in correction_commands.COMMANDS:
            return correction_commands.run(args, caller, deps)
        return _memories(caller, args.json, deps)
    except UnsafeIdentifier as error:
        print(f"agentic-memory {args.command}: {error.detail}", file=sys.stderr)
        return 2
    except MemoryUnavailable as error:
        print(f"agentic-memory {args.command}: memory unavailable: {error}", file=sys.stderr)
        if inside_runtime:
            print("  (the memory store of the runtime running the command: see its /health)", file=sys.stderr)
        else:
            print(
                f"  (another process has the memory store in {_home()}/memory open without holding the "
                "folder: a runtime of an earlier version, say; stop it, then run this again)",
                file=sys.stderr,
            )
        return 3


def _home() -> Path:
    return home_from(os.environ)


def _on_local_data() -> bool:
    """False when the command is pointed at a stack's bucket or Mem0 project (those allow any number of
    processes)."""
    return not any(os.environ.get(name) for name in STACK_VARIABLES)


def _run_on_local_data(args: argparse.Namespace, argv: list[str]) -> int:
    """In the runtime that holds the home, else here holding it; refused when the home holds no data
    (a wrong AGENTIC_MEMORY_HOME would otherwise get "0 memories" or "erased 0" from a new empty store)
    or when its holder does not answer."""
    home = _home()
    if not has_local_data(home) and in_use(home) is None:
        return _refuse(args, f"no local data in {home} (AGENTIC_MEMORY_HOME): {_where_data_is()}", 2)
    try:
        lock = HomeLock.acquire(home, f"agentic-memory {args.command}")
    except HomeInUse as busy:
        url = busy.holder.url
        if busy.holder.command == "serve" and url and admin.answers(url):
            try:
                routed = _with_retention_days(args, correction_commands.routed_argv(args, argv))
            except ValueError as error:
                return _refuse(args, str(error), 2)
            return admin.run_remotely(url, routed, os.environ, home)
        wait = "it does not answer; wait until it is ready, or restart it" if url else "wait for it to finish"
        return _refuse(args, f"{busy}: {wait}", 3)
    try:
        if not has_local_data(home):
            return _refuse(args, f"no local data in {home} (AGENTIC_MEMORY_HOME): {_where_data_is()}", 2)
        if args.command == "retention" and args.days is None and os.environ.get("RETENTION_DAYS", "").strip():
            args.days = _days(os.environ["RETENTION_DAYS"].strip())
        return _run(args, None)
    except ValueError as error:
        return _refuse(args, str(error), 2)
    finally:
        lock.release()


def _where_data_is() -> str:
    return (
        "nothing to work on. Run this with the AGENTIC_MEMORY_HOME the runtime was started with "
        "(its first line says 'data in …'), or start it here with `make run`"
    )


def _refuse(args: argparse.Namespace, reason: str, code: int) -> int:
    print(f"agentic-memory {args.command}: {reason}", file=sys.stderr)
    return code


def _with_retention_days(args: argparse.Namespace, argv: list[str]) -> list[str]:
    """A purge run by the runtime uses this command's RETENTION_DAYS, not the runtime's environment."""
    given = os.environ.get("RETENTION_DAYS", "").strip()
    if args.command != "retention" or args.days is not None or not given:
        return argv
    return [*argv, "--days", str(_days(given))]


def _dependencies() -> Dependencies:
    return dependencies_from(Settings.from_environment(resolve_secret_parameters(os.environ)))


def replay_events(args: argparse.Namespace, deps: Dependencies) -> int:
    settings, archive, memory = deps.settings, deps.archive, deps.memory
    if args.dead_letter and args.dead_letter_queue_url:
        return _replay_queue(args.dead_letter_queue_url, deps)
    if args.dead_letter:
        folder = settings.home / "dead-letter"
        keys = dead_letter.parked_keys(folder)
    else:
        keys = list(
            operations.event_keys(
                archive,
                args.caller and caller_key(args.caller, settings.default_country_code),
                args.conversation,
                args.since,
                args.until,
                args.by,
                settings,
            )
        )
    owner = caller_key(args.caller, settings.default_country_code) if args.caller else None
    window = f" ({args.by} time{_window(args.since, args.until)})" if args.since or args.until else ""
    print(f"replaying {len(keys)} archived event(s){window}", flush=True)
    report = operations.replay(keys, settings, archive, memory, _print_progress, deps.audio_source, owner)
    if args.dead_letter:
        for result in report.processed:
            dead_letter.release(settings.home / "dead-letter", result.key)
    print(f"done: {len(report.processed)} processed, {len(report.failed)} failed")
    return 1 if report.failed else 0


def _window(since: datetime | None, until: datetime | None) -> str:
    return (f" from {since.isoformat()}" if since else "") + (f" until {until.isoformat()}" if until else "")


def _replay_queue(queue_url: str, deps: Dependencies) -> int:
    from local_runtime.adapters.sqs_dead_letter import SqsDeadLetterQueue

    queue = SqsDeadLetterQueue(queue_url)
    processed = failed = 0
    for message in queue.messages():
        report = operations.replay(
            message.keys, deps.settings, deps.archive, deps.memory, _print_progress, deps.audio_source
        )
        processed += len(report.processed)
        failed += len(report.failed)
        if not report.failed:
            queue.delete(message)  # stays in the DLQ (visible again later) when anything failed
    print(f"done: {processed} processed, {failed} failed")
    return 1 if failed else 0


def rebuild_profiles(args: argparse.Namespace, deps: Dependencies) -> int:
    if args.all:
        callers = archived_callers(deps.archive)
    else:
        caller = caller_key(args.caller, deps.settings.default_country_code)
        if caller is None:
            raise UnsafeIdentifier("the caller is empty")
        callers = [caller]
    print(f"rebuilding the brief and recall index of {len(callers)} caller(s)", flush=True)
    report = operations.rebuild_profiles(
        callers,
        deps.archive,
        _print_caller_progress,
        deps.settings.memory_scope,
        deps.settings.retention_days,
        deps.settings.redact_kinds,
    )
    print(f"done: {len(report.rebuilt)} rebuilt, {len(report.failed)} failed")
    return 1 if report.failed else 0


def purge_expired(dry_run: bool, deps: Dependencies, days: int | None = None) -> int:
    """With ``days`` (``--days``, or the command's own RETENTION_DAYS passed on by it), else the
    RETENTION_DAYS of the process that runs the purge: a running runtime's, when it runs there."""
    source = "given to this command"
    if days is None:
        days = deps.settings.retention_days
        source = f"the setting of the process running the purge (pid {os.getpid()})"
    if days is None:
        print(
            "RETENTION_DAYS is not set: everything is kept, nothing to purge (it was not given to this "
            "command, as RETENTION_DAYS=N or --days N, nor set where the purge runs)"
        )
        return 0
    print(f"RETENTION_DAYS={days}, {source}", flush=True)
    print(f"looking for briefs whose last call is more than {days} days old", flush=True)
    report = retention.purge_expired(
        deps.archive, deps.memory, days, datetime.now(UTC), dry_run, _print_brief_progress
    )
    verb = "would delete" if dry_run else "deleted"
    print(
        f"done: {len(report.expired)} expired brief(s); {verb} {report.memories_deleted} memories and "
        f"{report.objects_deleted} archived objects; {len(report.failed)} failed"
    )
    return 1 if report.failed else 0


def _print_brief_progress(index: int, total: int, key: str, outcome: str) -> None:
    owner = archive_keys.profile_owner(key)
    who = mask(owner[0]) + (f" with {owner[1]}" if owner[1] else "") if owner else "?"
    print(f"  [{index}/{total}] {who}: {outcome}", flush=True)


def _print_caller_progress(index: int, total: int, caller: str, outcome: str) -> None:
    print(f"  [{index}/{total}] {mask(caller)}: {outcome}", flush=True)


def _forget(caller: str, confirmed: bool, deps: Dependencies) -> int:
    found = operations.footprint(caller, deps.archive, deps.memory)
    print(f"caller {caller}: {len(found.memories)} memories, {len(found.object_keys)} archived objects")
    for key in found.object_keys:
        print(f"  {key}")
    if not confirmed:
        print("nothing erased: run again with --yes to erase all of the above")
        return 0
    erased = operations.forget(found, deps.archive, deps.memory)
    print(f"erased {len(found.memories)} memories and {erased} archived objects of {caller}")
    return 0


def _memories(caller: str, as_json: bool, deps: Dependencies) -> int:
    if not as_json:
        _print_briefs(caller, deps)
    # Under MEMORY_SCOPE=caller_and_agent each agent keeps its own memories (user_id caller~agent).
    records = [
        (_agent_of(user_id), r)
        for user_id in operations.caller_user_ids(deps.archive, caller)
        for r in deps.memory.list_all(user_id)
    ]
    if as_json:
        listed = [{**r.model_dump(mode="json"), "agent_id": agent} for agent, r in records]
        print(json.dumps(listed, indent=2, ensure_ascii=False))
        return 0
    print(f"caller {caller}: {len(records)} memories")
    for agent, record in records:
        meta = record.metadata
        kind = f"[{meta.get('type', '?')}/{meta.get('role', '?')}]" + (f" with {agent}" if agent else "")
        print(
            f"- {record.id} {kind} {meta.get('conversation_id', '')} "
            f"{str(meta.get('timestamp', ''))[:19]}: {record.text}"
        )
    return 0


def _agent_of(user_id: str) -> str | None:
    _, separator, agent = user_id.partition(AGENT_SEPARATOR)
    return agent if separator else None


def _print_briefs(caller: str, deps: Dependencies) -> None:
    agents = operations.brief_agents(deps.archive, caller)
    if not agents:
        print(f"caller {caller}: no brief (a new caller to the pre-call)")
    for agent in agents:
        profile = read_profile(deps.archive, caller, agent)
        if profile is not None:
            _print_brief(caller, profile, agent)


def _print_brief(caller: str, profile: CallerProfile, agent: str | None) -> None:
    name = f"{profile.name.name} ({profile.name.source}, {profile.name.at:%Y-%m-%d})" if profile.name else "-"
    span = f"{profile.first_call_at:%Y-%m-%d %H:%M} to {profile.last_call_at:%Y-%m-%d %H:%M} UTC"
    print(f"caller {caller}: brief" + (f" with agent {agent}" if agent else ""))
    print(f"  name: {name}")
    for earlier in profile.earlier_names:
        print(f"    earlier: {earlier.name} ({earlier.source}, {earlier.at:%Y-%m-%d})")
    zone = f", timezone {profile.timezone}" if profile.timezone else ""
    print(f"  calls: {profile.call_count}, {span}{zone}")
    print(f"  agents: {', '.join(profile.agents)}")
    for note in profile.recent_calls:
        title = f" ({note.title})" if note.title else ""
        print(f"  - {note.at:%Y-%m-%d %H:%M} {note.conversation_id}{title}: {note.summary}")
    for field, found in profile.collected.items():
        print(f"  {field}: {found.value}")


def _print_progress(index: int, total: int, key: str, outcome: str) -> None:
    print(f"  [{index}/{total}] {key}: {outcome}", flush=True)


def _days(text: str) -> int:
    """A retention period in days (1 to 36500, as the setting); ValueError saying so."""
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= 36500:
        raise ValueError(f"RETENTION_DAYS={text!r} is not a number of days from 1 to 36500")
    return days


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
