"""Settings from the environment (and an optional .env file); each one is documented in .env.example."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything an operator can set. Nothing here connects to anything."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Database: unset means "run an embedded PostgreSQL in DATA_DIR".
    database_url: str | None = None
    data_dir: Path = Field(default=ROOT / "var")
    # A database holding demo data talks only to services on these hosts (loopback only; bongpheak/demo_guard.py).
    demo_provider_hosts: str = "localhost,127.0.0.1,::1"

    # Voice media.
    prompt_pack_dir: Path | None = None  # None: the bundled placeholder packs
    audio_cache_dir: Path | None = None  # None: DATA_DIR/audio
    ffmpeg_binary: str | None = None  # None: the ffmpeg shipped in the imageio-ffmpeg wheel

    # Telegram.
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str | None = None  # None: api.telegram.org
    moderator_ids: list[int] = Field(default_factory=list)
    moderators_chat_id: int | None = None
    nominations_per_day: int = 5

    # Public address of this server (webhooks, media URLs for Twilio).
    public_base_url: str = "http://127.0.0.1:8080"

    # Voice calls (Twilio or any Twilio-compatible API).
    voice_api_base_url: str | None = None  # None: api.twilio.com
    voice_account_sid: str | None = None
    voice_auth_token: str | None = None
    voice_from_number: str | None = None
    calling_hours_start: str = "08:00"
    calling_hours_end: str = "20:00"
    calling_holidays: list[str] = Field(default_factory=list)
    calls_per_second: float = 1.0
    max_concurrent_calls: int = 10
    daily_calls_per_number: int = 2
    answering_machine_detection: bool = True

    @property
    def audio_cache(self) -> Path:
        return self.audio_cache_dir or (self.data_dir / "audio")
