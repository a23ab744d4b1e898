"""bot.outbox.Respond (commit 265dc98) retries a response_url POST on any 5xx with the
plain ServerErrorRetryHandler. make_client's own rule (SafeServerErrorRetryHandler) is
that a 5xx to a *post* is never retried: Slack may have posted before answering 5xx. A
response_url POST is a post; there is no outbox to look for it first. A 500 from Slack's
edge after the answer was shown posts the user's answer ("B-001 filed", "Quarantined …")
twice (a second, then a third time: max_retry_count=2)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot.outbox import Respond


def test_a_500_after_slack_showed_the_answer_does_not_post_it_again() -> None:
    shown: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            shown.append(body)  # Slack showed the answer in the channel ...
            self.send_response(500)  # ... and answered an internal error
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet: the test reads what was posted, not the server's log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/commands/T0/1/abc"
        Respond(url, backoff_scale=0.01)(text="B-001 filed", response_type="ephemeral")
    finally:
        server.shutdown()
    assert len(shown) == 1, f"the answer was posted {len(shown)} times"
