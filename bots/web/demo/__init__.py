"""The browser demo: simulators of Telegram and of the phone, served by the app itself."""
