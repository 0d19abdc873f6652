"""Customer messages turned into search queries.

A customer writes "Hi! re order #4512, need 250 of the thick business cards by friday, thx".
The product need is "thick business cards"; the greeting, the order number, the quantity and the
deadline only add noise, to the sentence embedding and to the keyword query alike. Sizes
("3x6 ft", "24x36") and materials stay: they are product signals.
"""

import re
from dataclasses import dataclass

_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_MONTHS = (
    "jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|"
    "september|oct|october|nov|november|dec|december"
)
_WEEKDAYS = (
    "mon|monday|tue|tues|tuesday|wed|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|"
    "sun|sunday"
)
_NOISE_PATTERNS = [
    # Order references: "order #4512", "#4512", "PD-1042", "order 88213".
    r"\b(?:re\s+)?(?:order|ord|invoice|ticket)\s*(?:no\.?|number)?\s*[#:]?\s*[a-z]{0,3}-?\d{3,}\b",
    r"#\s*\d+",
    r"\b[a-z]{2,3}-\d{3,}\b",
    # Dates: "6/30", "11/12/2026", "March 3rd", "the 15th of March", "by friday", "next week".
    r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
    rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
    rf"\b(?:(?:by|before|on|until|due)\s+)?(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)"
    rf"(?:\s+of\s+(?:{_MONTHS}))?\b",
    rf"\b(?:by|before|on|for|until|next|this)?\s*(?:{_WEEKDAYS})(?:'s)?\b",
    rf"\b(?:by|before|in|until)\s+(?:{_MONTHS})\b",
    r"\b(?:next|this|last)\s+(?:week|month|year)\b",
    r"\b(?:in\s+)?\d+\s+(?:business\s+)?(?:days?|weeks?)\b",
    # Quantities: "250", "1,000", "10000", "x500", "500pcs" (sizes like "3x6" never match).
    r"(?<![\w/x.])\d{1,3}(?:,\d{3})+(?![\w/x])",
    r"(?<![\w/x.])\d+\s*(?:pcs|pieces|qty|units|copies|sets)?(?![\w/x.'\"])",
    r"\bqty\b",
]
_NOISE_RE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS), re.IGNORECASE)
_GREETING_RE = re.compile(
    r"^\s*(?:(?:hi|hello|hey)\s+(?:there|team|all|guys)|hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening)|morning|dear\s+\w+|"
    r"thanks?(?:\s+you)?(?:\s+for[^.!?\n]*)?|thx|cheers)\b[\s,!.:-]*",
    re.IGNORECASE,
)
_SPACE_RE = re.compile(r"\s+")
# What a removed date leaves at the end ("... by", "... due", "... or"), and sign-offs.
_DANGLING_RE = re.compile(
    r"(?:\s+(?:by|on|before|until|due|for|in|at|or|and))+$|"
    r"[\s,!.]*\b(?:thx|thanks?(?:\s+you)?|cheers|pls|please|ty)\b[\s,!.]*$",
    re.IGNORECASE,
)
_LOOSE_COMMA_RE = re.compile(r"\s+([,.;:!?])")

# Question and chat words that carry no product meaning, for the keyword query. PostgreSQL's
# english configuration drops its own stopwords too; these are the customer's filler on top.
_STOPWORD_TEXT = (
    "a about also am an and any anything are as at be been but by can come comes could "
    "did do does doing for from get got guys had has have hello help hey hi how i i'd i'm if in is "
    "it it's its just like looking me more much my need needs no not of on or our please pls price "
    "prices quote same so some something thanks thank that the their them there they thing things "
    "this those thx to u us want wanted wants was we what whats when where which who will with "
    "would you your"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class CleanQuery:
    original: str
    text: str  # what the sentence model embeds
    terms: tuple[str, ...]  # what the keyword index matches, lowercased

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.text


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


def clean_text(text: str) -> str:
    """The message without greetings, order references, dates and quantities."""
    text = _SPACE_RE.sub(" ", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = _GREETING_RE.sub("", text)
    text = _LOOSE_COMMA_RE.sub(r"\1", _SPACE_RE.sub(" ", _NOISE_RE.sub(" ", text)))
    previous = None
    while previous != text:
        previous = text
        text = _DANGLING_RE.sub("", text.strip(" ,.;:-!?()"))
    return re.sub(r"([,.;:])(?=[,.;:])", "", text)


def keyword_terms(text: str) -> tuple[str, ...]:
    """Words worth matching: no stopwords, plus adjective stems the stemmers keep apart
    ("glossy" -> "gloss"). Falls back to every word when all are stopwords."""
    all_words = words(text)
    terms = []
    kept = [w for w in all_words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    for word in kept or all_words:
        terms.append(word)
        if len(word) > 4 and word.endswith("y") and not word.isdigit():
            terms.append(word[:-1])
    return tuple(dict.fromkeys(terms))


def clean_query(text: str) -> CleanQuery:
    cleaned = clean_text(text) or text.strip()
    return CleanQuery(original=text, text=cleaned, terms=keyword_terms(cleaned))
