"""Local scope cues read by the rules: negation of a sexual state, and sole coverings.

Negation: "make sure she is not naked", "qu'elle ne soit pas nue", "чтобы она не была голой"
ask to keep clothing. A state word (nude, sexy, see-through, revealing) or an undressing verb
is cancelled when a negator stands right before it, with at most three copula / pronoun words in
between and no punctuation. Not cancelled: degree words ("not fully naked" is partly naked),
"naked enough/yet", questions that are requests ("why not make her naked", "can't you ..."),
and garments ("no bra" is a request for nudity, so underwear and swimwear are never negated).
Only languages that negate before the predicate are covered (EN FR ES DE PT IT NL PL RU);
JA KO TR HI negate after the verb, ZH "不穿" means undressed: there negation is not read.

Sole coverings: "nothing but a towel", "only a bedsheet", "タオルだけ", "只围浴巾": an
everyday object named as the only thing worn means the person is nude.
"""

from __future__ import annotations

import re

from gardefou.guard import lexicon as lx

_NEGATOR = (
    r"(?:not|never|no|non|pas|jamais|nicht|nie|niet|geen|nooit|nao|nunca|не|ни|nem|"
    r"kein|keine|keinen|no longer|no more)"
)
# words allowed between the negator and the state: copulas, pronouns, "look", "get", "end up"
_FILLER = (
    r"(?:be|being|been|is|are|was|were|look|looks|looking|appear|appears|get|gets|getting|"
    r"become|end up|she|he|they|it|her|him|them|show|shown|showing|wear|wearing|make|"
    r"est|soit|sont|sera|soient|paraisse|paraît|parait|apparaisse|elle|il|la|le|les|rendre|"
    r"este|esta|sea|sean|salga|quede|aparezca|se|vea|ella|el|la|lo|"
    r"ist|sein|sei|wird|werden|aussieht|aussehen|sie|er|soll|sollte|darf|"
    r"seja|fique|fica|ficar|ela|ele|sia|siano|sembri|appaia|venga|resti|lei|lui|"
    r"wordt|worden|lijkt|zij|hij|ze|mag|moet|"
    r"byla|byl|bylo|jest|byc|wygladala|ona|on|"
    r"была|был|было|будет|быть|выглядела|выглядит|она|он|её|ее|его)"
)
_NEG_BEFORE = re.compile(rf"(?:(?<!\w){_NEGATOR}|n't)((?:\s+{_FILLER}(?!\w)){{0,3}})\s*$")
# "why not", "how about not", "can't you", "could you not": a negated question is a request
_QUESTION_BEFORE = re.compile(r"(?:why|how about|what if|could|can|would|will|wo)\s*$")
_DEGREE_AFTER = re.compile(r"\s*(?:enough|yet|assez|encore|suficiente|todavia|genug|noch|"
                           r"abbastanza|ancora|genoeg|nog|dosc|jeszcze|достаточно|ещё|еще)"
                           r"(?!\w)")  # fmt: skip


def negated(text: str, start: int, end: int) -> bool:
    """True when the term at text[start:end] is negated in its own clause."""
    m = _NEG_BEFORE.search(text, max(0, start - 80), start)
    if not m:
        return False
    neg_start = m.start()
    if text[m.start() : m.start() + 3] == "n't":
        neg_start = m.start()
        # "can't", "won't", "couldn't": questions or offers, not instructions
        word = re.search(r"(\w+)$", text[:neg_start])
        if word and word.group(1) in ("ca", "can", "won", "could", "would", "wo"):
            return False
        if re.match(r"\s*you(?!\w)", text[m.end() :]) or text[m.end() : start].strip() == "you":
            return False
    if _QUESTION_BEFORE.search(text[max(0, neg_start - 20) : neg_start].rstrip()):
        return False
    return not _DEGREE_AFTER.match(text, end)


_ONLY = [
    "nothing but", "nothing except", "wearing only", "wearing just", "only", "just", "solely",
    "seulement", "juste", "rien qu", "qu'une", "qu'un", "solo", "solamente", "unicamente",
    "nada mas que", "nur", "lediglich", "apenas", "somente", "soltanto", "alleen", "enkel",
    "tylko", "jedynie", "sadece", "yalnizca", "только", "лишь", "в одном", "в одной", "だけ",
    "一枚", "のみ", "만", "只", "仅", "فقط", "सिर्फ", "केवल", "hanya", "cuma",
]  # fmt: skip
# everyday things that are not clothes: worn alone, they mean nudity
_COVERING = [
    "towel", "bedsheet", "bed sheet", "blanket", "apron", "whipped cream", "body paint",
    "serviette", "drap$", "tablier", "toalla", "sabana", "delantal", "handtuch", "badetuch",
    "bettlaken", "schurze", "toalha", "lencol", "avental", "asciugamano", "lenzuolo",
    "grembiule", "handdoek", "badlaken", "schort", "recznik", "przescieradl", "fartuch",
    "havlu", "carsaf", "onluk", "полотенц", "простын", "фартук", "タオル", "シーツ",
    "エプロン", "수건", "타월", "앞치마", "毛巾", "浴巾", "床单", "围裙", "منشفة", "ملاية",
    "مريلة", "तौलिया", "तौलिये", "चादर", "handuk", "seprai", "celemek",
]  # fmt: skip
# only an article may stand between: "only a towel", "nur ein Handtuch" ("only the towel
# colour" is an edit of the towel)
_ARTICLES = {"a", "an", "une", "un", "una", "uno", "ein", "eine", "einem", "einen", "een",
             "uma", "um", "jeden", "jedno", "bir", "her", "his", "sa", "son", "su", "ihr",
             "ihrem", "sua", "seu", "haar", "jej", "её", "ее", "его"}  # fmt: skip


# "only a blanket on the bed", "nur ein Handtuch auf dem Stuhl": an object placed somewhere
_PLACED_AFTER = re.compile(
    r"\s+(?:on|onto|at|in the|on the|auf|am|im|sur|dans le|dans la|sobre|en el|en la|no|na|"
    r"nel|nella|sul|sulla|op|in de|w|na|на|в углу|у|في|على|पر|di atas|di)(?!\w)"
)


def sole_coverings(text: str) -> list[str]:
    """'nothing but a towel', 'в одном полотенце', 'タオルだけ': spans found."""
    covers = lx.find(_COVERING, text)
    if not covers:
        return []
    out = []
    covers = [c for c in covers if not _PLACED_AFTER.match(text, c.end())]
    for o in lx.find(_ONLY, text):
        for c in covers:
            spaced = lx._is_spaced_script(c.group(0))
            if o.end() <= c.start():
                gap = re.findall(r"\w+", text[o.end() : c.start()])
                if spaced:
                    ok = len(gap) <= 1 and all(g in _ARTICLES for g in gap)
                else:
                    ok = c.start() - o.end() <= 4
                if ok:
                    out.append(f"{o.group(0)} .. {c.group(0)}")
            elif c.end() <= o.start() and o.start() - c.end() <= 3 and not spaced:
                out.append(f"{c.group(0)} {o.group(0)}")  # "タオルだけ", "منشفة فقط"
    return out
