"""Channel-agnostic dialog flows; state in PostgreSQL; emits abstract replies.

Public API
----------
``conversations.dialog.handle(incoming: Incoming, deps: DialogDeps) -> list[Reply]``
    One thing a person did (``replies.Incoming``) → what to say back (``Text | Voice | JobCard | AskPhone |
    AskVoice``), for ``incoming.chat_id``. Never raises. One transaction per turn: the person's
    ``conversation_state`` row is locked (``SELECT … FOR UPDATE``) and committed with the flow's domain changes.

``conversations.dialog.prepare(incoming, deps) -> Incoming``
    The slow part of an input, to call before the update's transaction opens: an employer's recording at the
    voice-description question is normalised (ffmpeg) into ``Incoming.voice_clip`` (or ``voice_problem``).

``conversations.turn.DialogDeps``
    ``session_factory``, ``clock``, ``moderator_ids`` (user ids as strings), ``moderators_chat_id`` (its
    members act as moderators), ``moderators_channel``/``moderators_language`` (where and how the notifier
    writes to them), ``nominations_per_day`` (5), ``audio`` (``async (PitchJob, language) -> Voice | None``,
    renders if need be; ``conversations.voice_notes.VoiceNotes(renderer).make``), ``cached_audio`` (same shape, reads
    the audio cache only and asks for a background render on a miss; ``VoiceNotes.ready``: what dialog turns
    use, so no turn waits for ffmpeg inside its transaction), ``clip_normaliser`` (``async (Path) -> Path``;
    ``conversations.voice_notes.employer_clip_normaliser(dir)``), ``page_size`` (3 job cards a page).

``conversations.outbox``
    ``enqueue(session, channel, chat_id, reply, dedupe_key, priority=, not_before=)`` and
    ``enqueue_many(session, channel, [(chat_id, reply, key)], priority=, wake=)`` in the caller's transaction
    (``wake``: NOTIFY ``<channel>_outbox`` at commit, also ``wake_sender``); ``release_claims`` (rows a dead
    sender had claimed); ``claim(session, channel, limit=, now=)`` (``FOR UPDATE SKIP LOCKED``), ``mark_sent``,
    ``mark_failed(message, error, retry_after=, give_up=)``; ``OutboxMessage.reply`` deserialises the payload;
    ``serialize_reply`` / ``deserialize_reply``.

``conversations.notifier``
    ``notify_once(deps, batch=100) -> int`` and ``run_notifier(deps, stop)``: domain events → outbox rows,
    as consumer ``"conversations"`` of ``jobs_core.event_log`` (retried with backoff, dead-lettered with an
    alarm to the moderators), exactly once.

Flows (``conversations.flows``, one module per use case): ``start`` (language, menu, help, /stop); for
relatives ``browse``, ``apply``, ``report``, ``nominate``, ``family``, ``alerts``; for employers ``register``,
``post_job`` (questions in ``job_questions``, preview, submit, edit), ``listings`` (and applications); for
moderators ``moderate`` (queues and decisions). Each is a table ``STEPS = {"nominate.name": Step(ask_name,
take_name), …}`` plus ``ACTIONS`` (buttons valid any time) and ``COMMANDS``.
What they share: ``labels`` (the words for enum values), ``pickers`` (question buttons), ``cards`` (a
job as the chat shows it), ``errors`` (a domain refusal in words).
Wording: ``locale/{km,en}/LC_MESSAGES/messages.po``.

Rendering for a channel: a ``Button`` of kind ``"action"`` sends its ``action`` back as
``Incoming.action``; kind ``"share"`` shares job ``action`` (``job:<id>``); ``JobCard`` is its text with the
buttons plus its voice note (send the voice first, or as one message with a caption); ``AskPhone`` may offer
"share my contact" (arrives as ``Incoming.contact_phone``); ``AskVoice`` expects ``Incoming.voice``.
"""
