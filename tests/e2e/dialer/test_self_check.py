"""The voice self-check against our real webhooks on a local port: what each wrong setting reports in one line,
that the check writes nothing, and that a signature mismatch is logged once with both URLs."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bongpheak.cli import main
from dialer.calls.placing import claim_due
from dialer.calls.scheduling import consume_events
from dialer.ivr.selfcheck import PROOF_HEADER, log_self_check, proof, self_check
from dialer.ivr.webhooks import setup_voice
from jobs_core.model import Call, Event
from tests.e2e.dialer.conftest import TOKEN, VoiceStack
from tests.integration.dialer.support import add_employer, add_job, add_worker, phone

MISMATCH = "voice webhook signature mismatch"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _localhost(url: str) -> str:
    """The same server under another name: what a PUBLIC_BASE_URL differing from the provider's address is."""
    return url.replace("127.0.0.1", "localhost")


async def test_ok_when_a_signed_request_round_trips_and_nothing_is_written(stack: VoiceStack) -> None:
    call_id = await _claimed(stack, 40)
    before = await _call(stack, call_id)
    calls_before = await _count_calls(stack)

    result = await self_check(stack.settings)

    assert result.ok, result.line
    assert result.line.startswith(f"voice self-check: ok ({stack.app_url}/voice/answer ")
    # Even a self-check naming a live call answers only a hang-up, and changes nothing.
    url = f"{stack.app_url}/voice/answer?call={call_id}&attempt=1&selfcheck=abc"
    params = {"CallSid": "CA" + "c" * 32, "CallStatus": "in-progress", "Digits": "1"}
    headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)}
    async with aiohttp.ClientSession() as http, http.post(url, data=params, headers=headers) as response:
        assert response.status == 200
        assert "<Hangup" in await response.text() and "<Play" not in await response.text()
        assert response.headers[PROOF_HEADER] == proof(TOKEN, "abc")
    after = await _call(stack, call_id)
    assert (after.status, after.provider_sid, after.keys, after.flow_state) == (
        before.status,
        before.provider_sid,
        before.keys,
        before.flow_state,
    )
    assert await _count_calls(stack) == calls_before


async def test_a_self_check_still_needs_a_valid_signature(stack: VoiceStack) -> None:
    url = f"{stack.app_url}/voice/answer?selfcheck=abc"
    async with aiohttp.ClientSession() as http:
        for headers in ({"X-Twilio-Signature": "forged"}, {}):
            async with http.post(url, data={"CallSid": "CA1"}, headers=headers) as response:
                assert response.status == 403
                assert PROOF_HEADER not in response.headers


async def test_nothing_listening_at_the_address(stack: VoiceStack) -> None:
    port = _closed_port()
    settings = dataclasses.replace(stack.settings, public_base_url=f"http://127.0.0.1:{port}")

    result = await self_check(settings)

    assert result.step == "address"
    assert result.line == f"voice self-check FAILED (address): cannot reach 127.0.0.1:{port}: Connection refused"


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A key and a self-signed certificate for 127.0.0.1 (what no provider accepts)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject]
    subprocess.run(command, check=True, capture_output=True)
    return key, cert


async def test_a_certificate_the_provider_would_refuse_is_a_tls_failure(
    stack: VoiceStack, self_signed: tuple[Path, Path]
) -> None:
    """Our webhooks behind TLS with a self-signed certificate: Twilio and Somleng refuse it, so must the check."""
    key, cert = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    setup_voice(app, stack.deps)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        result = await self_check(dataclasses.replace(stack.settings, public_base_url=f"https://127.0.0.1:{port}"))
    finally:
        await runner.cleanup()

    assert result.step == "tls"
    assert result.line.startswith(f"voice self-check FAILED (tls): TLS to https://127.0.0.1:{port} failed: ")
    assert "certificate verify failed" in result.line


