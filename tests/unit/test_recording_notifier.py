"""The in-memory notifier behind the embedded default: ordered, and bounded."""

from __future__ import annotations

from adapters.notifier import RecordingNotifier


def _send(notifier: RecordingNotifier, count: int) -> None:
    for n in range(count):
        notifier.send(to=f"c{n}@example.invalid", subject=f"s{n}", text="t",
                      idempotency_key=f"k{n}")


def test_it_keeps_messages_in_the_order_they_were_sent() -> None:
    notifier = RecordingNotifier()
    _send(notifier, 3)
    assert [m.idempotency_key for m in notifier.messages] == ["k0", "k1", "k2"]
    assert notifier.sent_to("c1@example.invalid")[0].subject == "s1"


def test_a_long_running_worker_keeps_only_the_last_messages() -> None:
    # Given a notifier keeping 100 messages, when 250 are sent
    notifier = RecordingNotifier(keep=100)
    _send(notifier, 250)
    # Then the last 100 remain, oldest first: memory does not grow with traffic
    assert len(notifier.messages) == 100
    assert notifier.messages[0].idempotency_key == "k150"
    assert notifier.messages[-1].idempotency_key == "k249"
