"""The one escaping function for user and CI text (issue 12, faults 2 and 4): Slack's three
entities, shortening that counts the escaped length and never splits an entity, links
only to real URLs, and plain text (e-mail) that carries no mention syntax."""

from __future__ import annotations

import random
import re

import pytest

from bot.blocks.common import (
    clip,
    code,
    code_block,
    escape,
    fitted,
    line,
    link,
    plain,
    reply,
    web_url,
)

ENTITY = re.compile(r"&(amp|lt|gt);")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_escape_neutralises_mentions_and_forged_links() -> None:
    """Fault 4: `<!channel>`, `<!here>`, `<!everyone>`, user-group and user mentions and
    `<url|label>` links typed by a user reach Slack as text, not as markup."""
    raw = "<!channel> <!here> <!everyone> <!subteam^S1> <@U0VICTIM> <https://evil|click> a&b"
    out = escape(raw)
    assert out == (
        "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;!subteam^S1&gt; "
        "&lt;@U0VICTIM&gt; &lt;https://evil|click&gt; a&amp;b"
    )
    assert "<" not in out and ">" not in out
    # Escaped once only: what the user typed comes back exactly.
    assert unescape(out) == raw
    assert escape("already &amp; typed") == "already &amp;amp; typed"


def test_shortening_counts_the_escaped_length() -> None:
    """Fault 2: 1,990 characters of `<`, `>` and `&` under the input limit escape to
    ~6,000; shortened after escaping, they fit the section's 3,000."""
    trace = ("<<&>> " * 400)[:1990]
    assert len(escape(trace)) > 3000
    out = escape(trace, 3000)
    assert len(out) <= 3000
    assert out.endswith("…")
    assert trace.startswith(unescape(out.removesuffix("…")))


