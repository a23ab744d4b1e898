"""How listeners run: the acknowledgement leaves the moment a listener gives it.

The app runs with `process_before_response=True`: Bolt answers Slack when the listener
function returns, with no polling (Bolt's other mode checks for the ack every 10 ms, so
every answer took at least that). A listener that answers from ready state and does nothing
after (`/readiness`) runs as it is. The others acknowledge first and then write, queue
messages or call Slack; `after_ack` runs them on a worker thread and returns as soon as
they call `ack()`, so Slack's answer never waits for what follows (a write lock held by an
ingest, a slow Slack). An error before the acknowledgement is answered in it by the app's
error handler; an error after it is answered the same way, through `respond`.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.error import URLError

from slack_bolt import Ack, BoltResponse
from slack_bolt.kwargs_injection.args import Args
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.common import notice_view, reply, unescape
from bot.outbox import AFTER_SENDING, MAYBE_DONE_ERRORS
from bot.people import named
from jobs.errors import FieldErrors, SprintError

log = logging.getLogger(__name__)

GENERIC_ERROR = "Sorry, something went wrong on sprintbot's side; it has been logged. Try again."
UNCONFIRMED_FORM = (
    "Slack did not say whether the form opened (it was slow or failing just then): if it "
    "is not open, try again."
)
JSON_HEADERS = {"content-type": "application/json;charset=utf-8"}
# Seconds a listener has to acknowledge: Slack waits 3 s, the way there and back included,
# and a busy machine can take half a second to answer once the wait is over (2.5 s was
# seen arriving at 3.04 s on a loaded 2-core host). One still busy by then (waiting on
# another writer's lock) is acknowledged empty in its stead, and its own acknowledgement,
# when it comes, is answered by `respond`.
ACK_WITHIN = 2.0
_workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")


# Slash commands whose answer is the figures kept ready, rendered: `/readiness` and its help.
_FROM_MEMORY = {b"command=%2Freadiness&text=&", b"command=%2Freadiness&text=show&"}
_HELP = b"&text=help&"


# Set in a request's context when it is dispatched on the event loop (`bot.web`): there it
# may not wait (for Slack to say who is in a channel, for the figures to be built), and is
# handed back (ELSEWHERE) to be dispatched again in a worker thread, unacknowledged.
ON_LOOP = "sprintbot_on_loop"
ELSEWHERE = BoltResponse(status=503, body="")


def answered_from_memory(body: bytes) -> bool:
    """Whether a request is a command answered from the figures kept ready (or its help):
    one that never waits, so it can run without a thread of its own."""
    if b"command=%2Freadiness&" not in body:
        return False
    return _HELP in body or any(pattern in body for pattern in _FROM_MEMORY)


def _typed(request: BoltRequest) -> str:
    """What the user typed into the request: a command's text, a form's fields."""
    if request.body.get("command"):
        return unescape(str(request.body.get("text") or ""))
    found: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                (found.append(v) if k == "value" and isinstance(v, str) else walk(v))
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(((request.body.get("view") or {}).get("state") or {}).get("values"))
    return "\n".join(found)


def _file_text(request: BoltRequest) -> list[str]:
    """The names of the request's sprint file a refusal may quote (its components, its
    milestones, its roles, its sprint's and team's names): shown as typed, a mention in
    one never a mention (a component named with `<@U…>` in "Components: …"; found by
    review)."""
    sprint = getattr(request.context.get("app"), "sprint", None)
    if sprint is None:
        return []
    return [
        sprint.sprint.name,
        sprint.shown_team or "",
        *(c.name for c in sprint.components),
        *(m.name for m in sprint.milestones),
        *sprint.people,
    ]


def answer_error(
    error: Exception,
    request: BoltRequest,
    response: BoltResponse | None,
    respond: Any,
) -> BoltResponse | None:
    """The one error handler: a SprintError is shown to the user as typed (never a mention
    or a link), anything else is logged and the user told so. Not yet acknowledged: the
    answer goes in the acknowledgement; acknowledged: by `respond`, ephemeral. FieldErrors
    in a modal's submission are shown under their fields, and the modal stays open."""
    if response is not None and isinstance(error, FieldErrors) and _is_submission(request):
        return field_errors_response(error, client=request.context.client)
    message = (
        reply(str(error), "\n".join([_typed(request), *error.quoted, *_file_text(request)]))
        if isinstance(error, SprintError)
        else GENERIC_ERROR
    )
    if not isinstance(error, SprintError):
        log.error("listener failed: %r", error, exc_info=error)
    if response is not None and _is_submission(request):
        # Not an empty answer: that closes the form as if it were saved.
        return not_saved_response(message)
    if response is not None and request.body.get("command"):
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": message}),
            headers=dict(JSON_HEADERS),
        )
    if respond is not None and request.context.response_url:
        answer = {"text": message, "response_type": "ephemeral", "replace_original": False}
        if response is not None:
            respond_after_ack(respond, **answer)  # (not acknowledged yet: never wait)
        else:
            respond(**answer)
    elif response is None and _is_submission(request):
        # After Slack stopped waiting: the form is still open, as it was (`after_ack`).
        log.warning("a submission was refused after Slack stopped waiting: %s", error)
    return BoltResponse(status=200, body="") if response is not None else None


