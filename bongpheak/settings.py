"""Settings from the environment (and an optional .env file); each one is documented in .env.example.

A value that cannot be used is refused when the settings are read, and :func:`settings_problem` turns the
refusal into one line naming the setting and what it expects (the CLI prints it and exits with code 2).
Which settings a command *needs* (a public address for webhooks, the voice account for the dialer) is checked
by the command through :meth:`Settings.check_public_address` and :meth:`Settings.check_voice`.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bongpheak.commands import CommandError

ROOT = Path(__file__).resolve().parent.parent

POSTGRES_DRIVERS = ("postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg2", "postgresql+psycopg")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")

# Values echoed back in an error line; the others (tokens, URLs with passwords, ids) are only named.
SHOWN = frozenset(
    {
        "nominations_per_day",
        "calling_hours_start",
        "calling_hours_end",
        "calling_holidays",
        "calls_per_second",
        "max_concurrent_calls",
        "daily_calls_per_number",
        "answering_machine_detection",
        "voice_provider",
        "retry_unheard_pitches",
        "provider_queue_limit_minutes",
        "startup_timeout",
        "prompt_pack_dir",
        "public_base_url",
        "payments",
        "prices_file",
        "bakong_api_base_url",
        "khqr_merchant_name",
        "khqr_merchant_city",
        "invoice_minutes",
    }
)


def _json_list(value: Any) -> Any:
    """A list setting as written in the environment (a JSON list), parsed; other values are left to pydantic."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError("not JSON") from None
        if not isinstance(value, list):
            raise ValueError("not a list")
    return value