@pytest.mark.parametrize("seed", range(20))
def test_an_entity_is_never_split(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    text = "".join(rng.choice("<>&ab ") for _ in range(rng.randint(0, 400)))
    for limit in range(1, 60):
        out = escape(text, limit)
        assert len(out) <= limit, (text, limit, out)
        body = out.removesuffix("…")
        # Every & left starts a whole entity; no "&am" or "&l" at the cut.
        assert all(ENTITY.match(body, m.start()) for m in re.finditer("&", body)), out
        assert text.startswith(unescape(body))


def test_clip_keeps_mentions_and_links_whole() -> None:
    text = "owner <@U0DEV> see <https://ci.example.com/1|CI run> &amp; more"
    for limit in range(1, len(text)):
        out = clip(text, limit)
        assert len(out) <= limit
        body = out.removesuffix("…")
        # A `<` the bot wrote is always closed, an entity always whole.
        assert body.count("<") == body.count(">"), out
        assert not re.search(r"&(?!amp;|lt;|gt;)", body), out
    assert clip(text, len(text)) == text


@pytest.mark.parametrize(
    "url",
    [
        "https://ci/1><!channel><https://evil|Re-run>",
        "https://ci/1|Re-run",
        "https://ci/ 1",
        "https://ci/1\n<!here>",
        "https://ci/1\x07",
        "https://ci/\u202e1",
        "javascript:alert(1)",
        "ftp://ci/1",
        "https:///no-host",
        "https://[::1/x",
        "",
        None,
    ],
)
def test_links_only_to_real_urls(url: str | None) -> None:
    """Fault 4: a CI `url=` that smuggles `>` or `|` is no link; only its label shows."""
    assert web_url(url) is None
    assert link(url, "CI run") == "CI run"


def test_link_escapes_the_url_for_slack() -> None:
    url = "https://ci.example.com/runs/2?a=1&b=2#x"
    assert web_url(url) == url
    assert link(url, "CI <run>") == "<https://ci.example.com/runs/2?a=1&amp;b=2#x|CI &lt;run&gt;>"
    # Too long to show whole: the label alone, never a cut link.
    long = "https://ci.example.com/?" + "&".join(f"p{i}=1" for i in range(600))
    assert link(long, "CI run", limit=2500) == "CI run"


def test_plain_text_keeps_what_was_typed_but_no_mention_syntax() -> None:
    """E-mail: no entities, but `<!channel>`, `<@U…>` and `<url|label>` do not survive
    (a copy forwarded into Slack notifies no one)."""
    raw = "<!channel> <@U0VICTIM> <#C1> <https://evil|click> in <module> a < b && c > d"
    out = plain(raw)
    for token in ("<!channel>", "<@U0VICTIM>", "<#C1>", "<https://evil|click>"):
        assert token not in out
    assert "in <module> a < b && c > d" in out
    assert out.replace("\u200b", "") == raw


def test_escape_leaves_out_bidi_controls_that_would_turn_the_bots_text_around() -> None:
    """An embedding, override or isolate left open in someone's text would reorder the
    bot's words after it on the line; the marks LRM and RLM reorder nothing past them."""
    controls = "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
    assert escape(f"a{controls}b <c>") == "ab &lt;c&gt;"
    assert escape("\u200f\u05e9\u05dc\u05d5\u05dd\u200e") == "\u200f\u05e9\u05dc\u05d5\u05dd\u200e"


def test_a_code_span_holds_its_text_whatever_the_text() -> None:
    """mrkdwn cannot escape a backtick: one in CI text would end the span, so it is shown
    as `'`; the text is escaped and shortened inside the backticks."""
    assert code("test_x[`a` *b*]") == "`test_x['a' *b*]`"
    assert code("<!channel>") == "`&lt;!channel&gt;`"
    assert code("x" * 50, 10) == "`xxxxxxxxx…`"


@pytest.mark.parametrize("text", ["```\n*bold*\n```", "`a`", "a````b", "``", "x"])
def test_a_code_block_is_closed_only_by_its_own_fence(text: str) -> None:
    """A ``` in a failure message would close the bot's block early; a zero-width space
    goes between backticks that meet (and beside the fences), so none of the text's do."""
    out = code_block(text, 800)
    assert out.startswith("```") and out.endswith("```")
    body = out[3:-3]
    assert "``" not in body and not body.startswith("`") and not body.endswith("`")
    assert body.replace("\u200b", "") == text


def test_a_fitted_list_shows_whole_rows_and_says_how_many_more() -> None:
    rows = [f"row {i} " + "x" * 90 for i in range(40)]
    out = fitted("*head*", rows, 45, 1000)
    lines = out.splitlines()
    assert len(out) <= 1000 and lines[0] == "*head*"
    assert lines[1:-1] == rows[: len(lines) - 2]
    assert lines[-1] == f"…and {45 - (len(lines) - 2)} more."
    assert fitted("*head*", ["a", "b"], 2, 1000) == "*head*\na\nb"
    # The last row needs no room for a "more" line after it.
    assert fitted("h", ["a" * 8], 1, 10) == "h\n" + "a" * 8


def test_text_within_a_line_is_one_line_escaped_and_shortened() -> None:
    typed = "OOM in eviction\r\n• *B-002* P0\u2028<@U0BOSS>\t\t  done "
    assert line(typed) == "OOM in eviction • *B-002* P0 &lt;@U0BOSS&gt; done"
    assert line("a\n\nb" * 50, 20) == clip(escape("a b" * 50), 20)


def test_a_refusal_keeps_the_bots_mentions_and_shows_typed_ones_as_typed() -> None:
    error = 'Only <@U0LEAD> or <!subteam^S0QA> may resolve "<@U0VICTIM>"; <!channel> <x|y>'
    assert reply(error, typed="resolve <@U0VICTIM> done") == (
        "Only <@U0LEAD> or <!subteam^S0QA> may resolve "
        '"&lt;@U0VICTIM&gt;"; &lt;!channel&gt; &lt;x|y&gt;'
    )
    # Whoever is named in what was typed is shown as typed, wherever the bot names them.
    assert reply("<@U0LEAD> only", typed="<@U0LEAD>") == "&lt;@U0LEAD&gt; only"
