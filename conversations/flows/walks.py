"""The company's and the listing's walks of questions: Back asks the question before again, Cancel stops."""

from __future__ import annotations

from dataclasses import replace

from conversations.flows.job_questions import VOICE_STEP
from conversations.pickers import BACK, CANCEL, back_and_cancel
from conversations.replies import AskPhone, AskVoice, Text
from conversations.turn import Turn

# Back under a question of the company's or the listing's walk asks the one before it again (what was
# answered stays until answered anew); under a question chosen on the summary, Back is the summary. The first
# question of each walk has Cancel only.
PREVIOUS: dict[str, str] = {
    "reg.phone": "reg.name",
    "reg.province": "reg.phone",
    "reg.kind": "reg.province",
    "reg.licence": "reg.kind",
    "job.sector": "job.title",
    "job.where": "job.sector",
    "job.province": "job.where",
    "job.district": "job.province",
    "job.country": "job.where",
    "job.description": "job.where",
    "job.salary": "job.description",
    "job.currency": "job.salary",
    "job.period": "job.salary",
    "job.hours": "job.salary",
    "job.hours_ok": "job.hours",
    "job.days": "job.hours",
    "job.positions": "job.days",
    "job.gender": "job.positions",
    "job.ages": "job.gender",
    "job.benefits": "job.ages",
    "job.start": "job.benefits",
    "job.contact": "job.start",
    VOICE_STEP: "job.contact",
}
NAVIGATED = ("reg.", "job.")  # the steps whose Back and Cancel buttons post_job.navigate answers


def _add_navigation(t: Turn, step: str) -> None:
    """Back and Cancel under the question just asked (not under the summary: it has its own buttons)."""
    if not step.startswith(NAVIGATED) or step == "job.preview":
        return
    back = step in PREVIOUS or (step.startswith("job.") and bool(t.data.get("jump")))
    for index in range(len(t.replies) - 1, -1, -1):
        reply = t.replies[index]
        if isinstance(reply, (Text, AskVoice, AskPhone)):
            if any(b.action.endswith((f":{BACK}", f":{CANCEL}")) for row in reply.buttons for b in row):
                return
            t.replies[index] = replace(reply, buttons=(*reply.buttons, back_and_cancel(t, back)))
            return
