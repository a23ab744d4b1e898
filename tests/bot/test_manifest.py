"""The manifest is the code's: the scopes it asks for are those of the Web API methods the
sources call (found by reading them), and its usage hints name every word the commands take."""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Iterable
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.ids import Command
from bot.listeners.commands import WORDS, blocker, risk, sprint, standup, tests
from bot.manifest import ARGUMENTS, BOT_SCOPES, METHOD_SCOPES, bot_scopes, manifest, usage_hint
from jobs.config import SEVERITIES

ROOT = Path(__file__).parents[2]
PACKAGES = ("bot", "jobs", "storage")
# Outbox methods that are no Web API call.
NOT_SLACK = {"email.send"}  # delivered by SMTP (bot.email)
# The one place that calls `api_call` with a method held in a variable: the outbox sender,
# with the methods messages were queued with (`enqueue(method=...)`, read below).
OUTBOX_SENDER = ROOT / "bot" / "outbox.py"


@functools.cache
def _web_client_methods() -> dict[str, frozenset[str]]:
    """Each WebClient method's name → the Web API methods it calls, read from slack_sdk's
    source (`files_upload_v2` → files.getUploadURLExternal and files.completeUploadExternal)."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(WebClient)))  # type: ignore[arg-type]
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "WebClient")
    direct: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        direct[fn.name], calls[fn.name] = set(), set()
        for node in ast.walk(fn):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "api_call" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    direct[fn.name].add(str(node.args[0].value))
            elif isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
                calls[fn.name].add(node.func.attr)

    def resolve(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set(direct.get(name, ()))
        for other in calls.get(name, set()) - seen - {name}:
            found |= resolve(other, seen | {name})
        return found

    return {name: frozenset(r) for name in direct if (r := resolve(name))}


def _strings(node: ast.expr, where: str) -> set[str]:
    """The method names an `enqueue(method=...)` argument can hold."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, where) | _strings(node.orelse, where)
    raise AssertionError(f"{where}: enqueue(method=...) must name its methods literally")


def calls_in(source: str, where: str) -> set[str]:
    """The Web API methods `source` calls: `<client>.<method>(…)` of a WebClient method,
    `api_call("x.y", …)`, and messages queued for the outbox (`enqueue(method=…)`)."""
    client = _web_client_methods()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        at = f"{where}:{node.lineno}"
        if name == "api_call":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant):
                found.add(str(first.value))
            elif where != str(OUTBOX_SENDER):
                raise AssertionError(f"{at}: api_call with a method only known at run time")
        elif name == "enqueue":
            for kw in node.keywords:
                if kw.arg == "method":
                    for method in _strings(kw.value, at) - NOT_SLACK:
                        assert method.replace(".", "_") in client, f"{at}: no method {method}"
                        found |= client[method.replace(".", "_")]
        elif isinstance(func, ast.Attribute) and name in client:
            found |= client[name]
    return found


