"""User text on its way to an LLM: one normaliser and delimiter neutraliser for every plugin.

Every plugin that puts text a user controls into a prompt (candidate messages, resume excerpts,
interview titles, voice transcripts, ...) sends it as data inside delimiter tags
(``<candidate_message>...</candidate_message>``) and runs it through :func:`wrap`, :func:`neutralise`
or :func:`one_line` first, so the text cannot close its own wrapper or open a tag of ours.

What happens to the text, in order:

1. **NFKC** (``unicodedata.normalize``): full-width and other compatibility forms become their plain
   characters (``＜`` -> ``<``, ``ｓ`` -> ``s``, ``ﬁ`` -> ``fi``, mathematical letters -> ASCII).
2. **Invisible characters are removed**: every format character (Unicode category ``Cf``: soft
   hyphen U+00AD, zero-width space/joiners U+200B-U+200D, bidi controls, word joiner U+2060,
   BOM, ...), the whole tag block U+E0000-U+E007F (assigned tag characters are ``Cf``; the rest of
   the block is unassigned but still invisible) and control characters other than tab, newline
   and carriage return. The text sent is this normalised text.
3. **Tag look-alikes are found on a skeleton** of the normalised text, a copy made only for
   matching: each character's combining marks are dropped (``á`` -> ``a``), marks, variation
   selectors, unassigned and private-use characters vanish, and look-alikes of the ASCII letters
   and of ``< > / \\ _ -`` are folded to them. The fold table is Unicode's confusables data
   (UTS #39, ``confusables.txt``) as shipped by the maintained ``confusable_homoglyphs`` package
   (Cyrillic ``а``/``е``/``о``/``р``/``с``, Greek ``α``/``ο``/``ν``/``ρ``/``ι``, ``‹`` ``˂`` ``ᐸ``
   for ``<``, ``∕`` ``⁄`` for ``/``, ... about 1,300 characters), plus :data:`EXTRA_FOLDS`, a short
   hand-written list of Greek and Cyrillic letters that UTS #39 does not call confusable but that
   read as the Latin letter inside a tag name (``τ`` ``т`` -> ``t``, ``к`` -> ``k``, ...).
   Tag names are matched case-insensitively, with up to two separators (space, ``.``, ``_``,
   ``-``) between letters and with ``i``/``l``/``1``/``|``, ``o``/``0``, ``m``/``rn``,
   ``w``/``vv`` and ``d``/``cl`` treated as the same letter.
4. **Every match is replaced by** ``[tag removed]`` in the normalised text: an opening or closing
   tag whose name is one of the caller's delimiters, a role word (:data:`RESERVED_WORDS`:
   ``system``, ``assistant``, ``user``, ``instructions``, ...) or one of those followed by a
   suffix word (:data:`SUFFIX_WORDS`: ``<system_prompt>``, ``< /Candidate-Message >``), with any
   attributes up to its ``>``; and a closing tag written without its ``<`` (``/transcript>``).

Text outside tags is kept as written (after steps 1-2): Cyrillic, Greek or accented prose is
not changed, only tag look-alikes are. Callers still tell the model, in the system prompt, that
text inside the delimiters is data and that instructions found there are to be ignored.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

__all__ = [
    "EXTRA_FOLDS",
    "REPLACEMENT",
    "RESERVED_WORDS",
    "SUFFIX_WORDS",
    "contains_tag",
    "neutralise",
    "normalise",
    "one_line",
    "skeleton",
    "wrap",
]

REPLACEMENT = "[tag removed]"

#: Role and instruction words: a tag named after one is neutralised whatever the delimiters are.
RESERVED_WORDS = ("system", "assistant", "user", "developer", "tool", "instruction", "instructions", "prompt")
#: Words that may follow a delimiter or role word in a tag name (``<candidate_message>``, ``<system_prompt>``).
SUFFIX_WORDS = ("message", "messages", "excerpt", "summary", "prompt", "text", "data", "details", "input",
                "content", "instructions")

#: Hand-written: Greek and Cyrillic letters that Unicode's confusables list (UTS #39) does not map to a
#: Latin letter, but that stand for one in transliteration and look like it in many fonts, so a model
#: reads ``</τranscript>`` or ``</trаnsсript>`` as our closing tag. Only the skeleton uses them.
EXTRA_FOLDS = {
    "τ": "t", "κ": "k", "ε": "e", "η": "n", "μ": "u", "ω": "w", "ς": "s",
    "т": "t", "к": "k", "м": "m", "п": "n", "д": "d", "л": "l",
}

# Targets of the confusables fold: what tag names and tag punctuation are made of.
_FOLD_TARGETS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ<>/\\_-")
_KEEP_CONTROLS = frozenset("\t\n\r")
_TAG_BLOCK = range(0xE0000, 0xE0080)
_SEP = r"[\s._\-]{0,2}"  # between the letters of a tag name: "t r a n s", "trans_cript", "trans.cript"
# ASCII letters that look alike (UTS #39 maps I, 1, | to l, 0 to O) and letter pairs read as one letter.
_LETTER_CLASSES = {"i": "[il1|]", "l": "[il1|]", "o": "[o0]", "m": "(?:m|rn)", "w": "(?:w|vv)", "d": "(?:d|cl)"}


def normalise(text: object) -> str:
    """NFKC, without format characters (``Cf``), tag characters or controls other than tab/newline/CR."""
    normal = unicodedata.normalize("NFKC", str(text))
    if normal.isascii():
        if normal.isprintable():
            return normal
        return "".join(ch for ch in normal if ch.isprintable() or ch in _KEEP_CONTROLS)
    return "".join(ch for ch in normal if _visible(ch))


def _visible(ch: str) -> bool:
    if ch in _KEEP_CONTROLS:
        return True
    if ord(ch) in _TAG_BLOCK:
        return False
    return unicodedata.category(ch) not in ("Cf", "Cc")


def skeleton(text: str) -> tuple[str, list[int]]:
    """The matching copy of normalised ``text`` (step 3) and, for each of its characters, the index
    of the character of ``text`` it came from."""
    if text.isascii():
        return text, list(range(len(text)))
    out: list[str] = []
    index: list[int] = []
    for position, ch in enumerate(text):
        folded = ch if ch < "\x80" else _fold(ch)
        out.append(folded)
        index.extend([position] * len(folded))
    return "".join(out), index


@lru_cache(maxsize=4096)
def _fold(ch: str) -> str:
    table = _fold_table()
    if ch in table:
        return table[ch]
    category = unicodedata.category(ch)
    if category[0] == "M" or category in ("Cn", "Co", "Cs", "Cf"):
        return ""  # marks, variation selectors, unassigned, private use: invisible in a tag name
    decomposed = unicodedata.normalize("NFD", ch)
    if decomposed == ch:
        return ch
    base = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return "".join(table.get(c, c) for c in base)


@lru_cache(maxsize=1)
def _fold_table() -> dict[str, str]:
    """Non-ASCII character -> the ASCII letter or tag punctuation it is confusable with."""
    from confusable_homoglyphs.confusables import confusables_data  # loads UTS #39 data (~35 ms): lazily

    table: dict[str, str] = {}
    for key, homoglyphs in confusables_data.items():
        for glyph in homoglyphs:
            other = glyph["c"]
            if len(key) == 1 and not key.isascii() and other in _FOLD_TARGETS:
                table.setdefault(key, other)
            elif key in _FOLD_TARGETS and len(other) == 1 and not other.isascii():
                table.setdefault(other, key)
    table.update(EXTRA_FOLDS)
    return table


def _spelled(word: str) -> str:
    """A regex for ``word`` with separators allowed between letters and look-alike letters merged."""
    letters = [c for c in word.lower() if c.isalnum()]
    return _SEP.join(_LETTER_CLASSES.get(c, re.escape(c)) for c in letters)


@lru_cache(maxsize=64)
def _tag_pattern(names: tuple[str, ...], reserved: bool = True) -> re.Pattern:
    words = set(RESERVED_WORDS) if reserved else set()
    for name in names:
        parts = [p for p in re.split(r"[^A-Za-z0-9]+", name) if p]
        if parts:
            words.add(parts[0])
            words.add("_".join(parts))
    if not words:
        return re.compile(r"(?!)")  # nothing to look for
    # Longest first, so "candidate_message" is preferred over "candidate".
    word = "(?:" + "|".join(_spelled(w) for w in sorted(words, key=len, reverse=True)) + ")"
    suffix = "(?:" + "|".join(_spelled(s) for s in sorted(SUFFIX_WORDS, key=len, reverse=True)) + ")"
    name = f"{word}(?:{_SEP}{suffix})?(?![a-z0-9])"
    opening = rf"<\s*[/\\]?\s*{name}(?:[^<>\n]{{0,40}}>)?"
    bare_closing = rf"[/\\]\s*{name}\s*>"
    return re.compile(f"{opening}|{bare_closing}", re.IGNORECASE)


def _spans(normal: str, names: Iterable[str], reserved: bool = True) -> list[tuple[int, int]]:
    skel, index = skeleton(normal)
    pattern = _tag_pattern(tuple(sorted(set(names))), reserved)
    return [(index[m.start()], index[m.end() - 1] + 1) for m in pattern.finditer(skel) if m.end() > m.start()]


def neutralise(text: object, names: Iterable[str] = ()) -> str:
    """``text`` normalised (steps 1-2), with every look-alike of a tag of ours replaced by
    ``[tag removed]``; ``names`` are the delimiter tags of the caller's prompt."""
    names = tuple(names)
    result = normalise(text)
    for _ in range(3):  # a replacement never forms a new tag; the loop only guards that claim
        spans = _spans(result, names)
        if not spans:
            return result
        pieces, last = [], 0
        for start, end in spans:
            pieces += [result[last:start], REPLACEMENT]
            last = end
        pieces.append(result[last:])
        result = "".join(pieces)
    return result


def contains_tag(text: object, names: Iterable[str] = (), *, reserved: bool = True) -> bool:
    """Whether ``text`` (e.g. a model's reply) holds a look-alike of a tag of ours: one of ``names``,
    or also a role tag (``<system>``, ...) unless ``reserved`` is False."""
    return bool(_spans(normalise(text), tuple(names), reserved))


def wrap(tag: str, text: object, names: Iterable[str] = ()) -> str:
    """``text`` as data: neutralised (against ``tag`` and ``names``), stripped, inside ``<tag>`` tags."""
    return f"<{tag}>\n{neutralise(text, (tag, *names)).strip()}\n</{tag}>"


def one_line(text: object, max_chars: int, names: Iterable[str] = ()) -> str:
    """A short user-supplied field (a title, a role): neutralised, on one line, double quotes turned
    into single quotes, at most ``max_chars`` characters."""
    if text is None:
        return ""
    flat = " ".join(neutralise(text, names).replace('"', "'").split())
    return flat[:max_chars]
