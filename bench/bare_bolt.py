"""The baseline for bench.acks: a bare Bolt app answering /readiness with a constant.

Bolt's sync `App` with `process_before_response=True`, served by uvicorn (with httptools, as
sprintbot is) through Bolt's own Starlette adapter — the least any Bolt app over HTTP can do
per command.
Run: python -m bench.bare_bolt PORT SIGNING_SECRET
"""

from __future__ import annotations

import sys

import uvicorn
from slack_bolt import Ack, App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def main() -> None:
    port, secret = int(sys.argv[1]), sys.argv[2]

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # From memory, as any app that knows its token: no call to Slack per request.
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token="xoxb-bench",  # noqa: S106  (never sent anywhere)
            bot_id="B0BENCH",
            bot_user_id="U0BOT",
        )

    app = App(signing_secret=secret, authorize=authorize, process_before_response=True)

    @app.command("/readiness")
    def readiness(ack: Ack) -> None:
        ack(response_type="ephemeral", text="Readiness 71.55 % (plan 67 %), On Track")

    handler = SlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    web = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    # The HTTP parser sprintbot's web process runs (httptools, in C), as any app in
    # production would (uvicorn's standard extra): the same server, only the app differs.
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning", http="httptools")


if __name__ == "__main__":
    main()