def sources() -> Iterable[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


@functools.cache
def called() -> frozenset[str]:
    """(Read when a test asks: at import, every worker paid a second to collect them.)"""
    return frozenset().union(*(calls_in(p.read_text(), str(p)) for p in sources()))


def test_every_method_the_code_calls_has_its_scopes_in_the_table() -> None:
    missing = called() - set(METHOD_SCOPES)
    assert not missing, f"add to bot.manifest.METHOD_SCOPES with the scopes each needs: {missing}"


def test_the_table_lists_no_method_that_nothing_calls() -> None:
    unused = set(METHOD_SCOPES) - called()
    assert not unused, f"nothing calls these; drop them (and their scopes): {unused}"


def test_the_manifest_asks_for_the_scopes_of_the_methods_called_and_no_other() -> None:
    asked = manifest("https://bot.example.com")["oauth_config"]["scopes"]["bot"]
    assert asked == BOT_SCOPES
    assert (
        set(asked)
        == set(bot_scopes(called()))
        == {"commands"} | {scope for method in called() for scope in METHOD_SCOPES[method]}
    )
    assert len(asked) == len(set(asked))
    # What the issue doubted, each with the call that needs it: DMs looked up by the outbox,
    # people checked by `sprintbot doctor`.
    assert {"conversations.open", "users.info", "conversations.join"} <= called()
    assert {"im:write", "users:read", "channels:join", "files:write"} <= set(asked)


def test_the_scan_finds_each_kind_of_call() -> None:
    """The scanner itself: a client method, a helper that makes two calls, an `api_call`,
    and an outbox message, each turned into the Web API methods Slack sees."""
    source = """
client.reactions_add(channel="C1", name="eyes", timestamp="1.2")
self.client.files_upload_v2(channel="C1", content=b"")
client.api_call("pins.add", json={})
queries.enqueue(session=s, key="k", method="chat.update" if u else "chat.postMessage")
queries.enqueue(session=s, key="e", method="email.send")
"""
    assert calls_in(source, "example.py") == {
        "reactions.add",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "pins.add",
        "chat.update",
        "chat.postMessage",
    }
    # A call that is not in the table is what the first test reports.
    assert "reactions.add" not in METHOD_SCOPES
    with pytest.raises(AssertionError, match="must name its methods literally"):
        calls_in("enqueue(key='k', method=kind)", "example.py")
    with pytest.raises(AssertionError, match="only known at run time"):
        calls_in("client.api_call(name)", "example.py")


def test_the_code_s_calls_include_the_outbox_s_and_the_clients() -> None:
    assert {
        "chat.postMessage",  # queued: reports, alerts
        "chat.update",
        "views.publish",  # App Home
        "files.completeUploadExternal",  # the chart, queued as files.upload_v2
        "conversations.history",  # the outbox's look-up
        "usergroups.users.list",  # roles given as user groups
        "views.open",  # modals
    } <= called()


# Each command's table of subcommands (/readiness has none: its words are all shown).
TABLES = {
    Command.STANDUP: standup.SUBCOMMANDS,
    Command.BLOCKER: blocker.SUBCOMMANDS,
    Command.RISK: risk.SUBCOMMANDS,
    Command.SPRINT: sprint.SUBCOMMANDS,
    Command.TESTS: tests.SUBCOMMANDS,
}


@pytest.mark.parametrize("command", list(Command))
def test_each_usage_hint_names_every_word_its_command_takes(command: Command) -> None:
    """Every word of the command's parser (bot.listeners.commands.WORDS) is in the hint,
    but for an alias: a word that runs what a shown word, or the bare command, runs."""
    hints = {c["command"]: c["usage_hint"] for c in manifest(None)["features"]["slash_commands"]}
    hint = hints[str(command)]
    shown = {form.split()[0] for form in hint.removeprefix("[").removesuffix("]").split(" | ")}
    table = TABLES.get(command, {})
    for word in WORDS[command] - {"help"} - {s.lower() for s in SEVERITIES}:
        alias = word in table and any(table[word] is table[w] for w in {"", *shown} & set(table))
        assert word in shown or alias, f"{command}: {word!r} missing from its hint {hint!r}"
    if command is Command.BLOCKER:  # the one-line form: any other text files a blocker
        assert hint.startswith("[" + "|".join(SEVERITIES) + " COMPONENT: WHAT | ")


def test_the_hints_show_what_the_issue_found_missing() -> None:
    assert usage_hint(Command.STANDUP) == "[skip [REASON] | away FROM TO [REASON]]"
    assert usage_hint(Command.BLOCKER) == (
        "[P0|P1|P2 COMPONENT: WHAT | list | resolve ID [NOTE] | reopen ID | link B-ID R-ID]"
    )
    assert usage_hint(Command.RISK) == "[update R-ID | list]"
    assert usage_hint(Command.READINESS) == "[show | set COMPONENT SCORE]"
    assert usage_hint(Command.SPRINT) == "[report | review | signoff [DAY] | history]"
    assert usage_hint(Command.TESTS) == (
        "[show TEST | slow | quarantine TEST [for 7d] [because WHY] | unquarantine TEST "
        "| quarantined]"
    )


def test_arguments_are_given_only_for_words_the_commands_take() -> None:
    for command, arguments in ARGUMENTS.items():
        assert set(arguments) <= set(WORDS[command]), command


def test_the_messages_tab_shows_the_bots_dms_and_takes_no_reply() -> None:
    """Found by review: the bot listens to no DM, so a reply typed to its standup prompt
    went unanswered; the tab is read-only (the prompts show there all the same)."""
    home = manifest("https://bot.example.com")["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True
