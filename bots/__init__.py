"""Channel adapters: Telegram, Messenger, the website."""
