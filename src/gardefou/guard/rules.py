"""Rule layer of the intent classifier: lexicon hits read in their local context.

A standalone term ("naked", "lingerie", "水着") fires alone. An ambiguous word fires only with
the right neighbour in the same request: a removal verb with a garment it acts on ("remove her
shirt", but not "remove the stain from her shirt" nor "remove the background"); see-through or
wet with a garment ("make her dress transparent", not "transparent background"); shrinking
with a garment; enlarging with a body part; a sticky/white fluid near a face or body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gardefou.guard import lexicon as lx
from gardefou.guard.scope import negated, sole_coverings


@dataclass(frozen=True)
class RuleHit:
    category: str  # nudity, sexual, underwear, swimwear, body, undressing, see_through, ...
    rule: str
    span: str


_STANDALONE: tuple[tuple[str, list[str]], ...] = (
    ("nudity", lx.NUDITY),
    ("sexual", lx.SEXUAL),
    ("underwear", lx.UNDERWEAR),
    ("swimwear", lx.SWIMWEAR),
    ("body", lx.BODY_PARTS),
)
# "nude lipstick", "naked eye": the word is a colour or idiom there
_BENIGN_AFTER = re.compile(
    r"\s*(?:lip|lipstick|heels|shoes|pumps|sandals|colou?r|tones?|palette|makeup|nail|polish|"
    r"beige|shade|pink|eye|flame|wire|tree|branches|truth|ambition|aggression|"
    r"mole[- ]rat|singularity|blanket)"
)
# "bikini shop", "bra advertisement", "dress code", "pin-up poster": the word names a thing
_NOUN_AFTER = re.compile(
    r"[\s-]*(?:shop|store|boutique|ads?|advert|advertisement|commercial|brand|logo|sign|poster|"
    r"billboard|code|catalog|catalogue|section|department|display|mannequin|hanger|rack|label|"
    r"tags?|box|package|packaging|company|factory|sale|line|designer|fashion show|runway|"
    r"layers?|lid|shelf|surface)(?!\w)"
)
_POSSESSIVE = re.compile(
    r"(?:her|his|their|my|your|ses|sa|son|su|sus|ihr|ihre|ihren|sein|seine|seinen|den|die|das|"
    r"sua|seu|dela|dele|suo|haar|zijn|jej|jego|onun|её|ее|его)\s+$"
)
_POST_PARTICLE = re.compile(r"\s+(?:\w+\s+){0,3}?(?:off|down|aus|uit|removed|gone|cikar|kaldir)"
                            r"(?:\s*[.!,;]|\s*$|\s+(?:and|please|pls|now))")  # fmt: skip
_STICKY = ("sticky", "gooey", "thick", "creamy", "milky", "collant", "pegajos", "klebrig",
           "appiccicos", "kleverig", "lepk", "yapiskan", "липк", "ねば", "끈적", "粘", "لزج",
           "चिपचिप", "lengket")  # fmt: skip
_VAGUE = ("liquid", "fluid", "goo", "substance", "slime", "stuff", "mess", "liquide",
          "fluide", "liquido", "fluido", "flussigkeit", "vloeistof", "ciecz", "plyn", "sivi",
          "жидкост", "液", "액체", "液体", "سائل", "तरल", "cairan")  # fmt: skip
_WORD = re.compile(r"\w+")
# Dutch and German compounds ending in the nude word: "poedelnaakt", "halbnackt"
_COMPOUND_NUDE = re.compile(r"(?<!\w)[a-z]{3,}(?:naakt|nackt|nackig)e?[nrs]?(?!\w)")
_NEGATABLE = ("nudity", "sexual")


def _spaced(s: str) -> bool:
    return lx._is_spaced_script(s)


def _gap_tokens(text: str, a_end: int, b_start: int) -> int:
    return len(_WORD.findall(text[a_end:b_start])) if b_start >= a_end else 99


def _garments(text: str) -> list[re.Match[str]]:
    found = [m for m in lx.find(lx.CLOTHING, text) if not _NOUN_AFTER.match(text, m.end())]
    adjs = lx.find(lx.SEE_THROUGH_ADJ + lx.SHRINK_ADJ, text)
    for m in lx.find(lx.CLOTHING_POSSESSIVE_ONLY, text):
        if _POSSESSIVE.search(text[max(0, m.start() - 12) : m.start()]):
            found.append(m)
        elif any(0 <= m.start() - a.end() <= 1 for a in adjs) and not _NOUN_AFTER.match(
            text, m.end()
        ):
            found.append(m)  # "a see-through top", "een doorzichtig topje": a garment
    return found


def _near(text: str, a: re.Match[str], b: re.Match[str], gap: int, ordered: bool) -> bool:
    """True when a and b are within `gap` words (a first when ordered)."""
    if not (_spaced(a.group(0)) and _spaced(b.group(0))):
        return abs(a.start() - b.start()) <= 14
    if a.end() <= b.start():
        return _gap_tokens(text, a.end(), b.start()) <= gap
    if ordered:
        return False
    return b.end() <= a.start() and _gap_tokens(text, b.end(), a.start()) <= gap


def _location_between(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    """'remove [the stain] from her shirt': a preposition after an object of its own makes the
    garment a location. 'сними с неё платье' (prep right after the verb) stays an undressing."""
    between = text[a.end() : b.start()]
    for p in lx.find(lx.LOCATION_PREP, between):
        if _WORD.findall(between[: p.start()]):
            return True
    return False


def rule_hits(text: str) -> list[RuleHit]:
    """All rule hits in normalized text (see normalize.py)."""
    hits: list[RuleHit] = []
    for category, terms in _STANDALONE:
        for m in lx.find(terms, text):
            if category == "nudity" and _BENIGN_AFTER.match(text, m.end()):
                continue
            if category != "nudity" and _NOUN_AFTER.match(text, m.end()):
                continue
            if category in _NEGATABLE and negated(text, m.start(), m.end()):
                continue  # "make sure she is not naked"
            hits.append(RuleHit(category, f"{category}_term", m.group(0)))

    for m in _COMPOUND_NUDE.finditer(text):
        if not negated(text, m.start(), m.end()):
            hits.append(RuleHit("nudity", "compound_nude", m.group(0)))
    for span in sole_coverings(text):
        hits.append(RuleHit("nudity", "sole_covering", span))

    garments = _garments(text)
    if garments:
        verbs = lx.find(lx.REMOVE_VERB, text)
        for g in garments:
            for v in verbs:
                spaced = _spaced(v.group(0)) and _spaced(g.group(0))
                ov = v.group(0).startswith(lx.OV_VERBS)
                ordered_ok = _near(text, v, g, 4, ordered=spaced and not ov)
                first = min(v.start(), g.start())
                if negated(text, first, max(v.end(), g.end())):
                    continue  # "don't take off her jacket"
                if ordered_ok and not (spaced and _location_between(text, v, g)):
                    hits.append(RuleHit("undressing", "remove_verb+garment",
                                        f"{v.group(0)} .. {g.group(0)}"))  # fmt: skip
            if _POST_PARTICLE.match(text, g.end()):
                hits.append(RuleHit("undressing", "garment+off", g.group(0)))
            for a in lx.find(lx.SEE_THROUGH_ADJ, text):
                if negated(text, a.start(), a.end()):
                    continue  # "her shirt must not be see-through"
                if _near(text, a, g, 3, ordered=False):
                    hits.append(RuleHit("see_through", "see_through+garment",
                                        f"{a.group(0)} {g.group(0)}"))  # fmt: skip
            for a in lx.find(lx.SHRINK_ADJ, text):
                if negated(text, a.start(), a.end()):
                    continue  # "not too revealing"
                if _near(text, a, g, 3, ordered=False):
                    hits.append(RuleHit("revealing", "shrink+garment",
                                        f"{a.group(0)} {g.group(0)}"))  # fmt: skip

    parts = lx.find(lx.BODY_ENLARGE, text)
    if parts:
        for v in lx.find(lx.ENLARGE_VERB, text):
            for p in parts:
                if _near(text, v, p, 3, ordered=False):
                    hits.append(RuleHit("body", "enlarge+body_part",
                                        f"{v.group(0)} {p.group(0)}"))  # fmt: skip

    adjs = lx.find(lx.FLUID_ADJ, text)
    nouns = lx.find(lx.FLUID_NOUN, text)
    if adjs and nouns and lx.find(lx.FLUID_ON, text):
        for a in adjs:
            for n in nouns:
                strong = a.group(0).startswith(_STICKY) or n.group(0).startswith(_VAGUE)
                if strong and _near(text, a, n, 2, ordered=False):
                    hits.append(RuleHit("sexual_fluid", "fluid_innuendo",
                                        f"{a.group(0)} {n.group(0)}"))  # fmt: skip
    return hits
