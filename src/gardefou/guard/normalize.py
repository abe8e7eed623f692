"""Request text normalization: undo the obfuscations people use to slip past word filters.

``normalize(text)`` returns a ``Normalized`` with:

- ``folded``: NFKC, case-folded, zero-width and format characters removed, emoji spelled out,
  homoglyphs inside Latin words mapped back to Latin, leetspeak inside words decoded
  (``n@ked`` -> ``naked``), letter-spaced runs joined (``r e m o v e`` -> ``remove``), long
  letter repeats collapsed, Latin diacritics stripped (``déjala`` -> ``dejala``), Arabic
  harakat and tatweel removed. The lexicons are written against this form.
- ``original``: the text as given (used for capitalization cues such as proper names).

Only Latin diacritics are stripped: Devanagari vowel signs and the anusvara are combining marks
too, and removing them would break Hindi words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Emoji used as stand-ins in requests. Spelled as the English word the lexicon knows.
EMOJI_WORDS: dict[str, str] = {
    "👙": "bikini", "🩱": "swimsuit", "🩲": "underwear", "👗": "dress", "👚": "top",
    "👕": "shirt", "👖": "jeans", "🩳": "shorts", "👠": "heels", "🍑": "butt", "🍒": "breasts",
    "🍈": "breasts", "🍆": "penis", "💦": "sticky fluid", "🔞": "nsfw", "🥵": "sexy",
    "😈": "naughty", "👅": "tongue", "🫦": "sexy", "🚿": "shower", "🛏": "bed", "🛌": "bed",
    "👧": "girl child", "👦": "boy child", "🧒": "child", "👶": "baby", "🏫": "school",
    "❌👕": "no shirt", "🚫👕": "no shirt", "❌👗": "no dress", "🚫👗": "no dress",
}  # fmt: skip

# Cyrillic and Greek letters that look like Latin ones; mapped only inside tokens that also
# contain Latin letters (or in all-look-alike tokens of a Latin-script request).
HOMOGLYPHS: dict[str, str] = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ⅰ": "i", "ı": "i",
}  # fmt: skip

LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e", "¡": "i", "(": "c",
}  # fmt: skip

# words whose accent is all that tells them apart once folded (pt "maiô" swimsuit / "maio" May)
_BEFORE_FOLD = {"maiô": "maio swimsuit"}
_SPECIAL_FOLD = {"ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ħ": "h"}
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ARABIC_ALEF = re.compile("[\u0622\u0623\u0625]")  # alef with hamza/madda -> bare alef
_REPEATS = re.compile(r"(\w)\1{2,}")
_LEET_TOKEN = re.compile(r"[\w@$!|+€¡(]+")
# a run of >= 3 single letters separated by spaces/dots/dashes/underscores/asterisks
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*·]{1,3}){2,}\w(?!\w)")


@dataclass(frozen=True)
class Normalized:
    original: str
    folded: str

    @property
    def tokens(self) -> list[str]:
        return re.findall(r"\w+", self.folded)


def _is_latin(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or ("\u00c0" <= ch <= "\u024f")


def _strip_format(text: str) -> str:
    if text.isascii():
        return text
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cf" or (cat == "Mn" and "\ufe00" <= ch <= "\ufe0f"):
            continue  # zero-width joiners, soft hyphens, variation selectors
        out.append(ch)
    return "".join(out)


def _emoji(text: str) -> str:
    if text.isascii():
        return text
    for emo, word in sorted(EMOJI_WORDS.items(), key=lambda kv: -len(kv[0])):
        if emo in text:
            text = text.replace(emo, f" {word} ")
    return text


def _fix_token(tok: str, latin_context: bool) -> str:
    letters = [c for c in tok if c.isalpha()]
    if not letters:
        return tok
    has_latin = any(_is_latin(c) for c in letters)
    if has_latin or (latin_context and all(c in HOMOGLYPHS for c in letters)):
        tok = "".join(HOMOGLYPHS.get(c, c) for c in tok)
    if any(c in LEET for c in tok) and all(_is_latin(c) for c in tok if c.isalpha()):
        # leetspeak only inside Latin words that are mostly letters ("n@ked", "s3xy"), never in
        # numbers ("14", "1920s"), handles, or scripts written without spaces, where a digit
        # run is glued to the words around it ("彼女は14歳", "她才14岁")
        n_alpha = sum(c.isalpha() for c in tok)
        handle = tok.startswith("@") and n_alpha >= 3 and not any(c in LEET for c in tok[1:])
        if n_alpha >= 2 and not handle:
            if not re.fullmatch(r"\d+(s|th|st|nd|rd|yo|y|k|px|mm|cm|m)?", tok):
                tok = "".join(LEET.get(c, c) for c in tok)
    return tok


# words people star out ("n*ked", "s*xy", "b**bs"); a starred token matching exactly one is restored
_STAR_VOCAB = ("naked", "nude", "nudes", "sexy", "sex", "porn", "boobs", "tits", "bikini",
               "lingerie", "underwear", "topless", "undress", "panties", "thong", "nipples",
               "breasts", "pussy", "dick", "cum", "strip", "slut", "horny", "lewd",
               "nsfw")  # fmt: skip
_STARRED = re.compile(r"(?<!\w)[a-z]*\*+[a-z*]*(?!\w)")


def _unstar(text: str) -> str:
    if "*" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if not any(c.isalpha() for c in tok):
            return tok
        pat = re.compile(re.escape(tok).replace(r"\*", "[a-z]"))
        hits = [w for w in _STAR_VOCAB if pat.fullmatch(w)]
        return hits[0] if len(hits) == 1 else tok

    return _STARRED.sub(repl, text)


def _join_spaced(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        # two or more spaces between letters mark word boundaries inside the run
        words = re.split(r"\s{2,}", run)
        return " ".join(re.sub(r"[ .\-_*·]", "", w) for w in words)

    return _SPACED.sub(repl, text)


def _fold_latin(text: str) -> str:
    if text.isascii():
        return text
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn" and out and _is_latin(out[-1][-1:] or " "):
            continue
        out.append(_SPECIAL_FOLD.get(ch, ch))
    return unicodedata.normalize("NFC", "".join(out))


def normalize(text: str) -> Normalized:
    s = unicodedata.normalize("NFKC", text)
    s = _strip_format(s)
    s = _emoji(s)
    s = s.casefold()
    n_latin = sum(_is_latin(c) for c in s)
    n_alpha = sum(c.isalpha() for c in s) or 1
    latin_context = n_latin / n_alpha > 0.6
    s = _unstar(s)
    s = _LEET_TOKEN.sub(lambda m: _fix_token(m.group(0), latin_context), s)
    s = _join_spaced(s)
    s = _REPEATS.sub(r"\1", s)
    for word, marked in _BEFORE_FOLD.items():
        if word in s:
            s = s.replace(word, marked)
    s = _fold_latin(s)
    s = _ARABIC_MARKS.sub("", s)
    s = _ARABIC_ALEF.sub("\u0627", s)
    s = re.sub(r"\s+", " ", s).strip()
    return Normalized(original=text, folded=s)
