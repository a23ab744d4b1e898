"""Who the bot is in its workspace, learned from `auth.test` once and never per request.

Bolt's single-workspace authorization calls `auth.test` lazily and caches only a success,
so after a restart while Slack's API is down every slash command and interaction waited
for a timed-out `auth.test` and was answered "your installation is no longer available" —
the blocker was not filed. sprintbot has one workspace and one bot token: authorizing a
request needs nothing from Slack. The identity (bot user, bot id, team) learned at start-up
is handed to Bolt; when start-up could not learn it, requests are authorized with the token
alone and the identity is learned in the background, at most once per `retry_every`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

# auth.test errors that mean the token itself is no good (not that Slack is unwell).
REJECTED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked"})


class TokenRejected(Exception):
    """Slack answered auth.test: this token is not valid."""


@dataclass(frozen=True)
class Identity:
    team_id: str | None
    enterprise_id: str | None
    bot_user_id: str | None
    bot_id: str | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Identity:
        return cls(
            team_id=data.get("team_id"),
            enterprise_id=data.get("enterprise_id"),
            bot_user_id=data.get("user_id"),
            bot_id=data.get("bot_id"),
        )


class BotAuthorize(Authorize):
    """Bolt's `authorize` for one workspace and one bot token: answers from memory."""

    def __init__(self, client: WebClient, token: str | None, *, retry_every: float = 30.0):
        self.client = client
        self.token = token
        self.retry_every = retry_every
        self.identity: Identity | None = None
        self._lock = threading.Lock()
        self._learning = False
        self._last_try = float("-inf")

    def learn(self) -> Identity | None:
        """Ask auth.test now. TokenRejected when Slack refuses the token; None (and a
        warning) when Slack cannot be reached or is unwell."""
        try:
            data = self.client.auth_test(token=self.token).data
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error in REJECTED:
                raise TokenRejected(error) from None
            log.warning("auth.test failed (%s); the bot's identity is learned later", error)
            return None
        except (SlackClientError, OSError) as exc:
            log.warning("Slack is unreachable (%s); the bot's identity is learned later", exc)
            return None
        identity = Identity.of(data if isinstance(data, dict) else {})
        self.identity = identity
        return identity

    def _learn_in_background(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._learning or now - self._last_try < self.retry_every:
                return
            self._learning, self._last_try = True, now

        def run() -> None:
            try:
                self.learn()
            except TokenRejected as exc:
                log.error("SLACK_BOT_TOKEN: Slack rejected the token (%s)", exc)
            finally:
                self._learning = False

        threading.Thread(target=run, name="auth.test", daemon=True).start()

    def __call__(  # Bolt's Authorize signature
        self,
        *,
        context: BoltContext,  # noqa: ARG002
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,  # noqa: ARG002
        actor_team_id: str | None = None,  # noqa: ARG002
        actor_user_id: str | None = None,  # noqa: ARG002
    ) -> AuthorizeResult:
        known = self.identity
        if known is None:
            self._learn_in_background()
        return AuthorizeResult(
            enterprise_id=(known.enterprise_id if known else None) or enterprise_id,
            team_id=(known.team_id if known else None) or team_id,
            bot_user_id=known.bot_user_id if known else None,
            bot_id=known.bot_id if known else None,
            bot_token=self.token,
            user_id=user_id,
        )
