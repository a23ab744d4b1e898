"""E-mail copies of alerts over SMTP (`SPRINTBOT_SMTP_URL`)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from bot.tls import tls_context


class PermanentEmailError(Exception):
    """The server refused the message for good (bad recipients, auth); do not retry."""


def send_email(
    smtp_url: str, *, to: list[str], subject: str, body: str, timeout: float = 20
) -> None:
    """Send one plain-text e-mail. `smtp://user:pass@host:587?starttls=1&from=bot@x.org`;
    `smtps://` for implicit TLS. Transient failures raise OSError/SMTPException."""
    url = urlsplit(smtp_url)
    query = parse_qs(url.query)
    host = url.hostname or "localhost"
    user = unquote(url.username) if url.username else None
    password = unquote(url.password) if url.password else None
    sender = query.get("from", [None])[0] or (
        f"{user}@{host}" if user and "@" not in user else user
    )
    msg = EmailMessage()
    msg["From"] = sender or f"sprintbot@{host}"
    msg["To"] = ", ".join(to)
    # One line: a label typed over two lines made the header refused and the copy lost.
    msg["Subject"] = " ".join(subject.split())
    msg.set_content(body)
    context = tls_context()
    smtp: smtplib.SMTP
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, url.port or 25, timeout=timeout)
    with smtp:
        if url.scheme == "smtp" and query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            smtp.starttls(context=context)
        # A 5xx answer is for good (RFC 5321), a 4xx for now: tried again, a greylisting
        # server's "451 try again later" lost the copy, and a 554 at the message was tried
        # for ever, every later copy waiting behind it (found by review).
        if user and password:
            try:
                smtp.login(user, password)
            except smtplib.SMTPAuthenticationError as exc:
                if exc.smtp_code < 500:
                    raise
                raise PermanentEmailError(f"SMTP login refused ({exc.smtp_code})") from None
        try:
            smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            if not all(code >= 500 for code, _ in exc.recipients.values()):
                raise
            raise PermanentEmailError(f"recipients refused: {', '.join(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code < 500:
                raise
            said = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise PermanentEmailError(f"refused ({exc.smtp_code} {said[:200]})") from None
        except smtplib.SMTPNotSupportedError as exc:  # (an address the server cannot take)
            raise PermanentEmailError(f"not supported by the server: {exc}") from None
