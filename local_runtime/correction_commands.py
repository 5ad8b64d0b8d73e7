"""``agentic-memory rename | memory edit | memory delete | remove-call | export | corrections``.

Operators' changes to one caller (``caller_changes``) and the export of everything kept about them
(``caller_export``). A change that cannot be undone lists what it would do and waits for ``--yes``.
"""

import argparse
import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from agentic_memory.corrections import read_corrections
from agentic_memory.identity import caller_key
from agentic_memory.memory_building import MEMORY_MAX_CHARS, printable
from agentic_memory.names import clean_name
from agentic_memory.scope import MemoryScope
from agentic_memory.settings import Settings
from agentic_memory.wiring import Dependencies

from . import caller_changes, caller_export, operations

COMMANDS = frozenset({"rename", "memory", "remove-call", "export", "corrections"})


def add_parsers(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    rename = commands.add_parser(
        "rename", help="correct a caller's name everywhere the agent hears it (recorded; replays keep it)"
    )
    rename.add_argument("caller")
    rename.add_argument("name")
    rename.add_argument("--agent", help="the brief with this agent (MEMORY_SCOPE=caller_and_agent)")

    memory = commands.add_parser("memory", help="edit or delete one memory of a caller (recorded)")
    memory_commands = memory.add_subparsers(dest="memory_command", required=True)
    delete = memory_commands.add_parser("delete", help="delete one memory for good (lists it first)")
    delete.add_argument("caller")
    delete.add_argument("memory_id")
    delete.add_argument("--yes", action="store_true", help="really delete (without it, only show it)")
    edit = memory_commands.add_parser("edit", help="replace one memory's text (shows it first)")
    edit.add_argument("caller")
    edit.add_argument("memory_id")
    edit.add_argument("text")
    edit.add_argument("--yes", action="store_true", help="really change it (without it, only show it)")

    remove = commands.add_parser(
        "remove-call", help="remove one call: its events, audio, memories and index entries (lists first)"
    )
    remove.add_argument("caller")
    remove.add_argument("conversation_id")
    remove.add_argument("--yes", action="store_true", help="really remove (without it, only list)")

    export = commands.add_parser(
        "export", help="everything kept about a caller as one .zip (transcripts, audio, brief, memories)"
    )
    export.add_argument("caller")
    export.add_argument("--output", "-o", help="the .zip to write (default: agentic-memory-<number>.zip)")

    corrections = commands.add_parser("corrections", help="the record of a caller's corrections")
    corrections.add_argument("caller")
    corrections.add_argument("--json", action="store_true", help="print the record as JSON")


def routed_argv(args: argparse.Namespace, argv: list[str]) -> list[str]:
    """``argv`` as the runtime must run it: an export's file named absolutely (the runtime's working
    directory is not the operator's)."""
    if args.command != "export":
        return argv
    return ["export", args.caller, "--output", str(export_path(args))]


def export_path(args: argparse.Namespace) -> Path:
    """Where ``export`` writes: ``--output``, else ``agentic-memory-<number>.zip`` here, named from the
    caller as the product files them (the same file whatever form the number was typed in). ValueError
    naming the problem when that is a folder or in a folder that does not exist."""
    if args.output and args.output.endswith(("/", os.sep)):
        # "missing/" names a folder, whether it exists or not: never a file called "missing".
        raise ValueError(f"{args.output} names a folder: give a file name, such as {args.output}export.zip")
    if args.output:
        output = Path(args.output)
    else:
        country = Settings.from_environment(dict(os.environ)).default_country_code
        output = Path(caller_export.export_filename(caller_key(args.caller, country) or args.caller))
    output = output.resolve()
    if output.is_dir():
        raise ValueError(f"{output} is a folder: give a file name, such as {output / 'export.zip'}")
    if not output.parent.is_dir():
        raise ValueError(f"the folder {output.parent} does not exist")
    return output


def run(args: argparse.Namespace, caller: str, deps: Dependencies) -> int:
    now, by = datetime.now(UTC), _operator()
    archive, memory = deps.archive, deps.memory
    if args.command in ("rename", "memory", "remove-call") and (mismatch := scope_mismatch(deps, caller)):
        print(f"agentic-memory {args.command}: {mismatch}")
        return 2
    if args.command == "rename":
        return _rename(args, caller, deps, by, now)
    if args.command == "memory":
        return _memory(args, caller, deps, by, now)
    if args.command == "remove-call":
        return _remove_call(args, caller, deps, by, now)
    if args.command == "export":
        kept = operations.footprint(caller, archive, memory)
        if not kept.object_keys and not kept.memories:
            print(f"agentic-memory export: nothing is kept about {caller}; no file written")
            return 1
        try:
            output = export_path(args)
        except ValueError as error:
            print(f"agentic-memory export: {error}")
            return 2
        export = caller_export.export_caller(archive, memory, caller, now)
        output.write_bytes(export.body)
        print(
            f"wrote {output}: {export.calls} call(s), {export.audio_files} audio file(s), "
            f"{export.memories} memories, the brief and the corrections"
        )
        return 0
    record = read_corrections(archive, caller)
    if args.json:
        print(record.model_dump_json(indent=2))
        return 0
    print(f"caller {caller}: {len(record.entries)} correction(s)")
    for entry in record.entries:
        print(f"- {entry.at:%Y-%m-%d %H:%M:%S} UTC by {entry.by}: {_described(entry.model_dump())}")
    return 0


def _rename(args: argparse.Namespace, caller: str, deps: Dependencies, by: str, now: datetime) -> int:
    # The same rule as a name said in a call (names.clean_name): one to four words of letters, at most
    # 60 characters; anything else (markup, a paragraph) is refused, not spoken to callers.
    name = clean_name(args.name)
    if name is None:
        print("agentic-memory rename: not a name (one to four words of letters, at most 60 characters)")
        return 2
    done = caller_changes.correct_name(
        deps.archive, deps.memory, caller, name, by, now, args.agent, policy_of(deps)
    )
    if done is None:
        print(f"caller {caller}: no brief, nothing renamed")
        return 1
    former = f" (was {done.former})" if done.former else ""
    print(
        f"caller {caller}: now {done.name}{former}; {done.memories_updated} memories updated; brief rebuilt"
    )
    return 0


def scope_mismatch(deps: Dependencies, caller: str) -> str | None:
    """Why a change must not run with this process's ``MEMORY_SCOPE``: the caller's briefs were made
    under the other scope (the runtime's setting, say, while this shell has none), so the change would
    write briefs the runtime does not read. None when they agree, or the caller has no brief."""
    owners = operations.brief_agents(deps.archive, caller)
    per_agent, own = any(owners), None in owners
    scope = deps.settings.memory_scope
    if scope is MemoryScope.CALLER and per_agent and not own:
        kept, other = "with each agent", MemoryScope.CALLER_AND_AGENT
    elif scope is MemoryScope.CALLER_AND_AGENT and own and not per_agent:
        kept, other = "as one brief for all agents", MemoryScope.CALLER
    else:
        return None
    return (
        f"{caller}'s brief is kept {kept} (MEMORY_SCOPE={other.value}) but this command runs with "
        f"MEMORY_SCOPE={scope.value}: nothing changed. Run it with the setting the runtime uses "
        f"(MEMORY_SCOPE={other.value}), or change the scope first with `profiles rebuild --all`."
    )


def _memory(args: argparse.Namespace, caller: str, deps: Dependencies, by: str, now: datetime) -> int:
    if args.memory_command == "edit":
        # The console's rule: a memory's text is printable, not empty, at most MEMORY_MAX_CHARS.
        args.text = printable(args.text.replace("\r\n", "\n")).strip()
        if not args.text or len(args.text) > MEMORY_MAX_CHARS:
            print(f"agentic-memory memory edit: the new text must be 1 to {MEMORY_MAX_CHARS:,} characters")
            return 2
    found = caller_changes.find_memory(deps.archive, deps.memory, caller, args.memory_id)
    if found is None:
        print(f"caller {caller}: no memory {args.memory_id}")
        return 1
    print(f"memory {found.id} ({found.metadata.get('conversation_id', '')}): {found.text}")
    if not args.yes:
        what = "deleted" if args.memory_command == "delete" else f"changed to: {args.text}"
        print(f"nothing changed: run again with --yes to have it {what}")
        return 0
    if args.memory_command == "delete":
        caller_changes.delete_memory(
            deps.archive, deps.memory, caller, args.memory_id, by, now, policy_of(deps)
        )
        print("deleted (recorded: no replay adds it back)")
    else:
        caller_changes.edit_memory(
            deps.archive, deps.memory, caller, args.memory_id, args.text, by, now, policy_of(deps)
        )
        print(f"now: {args.text} (recorded: a replay keeps the edit)")
    return 0


def _remove_call(args: argparse.Namespace, caller: str, deps: Dependencies, by: str, now: datetime) -> int:
    found = caller_changes.call_footprint(deps.archive, deps.memory, caller, args.conversation_id)
    if found is None:
        print(f"caller {caller}: no archived call {args.conversation_id}")
        return 1
    print(
        f"call {found.conversation_id}: {len(found.memories)} memories, "
        f"{len(found.object_keys)} archived objects"
    )
    for key in found.object_keys:
        print(f"  {key}")
    if not args.yes:
        print("nothing removed: run again with --yes to remove all of the above")
        return 0
    removed = caller_changes.remove_call(deps.archive, deps.memory, found, by, now, policy_of(deps))
    print(
        f"removed {len(found.memories)} memories and {removed} archived objects; "
        "the brief and recall index were rebuilt without the call"
    )
    return 0


def policy_of(deps: Dependencies) -> caller_changes.Policy:
    settings = deps.settings
    return caller_changes.Policy(settings.memory_scope, settings.retention_days, settings.redact_kinds)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


def _described(entry: dict[str, object]) -> str:
    kind = entry["kind"]
    if kind == "name":
        return f"name {entry['replaces'] or '(none)'} -> {entry['name']}"
    if kind == "call_removed":
        return f"call {entry['conversation_id']} removed"
    text = json.dumps(entry["text"], ensure_ascii=False)
    what = f"memory {entry['memory_id']} ({entry['conversation_id']}) {text}"
    if kind == "memory_edited":
        return f"{what} edited to {json.dumps(entry['new_text'], ensure_ascii=False)}"
    return f"{what} deleted"