async def test_an_address_the_provider_signs_differently_is_a_signature_mismatch(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    # The checker (like a provider) signs the address it calls; our webhooks validate against another one.
    settings = dataclasses.replace(stack.settings, public_base_url=_localhost(stack.app_url))

    with caplog.at_level(logging.ERROR, logger="dialer.ivr.selfcheck"):
        result = await self_check(settings)

    assert result.step == "signature"
    assert "validates signatures against another URL than PUBLIC_BASE_URL" in result.line
    [logged] = [r.getMessage() for r in caplog.records if MISMATCH in r.getMessage()]
    assert f"came to {_localhost(stack.app_url)}/voice/answer?selfcheck=" in logged
    assert f"we validated against {stack.app_url}/voice/answer?selfcheck=" in logged
    assert "set PUBLIC_BASE_URL to the address the provider calls" in logged


async def test_a_wrong_path_is_reported_as_its_http_status(stack: VoiceStack) -> None:
    settings = dataclasses.replace(stack.settings, public_base_url=stack.app_url + "/bongpheak")

    result = await self_check(settings)

    assert result.step == "http"
    assert result.line == f"voice self-check FAILED (http): {stack.app_url}/bongpheak/voice/answer answered HTTP 404"


async def test_another_auth_token_is_reported_as_refused(stack: VoiceStack) -> None:
    settings = dataclasses.replace(stack.settings, auth_token="not-the-serving-token")

    result = await self_check(settings)

    assert result.step == "signature"
    assert "refused our signature (403): the serving process has another auth token" in result.line


async def test_mismatches_are_logged_once_and_forged_requests_still_get_403(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture
) -> None:
    """The provider signing another address: every webhook 403 as before, the explanation logged only once."""
    other = _localhost(stack.app_url)
    status = {"CallSid": "CA" + "d" * 32, "CallStatus": "busy"}
    with caplog.at_level(logging.WARNING):
        async with aiohttp.ClientSession() as http:
            for _ in range(3):
                for hook in ("status", "gather"):
                    url = f"{other}/voice/{hook}?call=1&attempt=1"
                    headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, status)}
                    async with http.post(url, data=status, headers=headers) as response:
                        assert (response.status, await response.text()) == (403, "forbidden")
    mismatches = [r for r in caplog.records if MISMATCH in r.getMessage()]
    assert len(mismatches) == 1 and mismatches[0].levelno == logging.ERROR
    assert f"came to {other}/voice/status?call=1&attempt=1" in mismatches[0].getMessage()
    assert f"we validated against {stack.app_url}/voice/status?call=1&attempt=1" in mismatches[0].getMessage()
    # Each refusal is still in the log, as before.
    assert sum("refused: bad signature" in r.getMessage() for r in caplog.records) == 6


@pytest.mark.parametrize("base", ["", "ftp://127.0.0.1", "127.0.0.1:8080"])
async def test_start_up_logs_a_base_url_that_is_no_address_and_goes_on(
    stack: VoiceStack, caplog: pytest.LogCaptureFixture, base: str
) -> None:
    settings = dataclasses.replace(stack.settings, public_base_url=base)

    with caplog.at_level(logging.INFO, logger="dialer.ivr.selfcheck"):
        result = await log_self_check(settings)

    assert result.step == "address"
    [logged] = caplog.records
    assert (logged.levelno, logged.getMessage()) == (logging.ERROR, result.line)
    assert result.line.startswith(f"voice self-check FAILED (address): PUBLIC_BASE_URL {base!r} is not")


async def test_start_up_logs_ok_as_info(stack: VoiceStack, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="dialer.ivr.selfcheck"):
        result = await log_self_check(stack.settings)

    assert result.ok
    [logged] = caplog.records
    assert (logged.levelno, logged.getMessage()) == (logging.INFO, result.line)


def test_the_command_prints_one_line_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("VOICE_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("VOICE_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")

    assert main(["dialer", "--check"]) == 1

    assert capsys.readouterr().out == (
        f"voice self-check FAILED (address): cannot reach 127.0.0.1:{port}: Connection refused\n"
    )


async def _count_calls(stack: VoiceStack) -> int:
    async with stack.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Call)) or 0)


async def _claimed(stack: VoiceStack, n: int) -> int:
    """A live call: a consented worker's pitch, claimed (queued, attempt 1), so any write would show."""
    employer = await add_employer(stack.sessions)
    job = await add_job(stack.sessions, employer)
    await add_worker(stack.sessions, phone(n))
    async with stack.sessions() as session, session.begin():
        session.add(Event(kind="job.published", payload={"job_id": job}, created_at=stack.clock.now()))
    await consume_events(stack.sessions, stack.settings, stack.clock.now())
    [claimed] = await claim_due(stack.sessions, stack.settings, stack.clock.now(), 10)
    return claimed.call_id


async def _call(stack: VoiceStack, call_id: int) -> Call:
    async with stack.sessions() as session:
        call = await session.get(Call, call_id)
        assert call is not None
        return call
