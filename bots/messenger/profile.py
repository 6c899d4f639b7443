"""The page's Messenger profile: the Get Started button (its postback starts the conversation, like /start)
and the persistent menu (the same actions as Telegram's commands), in English and Khmer."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bots.messenger.graph import GraphClient, GraphError

log = logging.getLogger(__name__)

GET_STARTED = "start"
# (payload, English, Khmer): each payload is the action Telegram's command of the same name runs.
MENU = (
    ("browse", "Find jobs", "ស្វែងរកការងារ"),
    ("nom", "Add a family member", "បន្ថែមសមាជិកគ្រួសារ"),
    ("emp", "I am an employer", "ខ្ញុំជានិយោជក"),
    ("language", "Language / ភាសា", "ភាសា / Language"),
    ("help", "Help", "ជំនួយ"),
)


def profile() -> dict[str, Any]:
    def menu(locale: str, column: int) -> dict[str, Any]:
        items = [{"type": "postback", "title": item[column], "payload": item[0]} for item in MENU]
        return {"locale": locale, "composer_input_disabled": False, "call_to_actions": items}

    return {
        "get_started": {"payload": GET_STARTED},
        "persistent_menu": [menu("default", 1), menu("km_KH", 2)],
    }


async def set_up_profile(graph: GraphClient) -> bool:
    """Tell Messenger the Get Started button and the menu; a refusal is logged (the page still works)."""
    try:
        await graph.set_profile(profile())
    except (GraphError, aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("the Messenger profile (Get Started, menu) was not set: %s", error)
        return False
    return True
