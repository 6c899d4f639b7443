"""The channel port: each channel's limits as data, and replies fitted to them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bots.telegram.render import TEXT_LIMIT, TelegramRenderer
from conversations.channel import MESSENGER, TELEGRAM, fit, split_text
from conversations.replies import AskPhone, Button, JobCard, Text


def test_the_channels_declare_what_they_can_do() -> None:
    assert (TELEGRAM.text_length, TELEGRAM.voice_format, TELEGRAM.inline_sharing) == (4096, "ogg", True)
    assert TELEGRAM.message_window is None and TEXT_LIMIT == 4096
    assert TelegramRenderer.capabilities is TELEGRAM
    assert (MESSENGER.text_length, MESSENGER.buttons_per_message, MESSENGER.label_length) == (2000, 13, 20)
    assert MESSENGER.voice_format == "mp3" and not MESSENGER.inline_sharing
    assert MESSENGER.message_window is not None and MESSENGER.message_window.total_seconds() == 24 * 3600


def test_a_reply_is_fitted_to_messenger_text_split_labels_cut_buttons_paged() -> None:
    buttons = tuple((Button(f"Choice number {n} with a long label", f"c:{n}"),) for n in range(15))
    fitted = fit(Text("word " * 900, buttons), MESSENGER)
    assert all(isinstance(r, Text) and len(r.text) <= 2000 for r in fitted)
    assert " ".join(r.text for r in fitted if isinstance(r, Text)).split() == ["word"] * 900 + ["⬇️"]
    pages = [[b for row in r.buttons for b in row] for r in fitted if isinstance(r, Text) and r.buttons]
    assert [len(p) for p in pages] == [13, 2]
    assert all(len(b.label) <= 20 and b.label.endswith("…") for page in pages for b in page)
    assert [b.action for page in pages for b in page] == [f"c:{n}" for n in range(15)]


def test_fitting_keeps_the_kind_of_reply_and_leaves_cards_alone() -> None:
    [asked] = fit(AskPhone("Your number?", ((Button("Skip", "skip"),),)), MESSENGER)
    assert isinstance(asked, AskPhone) and asked.buttons == ((Button("Skip", "skip"),),)
    card = JobCard(1, "x" * 5000)
    assert fit(card, MESSENGER) == [card]


@given(st.text(alphabet=st.sampled_from("ក ខ\nabc"), max_size=6000), st.integers(min_value=10, max_value=2000))
def test_split_text_keeps_every_character_within_the_limit(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())  # only whitespace at the cuts is dropped
