"""Hold music between queue announcements (ivr/queue.py `wait`), and its configuration."""

from __future__ import annotations

import xml.dom.minidom

import pytest

from ivr import queue
from ivr.config import ConfigError, parse_config
from tests.ivr.flowkit import assert_snapshot, make_context, make_turn

VISIT = "CA" + "1" * 32 + ".3"
SHIPPED_URL = "https://s3.amazonaws.com/com.twilio.sounds.music/MARKOVICHAMP-Borghestral.mp3"


def _gather(reply):
    dom = xml.dom.minidom.parseString(reply.xml())
    (gather,) = dom.getElementsByTagName("Gather")
    return gather


def _with_music(text: str, block: str) -> str:
    shipped = f'      url: "{SHIPPED_URL}"\n      seconds: 60\n'
    assert shipped in text
    return text.replace(shipped, block)


def test_music_plays_inside_the_gather_after_the_announcements(alver):
    reply = queue.wait(
        make_context(alver),
        make_turn("2026-11-25T11:00", QueuePosition="2"),
        queue="main",
        visit=VISIT,
    )
    gather = _gather(reply)
    verbs = [node.tagName for node in gather.childNodes if node.nodeType == node.ELEMENT_NODE]
    assert verbs == ["Say", "Say", "Say", "Play"]  # keys pressed during the music still count
    play = gather.getElementsByTagName("Play")[0]
    assert play.firstChild.data == SHIPPED_URL
    assert play.getAttribute("loop") == "1"  # ceil(45 s / 60 s): never "0", which is endless
    assert gather.getAttribute("timeout") == str(queue.HOLD_GATHER_TIMEOUT)


def test_overflow_announcement_is_followed_by_music_too(alver):
    turn = make_turn("2026-11-25T11:00", QueuePosition="2", QueueTime="400")
    reply = queue.wait(make_context(alver), turn, queue="main", visit=VISIT)
    assert _gather(reply).getElementsByTagName("Play")


@pytest.mark.parametrize(
    ("seconds", "interval", "loops"), [(20, 45, "3"), (15, 45, "3"), (90, 30, "1")]
)
def test_the_loop_count_covers_the_interval_in_whole_plays(alver_yaml, seconds, interval, loops):
    text = _with_music(alver_yaml, f'      url: "{SHIPPED_URL}"\n      seconds: {seconds}\n')
    text = text.replace("announce_every_seconds: 45", f"announce_every_seconds: {interval}")
    ctx = make_context(parse_config(text))
    reply = queue.wait(ctx, make_turn("2026-11-25T11:00"), queue="main", visit=VISIT)
    assert _gather(reply).getElementsByTagName("Play")[0].getAttribute("loop") == loops


def test_english_queue_wait_snapshot(alver):
    turn = make_turn("2026-11-25T11:00", language="en", QueuePosition="3", QueueTime="40")
    reply = queue.wait(make_context(alver), turn, queue="main", visit=VISIT)
    assert_snapshot("queue_wait_en", reply)


@pytest.mark.parametrize(
    ("block", "where", "message"),
    [
        (
            f'      url: "{SHIPPED_URL.replace("https", "http")}"\n      seconds: 60\n',
            "switchboard.queue.hold_music.url",
            "is not an https URL of an audio file",
        ),
        (
            f'      url: "{SHIPPED_URL}"\n      seconds: 0\n',
            "switchboard.queue.hold_music.seconds",
            "greater than 0",
        ),
        (
            f'      url: "{SHIPPED_URL}"\n      seconds: -5\n',
            "switchboard.queue.hold_music.seconds",
            "greater than 0",
        ),
    ],
)
def test_config_refuses_a_bad_url_or_non_positive_seconds(alver_yaml, block, where, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_music(alver_yaml, block))
    (error,) = caught.value.errors
    assert error.startswith(f"{where}: ")
    assert message in error
