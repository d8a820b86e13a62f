"""A deck's contents in numbers: topics with card counts by type, and statuses (for `examdeck list`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .model import CARD_TYPES, STATUSES, Deck


def summarize(deck: Deck) -> dict[str, Any]:
    """JSON-ready: {key, title, count, statuses, types, topics: [{slug, title, count, primary, by_type}]}."""
    topics = []
    for topic in deck.topics:
        cards = [c for c in deck.cards if topic.slug in c.topics]
        by_type = Counter(c.type for c in cards)
        topics.append({
            "slug": topic.slug,
            "title": topic.title,
            "count": len(cards),
            "primary": sum(c.primary_topic == topic.slug for c in cards),
            "by_type": {t: by_type.get(t, 0) for t in CARD_TYPES},
        })
    statuses = Counter(c.status for c in deck.cards)
    types = Counter(c.type for c in deck.cards)
    return {
        "key": deck.key,
        "title": deck.title,
        "count": len(deck.cards),
        "statuses": {s: statuses.get(s, 0) for s in STATUSES},
        "types": {t: types.get(t, 0) for t in CARD_TYPES},
        "topics": topics,
    }
