"""The add-checkpoint call over HTTP (services.cosigning.WitnessClient), with the standard library only."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from email.message import Message

from shadan.domain.errors import DomainError
from shadan.services.cosigning import WitnessReply
from shadan.services.witness_list import witness_url

TIMEOUT_SECONDS = 30
_MAX_REPLY_BYTES = 64 * 1024


class HttpWitnessClient:
    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        # urlopen also reads file: and ftp: URLs; a witness is only ever reached over HTTP(S).
        self._endpoint = witness_url(url).rstrip("/") + "/add-checkpoint"
        # What messages name: the endpoint without a user and password the URL may carry.
        endpoint = urllib.parse.urlsplit(self._endpoint)
        self._shown = urllib.parse.urlunsplit(endpoint._replace(netloc=endpoint.netloc.rpartition("@")[2]))
        self._timeout = timeout

    def add_checkpoint(self, body: bytes) -> WitnessReply:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self._endpoint, data=body, method="POST", headers={"Content-Type": "text/plain; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return _reply(response.status, response.headers, response.read(_MAX_REPLY_BYTES))
        except urllib.error.HTTPError as exc:
            return _reply(exc.code, exc.headers, exc.read(_MAX_REPLY_BYTES))
        except (urllib.error.URLError, OSError) as exc:
            raise DomainError(f"証人 {self._shown} に接続できません: {exc}") from exc


def _reply(status: int, headers: Message, body: bytes) -> WitnessReply:
    return WitnessReply(status, headers.get_content_type(), body)
