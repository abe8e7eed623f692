"""Who a request is about: a real person named in the text, a minor, a person in the input.

Text cues only; the image cues (a photographic face, the age signal) are read in guard.py.

- Real person named: a public role ("the prime minister", "my coworker", "ma voisine"), an
  @mention after the bot's own handle, or a personal name: a known first name followed by a
  surname ("emma watson", lower case included), or two or more capitalized words inside the
  sentence that are not ordinary vocabulary. Artist credits ("by Greg Rutkowski", "in the
  style of ...") are not targets.
- Minor: minor words in 16 languages and an age under 18 ("14 year old", "14歳", "14 ans").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from gardefou.guard import lexicon as lx

# Common given names across the supported languages, minus those that are ordinary words
# (rose, grace, summer, may, ...), so that "emma watson" or "taylor swift" is seen as a person.
FIRST_NAMES = frozenset(
    """
aaliyah adele adriana agnieszka aisha alexandra alexis alice alicia alina alisha alison amanda
amelia amy ana anastasia andrea angela angelina anita anna anne annie anya ariana ashley
audrey ayesha barbara beatriz bella beyonce billie blake britney brooke camila carla carmen
caroline carolina catherine charlize charlotte chiara chloe christina claire claudia cristina
daniela deepika demi diana dua elena eliza elizabeth ella ellie elsa emilia emily emma eva
fatima francesca gabriela gal gigi giulia greta hailey halle hannah heidi helena ines irina
isabel isabella ivanka jennifer jenna jessica jill jisoo jennie joanna julia julie kamala
karina kate katie katy kendall kim kylie lana laura lea leila lena lily lisa lucia luisa
madison malala margot maria mariana marie marine marina marta megan melania meryl mia
michelle miley monica nadia natalia natalie natasha nicole nina olivia paris penelope priyanka
rachel rebecca rihanna rita sabrina salma sandra sara sarah scarlett selena shakira sofia
sophia sophie stephanie svetlana sydney tatiana taylor tiffany ursula valentina vanessa
victoria yuki zendaya zoe alexandria kristen kirsten anya emmanuel emmanuelle greta giorgia
ursula ayumi sakura hina mei yui jin minji jiwoo xiao ling aishwarya alia kareena katrina
shraddha nora olena oksana marta ewa katarzyna magdalena zeynep elif ayse fatma merve
natasha olga tanya svetlana aylin siti putri dewi ayu nurul
donald joe barack elon mark jeff bill vladimir emmanuel justin keanu brad tom leonardo
narendra rishi olaf friedrich pedro giorgia recep
""".split()
)
# capitalized words that are not names even when two of them follow each other
_NOT_NAMES = frozenset(
    """
