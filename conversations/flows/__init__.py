"""The flows, one module per use case, each a table ``STEPS = {"nominate.name": Step(ask_name, take_name), …}``
of its questions plus ``ACTIONS`` (buttons valid any time) and ``COMMANDS``; ``conversations.dialog`` composes
them.

People: ``start`` (language, menu, help, /stop). Relatives: ``browse`` (their menu, jobs by place and kind of
work), ``apply`` (a job card's buttons), ``report``, ``nominate`` (a family member for job calls), ``family``,
``alerts``. Employers: ``register`` (their menu, a company), ``post_job`` (the walk of ``job_questions``, the
summary, editing; ``job_facts``), ``walks`` (Back and Cancel of the employers' walks), ``listings``.
Moderators: ``moderate`` (queues and decisions).
"""
