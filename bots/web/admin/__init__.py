"""The operator's dashboard (/admin/): figures, moderation queues and prompt packs, behind a staff sign-in."""

from bots.web.admin.routes import AdminDeps, setup_admin

__all__ = ["AdminDeps", "setup_admin"]
