"""Channel adapters over real protocols. Each takes a Message and delivers it once per
``decision_id``: the id travels as the idempotency key (SMTP Message-ID, HTTP Idempotency-Key, the
sink's file name), so a retry after a crash is recognised by the receiving side."""

from __future__ import annotations

import http.client
import json
import os
import smtplib
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from ..decisioning.channel_endpoints import smtp_endpoint, webhook_url

MESSAGE_ID_DOMAIN = "journey-orchestrator"


class DeliveryError(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Message:
    decision_id: str
    customer_key: str
    action: str  # contact, web, advisor_task
    channel: str  # email, sms, push, web, advisor
    offer_id: str | None
    subject: str
    body: str
    recipient: str | None = None  # email address or phone; None where the channel keys by customer
    context: dict = field(default_factory=dict)  # advisor tasks: the conversation so far


class Adapter(Protocol):
    def deliver(self, message: Message) -> str:
        """Deliver or raise DeliveryError; returns a receipt for the action log."""
        ...


class LocalSinkAdapter:
    """The demo default: one JSON file per decision in a folder; an existing file is a duplicate."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, message: Message) -> str:
        target = self.folder / f"{message.decision_id}.json"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if target.exists():
                return f"already delivered: {target.name}"
            partial = target.with_suffix(".partial")
            partial.write_text(json.dumps(asdict(message), sort_keys=True), encoding="utf-8")
            partial.replace(target)  # atomic: a reader never sees half a message
        except OSError as error:  # a full disk, a file where the folder should be
            raise DeliveryError(f"local sink {self.folder}: {error}", retryable=True) from error
        return f"written {target.name}"


class SmtpAdapter:
    def __init__(self, endpoint: str, sender: str, timeout_s: float = 10.0) -> None:
        self.host, self.port = smtp_endpoint(endpoint)  # ValueError when not host:port
        self.sender, self.timeout_s = sender, timeout_s

    def deliver(self, message: Message) -> str:
        if not message.recipient:
            raise DeliveryError("no email address on record", retryable=False)
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = f"<{message.decision_id}@{MESSAGE_ID_DOMAIN}>"
        email["X-Decision-Id"] = message.decision_id
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"recipient refused: {error}", retryable=False) from error
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(
                f"SMTP {error.smtp_code}: {error.smtp_error!r}", not permanent
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP: {error}", retryable=True) from error
        return f"accepted by {self.host}:{self.port}"


def _http_only_opener() -> urllib.request.OpenerDirector:
    """http(s) and nothing else (no file:, ftp:, data:), and no redirect handler: a 3xx is
    raised as an HTTPError, never followed (following would send the message and its
    Authorization header wherever the Location points; urllib even turns a 302 POST into a GET).
    """
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),  # the environment's proxy settings, as urlopen uses
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),  # any other scheme: URLError, never a silent None
    ):
        opener.add_handler(handler)
    return opener


class WebhookAdapter:
    """JSON POST with ``Idempotency-Key``; the Authorization value comes from the environment.
    Redirects are failures (retried, then dead-lettered), never followed."""

    def __init__(
        self,
        url: str,
        auth_env: str | None = None,
        timeout_s: float = 10.0,
        allow_insecure_http: bool = False,
    ) -> None:
        self.url = webhook_url(url, allow_insecure_http)  # ValueError when not an allowed URL
        self.auth_env, self.timeout_s = auth_env, timeout_s
        self._opener = _http_only_opener()

    def deliver(self, message: Message) -> str:
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.decision_id}
        if self.auth_env:
            secret = os.environ.get(self.auth_env)
            if not secret:
                raise DeliveryError(
                    f"environment variable {self.auth_env} is not set", retryable=True
                )
            headers["Authorization"] = secret
        request = urllib.request.Request(
            self.url, data=json.dumps(asdict(message)).encode(), headers=headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as error:
            if error.code == 409:  # the receiver already has this idempotency key
                return "HTTP 409: already delivered"
            if 300 <= error.code < 400:
                raise DeliveryError(
                    f"HTTP {error.code} from {self.url}: redirects are not followed "
                    f"(Location: {error.headers.get('Location')})",
                    retryable=True,
                ) from error
            retryable = error.code in (408, 425, 429) or error.code >= 500
            raise DeliveryError(f"HTTP {error.code} from {self.url}", retryable) from error
        except (http.client.HTTPException, OSError) as error:  # refused, timed out, garbled
            raise DeliveryError(f"{self.url}: {error}", retryable=True) from error
