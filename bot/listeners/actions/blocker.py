"""The buttons on a blocker: Take ownership, Escalate now, Resolve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.acks import open_form
from bot.blocks.blockers import blocker_form, resolve_form
from bot.context import AppContext
from bot.payloads import button_int, button_shown, button_step
from bot.people import directory, directory_for
from bot.routing import with_team
from jobs import blockers
from jobs.blockers import BlockerField
from jobs.permissions import Action
from storage import queries
from storage.models import Blocker

Listener = Callable[[Ack, dict[str, Any], BoltContext, WebClient], None]


def _button(
    change: Callable[..., Blocker], rule: Action, **read: Callable[[dict[str, Any]], object]
) -> Listener:
    """The listener of a button that changes its blocker (`blockers.take_ownership`, ...,
    called with the session, sprint, blocker id, user, now and directory): the rule
    (`rule`, whose groups are looked up before the write) and the steps are `change`'s, a
    refusal goes to the error handler; `read` names what more it takes from the click
    (Escalate now: the step its message showed)."""

    def on_click(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        app: AppContext = context["app"]
        blocker_id, user_id = button_int(body), body["user"]["id"]
        members = directory_for(
            client,
            db=app.db,
            sprint=app.sprint,
            rule=rule,
            user_id=user_id,
            blockers=lambda s: [queries.blocker_by_id(session=s, blocker_id=blocker_id)],
        )
        with app.write() as session:
            change(
                session=session,
                sprint=app.sprint,
                blocker_id=blocker_id,
                user_id=user_id,
                now=app.now(),
                directory=members,
                **{name: take(body) for name, take in read.items()},
            )
        ack()

    return on_click


# Who owned it as its message showed ("7@U0ANA", "7@" unowned): taken meanwhile, refused.
on_ack = _button(blockers.take_ownership, Action.REASSIGN, shown_owner=button_shown)
# The step after the one its message showed, once (a second click on it is refused).
on_escalate = _button(blockers.escalate_now, Action.ESCALATE, shown=button_step)


def on_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open the resolution form for those who may resolve (the form's submission checks
    again: `blockers.resolve` applies the same `blockers.resolvable`; so a user group Slack
    is slow to list lets the form open while its trigger lives)."""
    app: AppContext = context["app"]
    blocker_id = button_int(body)
    with app.db.read() as session:
        blocker = blockers.resolvable(
            session=session,
            sprint=app.sprint,
            blocker_id=blocker_id,
            user_id=body["user"]["id"],
            directory=directory(client, unsure_allows=True),
        )
        times = blockers.resolved_times(session=session, blocker_id=blocker_id)
    ack()
    view = with_team(resolve_form(blocker_id, blocker.code, resolved=times), app.team)
    open_form(client, body["trigger_id"], view)


def on_component_picked(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """A component picked in the blocker form: the form again with the component's owners
    suggested (`bot.blocks.blockers.blocker_form`)."""
    ack()
    app: AppContext = context["app"]
    view = body.get("view") or {}
    action = (body.get("actions") or [{}])[0]
    component = str((action.get("selected_option") or {}).get("value") or "")
    if not view.get("id") or app.sprint.component(component) is None:
        return
    owners = blockers.component_owners(app.sprint, component)
    # The Owner field as it stands: a person chosen by hand stays; one we suggested (its
    # block id names them) and left as it was gives way to this component's owner.
    field, chosen = _owner_field(view)
    suggested = (
        field.removeprefix(f"{BlockerField.OWNER}-") if field != BlockerField.OWNER else None
    )
    if chosen and chosen != suggested:
        suggest = chosen if field != BlockerField.OWNER else None
        kept = field
    else:
        suggest = next((o for o in owners if o.startswith(("U", "W"))), None)
        kept = None
    form = blocker_form(app.sprint, component=component, owners=owners, suggest=suggest)
    if kept is not None:  # the person chosen stays in the block Slack keeps them in
        for block in form["blocks"]:
            if str(block.get("block_id", "")).startswith(BlockerField.OWNER):
                block["block_id"] = kept
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=with_team(form, app.team))


def _owner_field(view: dict[str, Any]) -> tuple[str, str | None]:
    """The Owner field's block id and the user it holds, as the form stands."""
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        if block_id == BlockerField.OWNER or block_id.startswith(f"{BlockerField.OWNER}-"):
            for action in actions.values():
                return block_id, action.get("selected_user") or None
    return BlockerField.OWNER, None