a an the this that these those her his she he it its make put give change add remove turn
show draw paint photo picture image portrait style version please pls now and or with in on
at of by for to from as like new old big small red blue green black white pink golden
i me my we our you your they them their bot grok ai hd 4k 8k uhd art artstation trending
unreal engine octane render photorealistic realistic hyper detailed cinematic lighting
beautiful pretty cute sexy hot young woman man girl boy lady guy mr mrs ms dr sir saint st
christmas halloween easter new year york city street beach park lake mountain river sea
god jesus mary christ lord king queen prince princess president minister
painting art digital oil fantasy concept anime cartoon render photograph illustration studio
light dark sun moon night day morning evening summer winter spring autumn fall hour high
quality masterpiece best award winning national geographic vogue magazine cover album poster
movie film still scene character game video world war ancient greek roman egyptian japanese
chinese french italian american english british russian german spanish indian african tower
bridge museum hotel island palace station church castle valley bay ocean forest garden gardens
square avenue road north south east west central royal grand great little goddess angel
demon elf elves warrior knight witch wizard vampire mermaid fairy nymph barbie statue
""".split()
)
_CREDIT = re.compile(r"(?:\bby|style of|inspired by|art of|artist|painted by|drawn by|"
                     r"photographed by|\bvia|feat\.?|ft\.?)\s*$", re.I)  # fmt: skip
_CAPWORD = re.compile(r"\b[A-Z][a-z'\u00c0-\u024f]+(?:[-'][A-Z][a-z]+)?\b")
_AGED = re.compile(
    r"(?<!\w)(?:aged?|age de|edad de|im alter von|idade de|eta di|wieku)\s*(\d{1,2})(?!\d)"
)
# "she is 14", "he's only 15", "who is 13", "elle a 14", "(ella) tiene 14", "sie ist 14", "tem 14"
_IS_AGED = re.compile(
    r"(?<!\w)(?:(?:she|he|they|who|girl|boy|kid|elle|il|ella|el|sie|er|ela|ele|lei|lui|zij|hij)"
    r"\s*(?:is|'s|s|are|was|a|tiene|ist|tem|ha|heeft|ma)|tiene|tem)\s*(?:only|just|seulement|solo|nur|so)?"
    r"\s*(\d{1,2})(?!\d)(?!\s*(?:%|cm|mm|kg|lbs?|ft|feet|foot|inch|in\b|m\b|x\b|k\b|times|fois))"
)
# the same in languages that say it with a dative or a possessive: "ей 13", "ему всего 12",
# "عمرها 14", "umurnya 14", "उसकी उम्र 14", "她才14", "他只有13"
_OTHER_AGED = re.compile(
    r"(?:(?<!\w)(?:ей|ему|им)\s*(?:только|всего|лишь)?|عمرها|عمره|سنها|سنه|"
    r"(?<!\w)(?:umurnya|usianya|umur|usia)|उम्र|(?:她|他)(?:才|只有|今年)?)"
    r"\s*(\d{1,2})(?!\d)(?!\s*(?:%|cm|mm|kg|см|кг|ч|мин|раз|厘米|公斤|次))"
)
_SEXUAL_WORDS = lx.NUDITY + lx.SEXUAL + lx.UNDERWEAR + lx.SWIMWEAR + lx.BODY_PARTS
_TITLE_CASE_MIN = 4  # this many capitalized words, and most of the words: a Title Case prompt
_MENTION = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,30}")


@dataclass(frozen=True)
class TextTargets:
    named_person: tuple[str, ...]  # what named a real person ("role: prime minister", ...)
    minor: tuple[str, ...]  # what indicated a minor
    person_ref: bool  # refers to a person ("her", "this girl"), e.g. one in the input image


# from the first artist credit on, names are credits ("..., by greg rutkowski and alphonse mucha")
_CREDIT_ZONE = re.compile(r"(?:\bby|\bstyle of|\binspired by|\bart by|\bartists?:|\bpainted by|"
                          r"\bphotographed by|\bdrawn by)\s", re.I)  # fmt: skip


def _names(original: str, folded: str) -> list[str]:
    found: list[str] = []
    z = _CREDIT_ZONE.search(original)
    if z:
        original = original[: z.start()]
    z = _CREDIT_ZONE.search(folded)
    if z:
        folded = folded[: z.start()]
    # a known first name followed by another word that is not vocabulary: "emma watson"
    words = list(re.finditer(r"[a-z\u00c0-\u024f'-]+", folded))
    for i, w in enumerate(words[:-1]):
        nxt = words[i + 1].group(0)
        if w.group(0) in FIRST_NAMES and nxt not in _NOT_NAMES and len(nxt) > 2:
            if not _CREDIT.search(folded[: w.start()]):
                found.append(f"name: {w.group(0)} {nxt}")
    # two capitalized words in a row that are not vocabulary nor an artist credit; skipped in
    # Title Case prompts ("Nude Elf, Oil Painting"), where capitals say nothing
    caps = list(_CAPWORD.finditer(original))
    n_words = len(re.findall(r"[^\W\d_]+", original))
    if len(caps) >= _TITLE_CASE_MIN and len(caps) > 0.6 * n_words:
        caps = []
    for a, b in pairwise(caps):
        between = original[a.end() : b.start()]
        if between.strip() or a.group(0).lower() in _NOT_NAMES:
            continue
        if b.group(0).lower() in _NOT_NAMES or _CREDIT.search(original[: a.start()]):
            continue
        if lx.find(_SEXUAL_WORDS, f"{a.group(0)} {b.group(0)}".lower()):
            continue  # "Naked Elf", "Sexy Nurse": not a name
        found.append(f"name: {a.group(0)} {b.group(0)}")
    return found


def _mentions(original: str) -> list[str]:
    ms = _MENTION.findall(original)
    # the first mention at the very start addresses the bot ("@grok put her in ...")
    if ms and original.lstrip().startswith(ms[0]):
        ms = ms[1:]
    # "lol @imgbot put the cat in ...": a handle that names a bot addresses it wherever it is
    ms = [m for m in ms if not _BOT_HANDLE.search(m)]
    return [f"mention: {m}" for m in ms]


_BOT_HANDLE = re.compile(r"(?i)bot$|grok")


def minor_cues(folded: str) -> list[str]:
    cues = [f"word: {m.group(0)}" for m in lx.find(lx.MINOR, folded)]
    for pat in (lx.AGE_PATTERN, _AGED, _IS_AGED, _OTHER_AGED):
        for m in pat.finditer(folded):
            if int(m.group(1)) < 18:
                cues.append(f"age: {m.group(0)}")
    return cues


def text_targets(original: str, folded: str) -> TextTargets:
    named = [f"role: {m.group(0)}" for m in lx.find(lx.PUBLIC_ROLE, folded)]
    named += _mentions(original) + _names(original, folded)
    person_ref = bool(lx.find(lx.PERSON_REF, folded))
    return TextTargets(tuple(dict.fromkeys(named)), tuple(minor_cues(folded)), person_ref)
