"""Words shown to people that several packages must say the same way: counts ("1 meeting",
"2 meetings") and what a visit is called."""

from __future__ import annotations

TOPIC_LIMIT = 200  # Zoom's limit for a meeting topic (and the column's)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun in the form that number takes, e.g. count(1, "meeting") == "1 meeting"."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def visit_title(topic: str, telehealth: bool) -> str:
    """What a visit is called: the topic a practitioner gave it (New meeting), else its kind.
    Never a person's name: who it is with is said beside it, from the visit's current practitioner,
    so a re-assigned visit never keeps the old name."""
    return topic.strip() or ("Telehealth session" if telehealth else "Appointment")


def visit_with(topic: str, telehealth: bool, practitioner_name: str) -> str:
    """The visit's title and who it is with, e.g. "Telehealth session with Dr. Priya Patel"."""
    title = visit_title(topic, telehealth)
    return f"{title} with {practitioner_name}" if practitioner_name else title


def zoom_topic(topic: str, practitioner_name: str) -> str:
    """The Zoom meeting's topic (the client sees it in Zoom): the given topic as it is, else the
    kind and the current practitioner, so a re-assign changes it."""
    return (topic.strip() or visit_with("", True, practitioner_name))[:TOPIC_LIMIT]