def respond_after_ack(respond: Callable[..., Any], **answer: Any) -> None:
    """Answer by the response_url once the acknowledgement is on its way: a refusal posted
    before it held the click's acknowledgement while Slack's response_url was slow (4 s:
    Slack marked the click failed beside the refusal; found by review)."""

    def send() -> None:
        try:
            respond(**answer)
        except Exception:
            log.exception("could not answer by the response_url")

    _workers.submit(send)


def open_form(client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """Open a modal, once: a trigger opens one form. Where Slack's answer leaves open
    whether it did (a 5xx, a timeout), the user is told so; Slack refusing the trigger as
    used already means it opened (found by review: "something went wrong" beside the form
    Slack had opened, and trying again opened a second)."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "exchanged_trigger_id":
            log.info("views.open: the trigger had opened its form already")
            return
        if exc.response.status_code >= 500 or error in MAYBE_DONE_ERRORS:
            log.warning("views.open: %s; the form may be open", error or exc.response.status_code)
            raise SprintError(UNCONFIRMED_FORM) from None
        raise
    except (URLError, *AFTER_SENDING) as exc:  # (a timeout, a connection closed unanswered)
        log.warning("views.open: no answer from Slack (%r); the form may be open", exc)
        raise SprintError(UNCONFIRMED_FORM) from None


def _is_submission(request: BoltRequest) -> bool:
    return request.body.get("type") == "view_submission"


def field_errors_response(error: FieldErrors, *, client: WebClient | None) -> BoltResponse:
    """The acknowledgement that keeps a modal open with `error`'s messages under its fields
    (what `ack(response_action="errors", errors=...)` sends): plain text there, so the
    people a message names are named as Slack shows them (`people.named`)."""
    errors = error.errors
    if client is not None:
        errors = {field: named(message, client) for field, message in errors.items()}
    body = {"response_action": "errors", "errors": errors}
    return BoltResponse(status=200, body=json.dumps(body), headers=dict(JSON_HEADERS))


def not_saved_response(message: str) -> BoltResponse:
    """The acknowledgement of a submission that failed other than in a field: a notice on
    top of the form, which closing leaves as it was (what `ack(response_action="push")`
    sends)."""
    text = f"{message}\n\n*Nothing was saved.* Close this to return to your form."
    body = {"response_action": "push", "view": notice_view("Not saved", text)}
    return BoltResponse(status=200, body=json.dumps(body), headers=dict(JSON_HEADERS))


def after_ack(listener: Callable[..., object]) -> Callable[[Args], None]:
    """`listener`, answered as soon as it acknowledges; the rest of it runs on. A command
    or click that has not acknowledged within ACK_WITHIN is acknowledged empty (Slack shows
    no error for what it goes on to do), and what it acknowledges with later goes by
    `respond`; a modal's submission is not (Slack shows the form its error, open), and what
    it answers later goes to that form (`_update_form_late`)."""
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        acked = threading.Event()
        turn = threading.Lock()  # the listener's ack or the one given in its stead: one
        late: list[bool] = []  # [True] once an empty ack was given in the listener's stead
        early: list[BaseException] = []
        given: Ack = args.ack

        def ack(*a: Any, **k: Any) -> BoltResponse:
            with turn:
                if not late:
                    try:
                        return given(*a, **k)
                    finally:
                        acked.set()
            _answer_late(args, *a, **k)
            return BoltResponse(status=200, body="")

        kwargs = {n: ack if n == "ack" else getattr(args, n) for n in names}

        def body() -> None:
            try:
                listener(**kwargs)
            except Exception as exc:
                # Looked at and kept in one turn: else the deadline could pass in between,
                # and the request's thread, finding nothing kept, not raise it.
                with turn:
                    answered = acked.is_set()
                    if not answered:
                        early.append(exc)
                if answered:
                    answer_error(exc, args.request, None, args.respond)
            finally:
                acked.set()

        _workers.submit(body)
        # (Not a modal's submission: an empty answer closes the modal as if it were saved,
        # and a refusal after it could no longer be shown under its field. It gets no
        # answer: Slack keeps the form open, with its error, and what the listener answers
        # later goes to the form, `_update_form_late`.)
        submission = _is_submission(args.request)
        if not acked.wait(timeout=ACK_WITHIN):
            with turn:
                if not acked.is_set() and not early:
                    late.append(True)
                    if not submission:
                        given()
                    acked.set()
        if early:
            raise early[0]

    return run


def _answer_late(args: Args, *a: Any, **k: Any) -> None:
    """What a listener acknowledged with too late: a command's or a click's (an empty ack
    was given in its stead) by the request's response_url, to the user alone unless it
    said otherwise; a modal submission's to its form (`_update_form_late`)."""
    if _is_submission(args.request):
        _update_form_late(args, **k)
        return
    text, blocks = (a[0] if a else k.get("text")), k.get("blocks")
    if not (text or blocks):
        return
    if not args.request.context.response_url:
        log.warning("an answer came too late and has nowhere to go: %s", text)
        return
    args.respond(
        text=text or "",
        blocks=blocks,
        response_type=k.get("response_type") or "ephemeral",
        replace_original=False,
    )


SAVED_LATE = (
    ":white_check_mark: *Saved.* It took longer than Slack waits for an answer, so Slack "
    "showed this form an error, but nothing is missing: there is no need to submit it again."
)


def _update_form_late(args: Args, **k: Any) -> None:
    """The answer to a modal's submission that came after Slack stopped waiting for it: the
    form is still open, under Slack's error, and becomes what the answer says — "Saved.",
    or the view the listener answered with. Field errors leave the form as it is (they can
    only be shown in an answer in time): submitted again, it shows them under its fields."""
    view = args.request.body.get("view") or {}
    if k.get("errors"):
        log.warning("a submission was refused after Slack stopped waiting: %s", k["errors"])
        return
    if not view.get("id"):  # (Slack always sends it)
        return
    title = str((view.get("title") or {}).get("text") or "sprintbot")
    answer = k.get("view") if k.get("response_action") in ("update", "push") else None
    try:
        args.client.views_update(view_id=view["id"], view=answer or notice_view(title, SAVED_LATE))
    except (SlackClientError, OSError) as exc:
        # Closed meanwhile, or Slack out of reach: what it answered is stored anyway.
        log.info("the late answer to a form could not be shown: %r", exc)


def in_background(listener: Callable[..., None]) -> Callable[[Args], None]:
    """An event listener: Slack's event is acknowledged at once, the listener runs after."""
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        kwargs = {n: getattr(args, n) for n in names}

        def body() -> None:
            try:
                listener(**kwargs)
            except Exception as exc:
                answer_error(exc, args.request, None, None)

        _workers.submit(body)

    return run
