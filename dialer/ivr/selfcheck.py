"""Can the provider reach our webhooks? One signed request to our own /voice/answer, through PUBLIC_BASE_URL.

A wrong PUBLIC_BASE_URL (or a proxy that rewrites the address, or another auth token on the serving process)
makes every webhook answer 403; Somleng then drops the call in silence, and nothing but the 403s shows it.
``self_check`` posts to ``PUBLIC_BASE_URL/voice/answer?selfcheck=<nonce>`` signed exactly as the provider
signs (X-Twilio-Signature over the URL and the form fields, with the auth token) and tells in one line which
step fails: the address (name, connection), TLS, the HTTP status, or the signature's round trip — or "ok".

The request changes nothing: the answer webhook recognises the ``selfcheck`` marker only after the signature
was validated, answers it with a bare <Hangup/> before looking at any call, and proves it validated the
request by returning an HMAC of the nonce under the auth token (so a different server answering 200 on that
address is not mistaken for ours). A self-check request whose signature does not validate gets 403 like any
other, with a word on why in the body (the signed URL differs from ours, or the token does), which tells a
forger nothing it did not know.

Also here: ``SignatureMismatches``, the webhooks' one log line per process that names the URL a refused
request came to and the URL its signature was validated against.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from dialer.settings import DialerSettings

log = logging.getLogger(__name__)

ANSWER_PATH = "/voice/answer"
MARKER = "selfcheck"
PROOF_HEADER = "X-Bongpheak-Self-Check"
SIGNATURE_HEADER = "X-Twilio-Signature"
# Words the answer webhook puts in a self-check's 403 body; the checker turns them into its line.
URL_MISMATCH = "signed-for-another-url"
TOKEN_MISMATCH = "bad-signature"


@dataclass(frozen=True)
class CheckResult:
    """The outcome: ``step`` is "ok", "address", "tls", "http" or "signature"; ``line`` says it to a person."""

    step: str
    line: str

    @property
    def ok(self) -> bool:
        return self.step == "ok"


def proof(auth_token: str, nonce: str) -> str:
    """What our answer webhook returns for a self-check nonce: only a holder of the auth token can make it."""
    return hmac.new(auth_token.encode(), f"self-check:{nonce}".encode(), hashlib.sha256).hexdigest()


async def self_check(settings: DialerSettings, *, within: float = 10.0) -> CheckResult:
    """Post a correctly signed self-check to our own answer webhook through PUBLIC_BASE_URL."""
    if urlsplit(settings.public_base).scheme not in ("http", "https"):
        return _failed("address", f"PUBLIC_BASE_URL {settings.public_base!r} is not an http(s) URL")
    nonce = secrets.token_hex(8)
    url = f"{settings.public_base}{ANSWER_PATH}?{MARKER}={nonce}"
    # Fields as a provider's answer request has them; nothing in them names a real call.
    params = {"AccountSid": settings.account_sid, "CallSid": "CA" + "0" * 32, "CallStatus": "in-progress"}
    signature = RequestValidator(settings.auth_token).compute_signature(url, params)
    started = time.perf_counter()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=within)) as http,
            # A redirect would change the URL the provider signs: report it rather than follow it.
            http.post(url, data=params, headers={SIGNATURE_HEADER: signature}, allow_redirects=False) as response,
        ):
            body = (await response.content.read(2048)).decode(errors="replace")
            status, location = response.status, response.headers.get("Location", "")
            returned = response.headers.get(PROOF_HEADER, "")
    except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
        return _failed("tls", f"TLS to {settings.public_base} failed: {_reason(exc)}")
    except aiohttp.ClientConnectorError as exc:
        return _failed("address", f"cannot reach {exc.host}:{exc.port}: {_reason(exc)}")
    except aiohttp.InvalidURL:
        return _failed("address", f"PUBLIC_BASE_URL {settings.public_base!r} is not a URL")
    except TimeoutError:
        return _failed("address", f"no answer from {settings.public_base} within {within:g} s")
    except aiohttp.ClientError as exc:
        return _failed("http", f"{url.split('?')[0]} broke off: {_reason(exc)}")
    ms = (time.perf_counter() - started) * 1000
    where = url.split("?")[0]
    if status == 403:
        if URL_MISMATCH in body:
            return _failed(
                "signature",
                f"{where} validates signatures against another URL than PUBLIC_BASE_URL {settings.public_base} "
                "(the serving process has another PUBLIC_BASE_URL, or a proxy changes the address; see its log)",
            )
        return _failed("signature", f"{where} refused our signature (403): the serving process has another auth token")
    if 300 <= status < 400:
        moved = f"{where} redirects ({status}) to {location or '?'}"
        return _failed("http", f"{moved}: set PUBLIC_BASE_URL to the address it redirects to")
    if status != 200:
        return _failed("http", f"{where} answered HTTP {status}")
    if not hmac.compare_digest(returned, proof(settings.auth_token, nonce)):
        return _failed("signature", f"{where} answered 200 but not as this service's voice webhook (no proof)")
    return CheckResult("ok", f"voice self-check: ok ({where} accepted a signed request in {ms:.0f} ms)")


async def log_self_check(settings: DialerSettings) -> CheckResult:
    """Run the check and log its one line: an error when it fails (the dialer keeps running; see docs/ivr.md)."""
    try:
        result = await self_check(settings)
    except Exception as exc:  # the check must never stop the dialer
        log.exception("voice self-check could not run")
        return CheckResult("error", f"voice self-check could not run: {exc}")
    if result.ok:
        log.info("%s", result.line)
    else:
        log.error("%s", result.line)
    return result


def _failed(step: str, what: str) -> CheckResult:
    return CheckResult(step, f"voice self-check FAILED ({step}): {what}")


def _reason(exc: BaseException) -> str:
    """The operating system's words ("Connection refused", "Name or service not known"), else the error's."""
    inner = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
    if isinstance(inner, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {inner.verify_message}"
    if isinstance(inner, ssl.SSLError):  # its errno is OpenSSL's, not the system's
        return str(inner.reason or inner)
    if isinstance(inner, socket.gaierror) and inner.strerror:
        return inner.strerror
    if isinstance(inner, OSError) and inner.errno and inner.errno > 0:
        return os.strerror(inner.errno)
    return str(inner) or type(inner).__name__


def claimed_url(request: web.Request) -> str:
    """The URL a request was sent to, as far as its headers tell (a proxy's X-Forwarded-* first)."""
    proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{proto}://{host}{request.path_qs}"


class SignatureMismatches:
    """Why a signature did not validate, logged once per process and kind, with both URLs.

    Forged requests stay plain 403s; but when the provider signs a URL other than ours (PUBLIC_BASE_URL is
    not the address it calls), every call fails the same way, and one line naming both URLs finds it.
    """

    def __init__(self, validator: RequestValidator) -> None:
        self.validator = validator
        self.logged: set[str] = set()

    def explain(self, request: web.Request, validated: str, params: dict[str, str], signature: str) -> str:
        """URL_MISMATCH when the signature fits the URL the request came to (not ours), else TOKEN_MISMATCH."""
        claimed = claimed_url(request)
        kind = (
            URL_MISMATCH
            if claimed != validated and self.validator.validate(claimed, params, signature)
            else TOKEN_MISMATCH
        )
        if kind not in self.logged:
            self.logged.add(kind)
            why = (
                "it was signed for the URL it came to: set PUBLIC_BASE_URL to the address the provider calls"
                if kind == URL_MISMATCH
                else "it fits neither URL: another auth token, a forged request, or a proxy that changed the URL"
            )
            log.error(
                "voice webhook signature mismatch (logged once): the request came to %s, we validated against %s; %s",
                claimed,
                validated,
                why,
            )
        return kind
