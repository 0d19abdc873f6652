"""@mentions: the one parser that team chat and internal notes share.

`@username` names a staff member (`@channel` is everyone in a chat channel). Text inside a
`code span` is literal and mentions nobody. A sentence's final period is not part of a name
("thanks @ana." mentions `ana`), though dots inside one are ("@ana.lopez").
"""

import re
from collections.abc import Callable

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.+-]{1,150})")
CODE_SPAN_RE = re.compile(r"`([^`\n]+)`")


def mention_name(match: re.Match[str]) -> str:
    """The username a `MENTION_RE` match names."""
    return match.group(1).rstrip(".")


def parse_mentions(body: str) -> set[str]:
    """Usernames mentioned in `body`, code spans left out."""
    return {mention_name(match) for match in MENTION_RE.finditer(CODE_SPAN_RE.sub("", body))}


def replace_mentions(text: str, render: Callable[[str], str]) -> str:
    """`text` with each mention replaced by `render(username)` (which returns the whole
    replacement, its "@" included) and a sentence's final period kept after it. Code spans are
    the caller's to leave out, as `parse_mentions` does."""

    def replace(match: re.Match[str]) -> str:
        name = mention_name(match)
        return render(name) + match.group(1)[len(name) :]

    return MENTION_RE.sub(replace, text)