class Settings(BaseSettings):
    """Everything an operator can set. Nothing here connects to anything.

    Each ``description`` says what the setting expects; it is the second half of the error line.
    """

    # An empty value (``NAME=`` in .env) means "not set", as it reads.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_parse_none_str="")

    # Database: unset means "run an embedded PostgreSQL in DATA_DIR".
    database_url: str | None = Field(
        default=None, description="a PostgreSQL URL, e.g. postgresql://user:password@host:5432/dbname"
    )
    data_dir: Path = Field(default=ROOT / "var", description="a folder")
    # How long start-up waits for the database and Telegram to answer before it gives up (exit code 2).
    startup_timeout: float = Field(default=30.0, ge=0, allow_inf_nan=False, description="seconds (0 or more), e.g. 30")
    # A database holding demo data talks only to services on these hosts (loopback only; bongpheak/demo_guard.py).
    demo_provider_hosts: str = Field(
        default="localhost,127.0.0.1,::1", description="a comma-separated list of loopback hosts, e.g. localhost"
    )

    # Voice media.
    prompt_pack_dir: Path | None = Field(  # None: the bundled placeholder packs
        default=None, description="an existing folder of recorded prompt packs (unset: the bundled placeholder packs)"
    )
    audio_cache_dir: Path | None = Field(default=None, description="a folder")  # None: DATA_DIR/audio
    ffmpeg_binary: str | None = Field(  # None: the ffmpeg shipped in the imageio-ffmpeg wheel
        default=None, description="an ffmpeg program that exists (unset: the one shipped with the program)"
    )

    # Telegram.
    telegram_bot_token: str | None = Field(default=None, description="the token @BotFather gave you")
    telegram_webhook_secret: str | None = Field(default=None, description="a long random string")
    # Only for links from the website (a new company registers in the bot); the bot itself does not need it.
    telegram_bot_username: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$",
        description="the bot's username without @, e.g. BongPheakBot",
    )
    telegram_api_base_url: str | None = Field(  # None: api.telegram.org
        default=None, description="an http(s):// address of a Bot API server (unset: api.telegram.org)"
    )
    # Messenger: on when the four first are set (docs/messenger.md).
    messenger_page_token: str | None = Field(default=None, description="the Page access token of your Meta app")
    messenger_app_secret: str | None = Field(default=None, description="your Meta app's App Secret")
    messenger_verify_token: str | None = Field(default=None, description="a long random string")
    messenger_page_id: str | None = Field(default=None, description="the Facebook Page's id or username")
    messenger_api_base_url: str | None = Field(  # None: graph.facebook.com
        default=None, description="an http(s):// address of the Graph API (unset: graph.facebook.com)"
    )
    messenger_api_version: str = Field(
        default="v21.0", pattern=r"^v\d+\.\d+$", description="a Graph API version, e.g. v21.0"
    )
    moderator_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="a JSON list of Telegram user ids, e.g. [123456789, 987654321]"
    )
    moderators_chat_id: int | None = Field(default=None, description="a Telegram chat id, e.g. -1001234567890")
    # Off: only MODERATOR_IDS decide, also in the moderators' group. On: every member of that group decides.
    moderators_all_members: bool = Field(default=False, description="true or false")
    # The language of review cards, reports and alarms in the moderators' group (a group has no one language).
    moderators_language: Literal["km", "en"] = Field(default="km", description="km or en")
    nominations_per_day: int = Field(default=5, ge=1, description="a whole number of nominations, 1 or more, e.g. 5")

    # Public address of this server (webhooks, media URLs for the voice provider). Required when Telegram
    # webhooks or voice calls are used (see check_public_address).
    public_base_url: str | None = Field(
        default=None, description="the https:// address this server is reached at, e.g. https://jobs.example.org"
    )

    # Voice calls (Twilio or any Twilio-compatible API).
    voice_api_base_url: str | None = Field(  # None: api.twilio.com
        default=None, description="an https:// address of a Twilio-compatible API (unset: api.twilio.com)"
    )
    voice_provider: Literal["twilio", "somleng"] = Field(
        default="twilio", description="twilio or somleng (what the provider supports: docs/ivr.md)"
    )
    voice_account_sid: str | None = Field(default=None, description="the voice provider's account SID")
    voice_auth_token: str | None = Field(default=None, description="the voice provider's auth token")
    voice_from_number: str | None = Field(default=None, description="the caller id in E.164, e.g. +85523000000")
    calling_hours_start: str = Field(default="08:00", description="a time of day HH:MM from 00:00 to 23:59, e.g. 08:00")
    calling_hours_end: str = Field(default="20:00", description="a time of day HH:MM from 00:00 to 23:59, e.g. 20:00")
    calling_holidays: Annotated[list[date], NoDecode] = Field(
        default_factory=list, description='a JSON list of dates YYYY-MM-DD, e.g. ["2026-04-14", "2026-04-15"]'
    )
    calls_per_second: float = Field(
        default=1.0, gt=0, allow_inf_nan=False, description="a number above 0 (the provider's limit), e.g. 1"
    )
    max_concurrent_calls: int = Field(default=10, ge=1, description="a whole number of calls, 1 or more, e.g. 10")
    daily_calls_per_number: int = Field(default=2, ge=1, description="a whole number of calls, 1 or more, e.g. 2")
    answering_machine_detection: bool = Field(default=True, description="true or false")
    retry_unheard_pitches: bool = Field(default=True, description="true or false")
    provider_queue_limit_minutes: float = Field(
        default=5, gt=0, allow_inf_nan=False, description="a number of minutes above 0, e.g. 5"
    )

    # Paid listings through KHQR (docs/payments.md). Off: nothing is charged and nothing else is needed.
    payments: bool = Field(default=False, description="true or false")
    prices_file: Path | None = Field(default=None, description="a TOML prices file (docs/payments.md)")
    bakong_api_base_url: str | None = Field(  # None: api-bakong.nbc.gov.kh
        default=None, description="an http(s):// address of the Bakong Open API (unset: api-bakong.nbc.gov.kh)"
    )
    bakong_token: str | None = Field(default=None, description="the Bakong Open API token")
    khqr_merchant_account: str | None = Field(
        default=None, pattern=r"^[^@\s]+@[^@\s]+$", description="a Bakong account id, e.g. bongpheak@aclb"
    )
    khqr_merchant_name: str | None = Field(
        default=None, max_length=25, description="the name payers see, at most 25 characters"
    )
    khqr_merchant_city: str | None = Field(default=None, max_length=15, description="a city, e.g. Phnom Penh")
    invoice_minutes: float = Field(
        default=15, gt=0, allow_inf_nan=False, description="a number of minutes above 0, e.g. 15"
    )

    @property
    def audio_cache(self) -> Path:
        return self.audio_cache_dir or (self.data_dir / "audio")

    # ------------------------------------------------------------------ value checks

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError("not a URL") from None
        if url.drivername not in POSTGRES_DRIVERS:
            raise ValueError(f"{url.drivername!r} is not PostgreSQL")
        return value

    @field_validator(
        "public_base_url",
        "telegram_api_base_url",
        "voice_api_base_url",
        "messenger_api_base_url",
        "bakong_api_base_url",
    )
    @classmethod
    def _http_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http(s):// address")
        if parts.query or parts.fragment:
            raise ValueError("an address has no ?query or #fragment here")
        return value.strip().rstrip("/")

    @field_validator("moderator_ids", mode="before")
    @classmethod
    def _json_ids(cls, value: Any) -> Any:
        return _json_list(value)

    @field_validator("calling_holidays", mode="before")
    @classmethod
    def _json_dates(cls, value: Any) -> Any:
        value = _json_list(value)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    try:
                        date.fromisoformat(item.strip())
                    except ValueError:
                        raise ValueError(f"{item!r} is not a date") from None
        return value

    @field_validator("calling_hours_start", "calling_hours_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        match = CLOCK.fullmatch(value.strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError("not a time of day")
        return f"{int(match[1]):02d}:{match[2]}"

    @field_validator("voice_from_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s\-()]", "", value)
        if not E164.fullmatch(compact):
            raise ValueError("not in E.164 (+ country code and number)")
        return compact

    @field_validator("prompt_pack_dir")
    @classmethod
    def _existing_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("no such folder")
        return value

    @field_validator("ffmpeg_binary")
    @classmethod
    def _program(cls, value: str | None) -> str | None:
        if value is not None and shutil.which(value) is None:
            raise ValueError("no such program")
        return value

    # ------------------------------------------------------------------ what a command needs

    def check_telegram(self, *, polling: bool) -> str:
        """The bot token, or CommandError naming the missing setting in one line."""
        if not self.telegram_bot_token:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set (the token @BotFather gave you)")
        if not polling and not self.telegram_webhook_secret:
            raise CommandError("TELEGRAM_WEBHOOK_SECRET is not set (any long random string; or run with --polling)")
        return self.telegram_bot_token

    def check_messenger(self) -> bool:
        """True when every Messenger setting is set, False when none is; CommandError naming the first missing
        one, in one line, when only some are."""
        needed = {
            "MESSENGER_PAGE_TOKEN": (self.messenger_page_token, "the Page access token of your Meta app"),
            "MESSENGER_APP_SECRET": (self.messenger_app_secret, "your Meta app's App Secret"),
            "MESSENGER_VERIFY_TOKEN": (self.messenger_verify_token, "any long random string"),
            "MESSENGER_PAGE_ID": (self.messenger_page_id, "the Facebook Page's id or username"),
        }
        missing = [(name, why) for name, (value, why) in needed.items() if not value]
        if len(missing) == len(needed):
            return False
        if missing:
            name, why = missing[0]
            raise CommandError(f"{name} is not set ({why}); Messenger needs it with the other MESSENGER_ settings")
        return True

    def check_public_address(self, why: str) -> str:
        """PUBLIC_BASE_URL, required for webhooks: https, or plain http on a loopback address only."""
        if not self.public_base_url:
            raise CommandError(
                f"PUBLIC_BASE_URL is not set: {why} needs the https:// address this server is reached at"
            )
        parts = urlsplit(self.public_base_url)
        if parts.scheme != "https" and not is_loopback(parts.hostname or ""):
            raise CommandError(
                "PUBLIC_BASE_URL must start with https:// (plain http only for 127.0.0.1, ::1 or localhost, "
                "where tests and the carrier simulator run)"
            )
        return self.public_base_url

    def check_payments(self) -> None:
        """With PAYMENTS on, every setting it needs is set: CommandError naming the missing ones in one line."""
        needed = ("prices_file", "bakong_token", "khqr_merchant_account", "khqr_merchant_name", "khqr_merchant_city")
        missing = [name.upper() for name in needed if not getattr(self, name)]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            raise CommandError(f"PAYMENTS is on but {', '.join(missing)} {verb} not set (see docs/payments.md)")

    def voice_configured(self) -> bool:
        """Whether any voice account setting is given (then all the webhooks need must be)."""
        return bool(self.voice_account_sid or self.voice_auth_token)

    def check_voice(self, *, placing_calls: bool) -> None:
        """The voice account is complete: SID and token for the webhooks, the caller id too for placing calls."""
        needed = ["voice_account_sid", "voice_auth_token"] + (["voice_from_number"] if placing_calls else [])
        missing = [name.upper() for name in needed if not getattr(self, name)]
        if missing:
            what = (
                "placing calls needs the account SID, auth token and caller id"
                if placing_calls
                else ("the voice webhooks need the account SID and auth token (set both, or neither for no calls)")
            )
            verb = "is" if len(missing) == 1 else "are"
            raise CommandError(f"{' and '.join(missing)} {verb} not set: {what} (see .env.example)")
        self.check_public_address("the voice provider")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: addresses only this machine reaches."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def settings_problem(error: Exception) -> str | None:
    """One line naming each setting that could not be read and what it expects; None if not about Settings."""
    if isinstance(error, SettingsError):
        # pydantic-settings could not decode a value before validation (a complex field from the env).
        match = re.search(r'field "(\w+)"', str(error))
        name = match[1] if match else ""
        field = Settings.model_fields.get(name)
        return f"{name.upper()}: expected {field.description}" if field else str(error).splitlines()[0]
    if not isinstance(error, ValidationError) or error.title != Settings.__name__:
        return None
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        field = Settings.model_fields.get(name)
        shown = ""
        if name in SHOWN and isinstance(problem.get("input"), str | int | float):
            shown = f"={str(problem['input'])[:60]}"
        reason = ""
        if problem["type"] == "value_error":
            reason = str(problem["msg"]).removeprefix("Value error, ") + "; "
        if field is not None and field.description:
            lines.append(f"{name.upper()}{shown}: {reason}expected {field.description}")
        else:  # a setting without a description: pydantic's own words
            lines.append(f"{name.upper()}{shown}: {problem['msg']}")
    return " ".join("; ".join(lines).split())  # one line, whatever a value held
