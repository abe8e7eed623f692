"""Which way each clause of an edit goes: revealing or covering (features of the intent model).

A garment word says little by itself: "put her in lingerie" reveals, "change her lingerie to a
flannel pajama set", "a robe over her swimsuit", "make her top less revealing" cover. The
direction is read per clause (features.clauses) from the position of the garment the rules
found (rules.py) and the cues around it:

- cover cues: "over", "on top of", "opaque", "less revealing", "higher neckline", "modest",
  "full", "long", "cover" (16 languages, folded text);
- a change verb with the garment as its source: "swap / replace / change X with / for / to /
  into Y" with the garment before the connective is the garment removed from the picture; after
  it, the garment put on;
- reveal cues with no cover cue in the clause ("remove", "off", "see-through", "nude").

The model weighs these flags with everything else (no flag decides alone): a clause that
reveals makes a multi-step request sexual wherever it sits ("crop it, sharpen it, then take her
top off"), a garment only named as the thing being covered does not. Two more flags: an animal
is the subject ("put the cat in a tiny bikini"), a man is ("swap his suit for speedos").
"""

from __future__ import annotations

import re

from gardefou.guard.rules import RuleHit

#: categories and rules that expose a body when applied to a person
REVEAL = {"nudity", "sexual", "undressing", "see_through", "sexual_fluid", "compound_nude",
          "remove_verb+garment", "garment+off", "see_through+garment", "shrink+garment",
          "enlarge+body_part", "fluid_innuendo", "revealing", "sole_covering"}  # fmt: skip
#: what a request does to the body (not a garment merely worn: "she's in lingerie here")
ACTIVE = {"nudity", "sexual", "undressing", "sexual_fluid", "compound_nude", "fluid_innuendo",
          "remove_verb+garment", "garment+off", "see_through+garment", "shrink+garment",
          "enlarge+body_part"}  # fmt: skip
GARMENT = {"underwear", "swimwear", "revealing", "see_through", "body"}

_COVER = re.compile(
    r"(?<!\w)(?:over|on top of|overtop|opaque|less revealing|less skimpy|less see.through|"
    r"more modest|modest|more covered|covered up|cover (?:up|it|her|him|them)|covers?|"
    r"higher neckline|high neck|full.length|full|long.sleeved?|long|conservative|"
    r"non.transparent|not see.through|instead of|"
    # fr es pt it
    r"par.dessus|sur (?:son|sa|ses)|opaque|couvr\w*|moins (?:decollete|sexy|transparent)|"
    r"encima|sobre (?:el|la|su)|cubr\w*|menos (?:escotad|revelador|transparent)|"
    r"por cima|cobr\w*|sopra|copr\w*|meno (?:scollat|trasparent)|lung[ao]|"
    # de nl pl tr
    r"daruber|uber (?:den|die|das|ihr|sein)|blickdicht|bedeck\w*|weniger (?:freizugig|"
    r"durchsichtig)|lange[nrs]?|overheen|over (?:haar|zijn)|bedek\w*|minder (?:bloot|"
    r"doorzichtig)|na (?:jej|jego|to)|zakry\w*|nieprzezroczyst\w*|dlug\w*|ustune|kapat\w*|"
    r"kapali|uzun|"
    # ru ja ko zh ar hi id
    r"поверх|сверху|закр\w*|непрозрачн\w*|длинн\w*"
    r")(?!\w)"
    r"|の上に|の上から|羽織|隠し|透けない|長袖|위에|덮|가려|긴소매|불투명|罩上|盖住|遮住|不透明|"
    r"长袖|外面|فوق|غط|ساتر|محتشم|ऊपर|ढक|ढँक|lebih tertutup|menutup\w*|di atas|panjang"
)
# "swap X for Y", "replace X with Y", "change X to Y", "turn X into Y" (and translations)
_CHANGE = re.compile(
    r"(?<!\w)(?:swap|replace|change|turn|switch|exchange|trade|remplace\w*|change\w*|"
    r"transforme\w*|cambi\w*|reemplaz\w*|sustitu\w*|troc\w*|substitu\w*|sostitu\w*|"
    r"ersetz\w*|tausch\w*|verwandel\w*|mach aus|vervang\w*|verander\w*|wissel\w*|zamien\w*|"
    r"zmien\w*|degistir\w*|замени\w*|поменя\w*|смени\w*|ganti\w*|ubah)(?!\w)"
    r"|替换|换成|改成|变成|바꿔|교체|を.{0,8}に(?:変え|替え|着替え)|بدل|غير|बदल"
)
_TO = re.compile(
    r"(?<!\w)(?:with|for|to|into|by|par|en|pour|por|con|in|mit|durch|gegen|zu|door|met|voor|"
    r"na|ile|на|в|dengan|jadi|menjadi)(?!\w)|に|로|으로|成|为|بـ|ب|से|में"
)
# garments that cover: the target of a covering edit ("she's in a bikini, give her a hoodie")
_MODEST = re.compile(
    r"(?<!\w)(?:hoodies?|sweaters?|jumpers?|t.shirts?|tees?|shirts?|button.up|blouses?|blazers?|"
    r"jackets?|coats?|raincoats?|robes?|bathrobes?|cardigans?|sundress|long dress|maxi dress|"
    r"jeans|pants|trousers|sweatpants|joggers|tracksuits?|pajamas?|pyjamas?|onesie|wetsuit|"
    r"rash ?guard|sarong|scarf|shawl|gown|uniform|jerseys?|polo|chinos|overalls|kimono|yukata|"
    r"saree|sari|salwar|kurta|abaya|hijab|burkini|poncho|parka|turtleneck|sweatshirt|fleece|"
    r"pull|chemise|veste|manteau|pantalon|peignoir|tunique|robe longue|sweat|"
    r"vestido|sudadera|camiseta|camisa|chaqueta|abrigo|pijama|chandal|albornoz|moletom|jaqueta|"
    r"casaco|calca|roupao|maglione|felpa|maglietta|camicia|giacca|cappotto|pigiama|vestito|"
    r"accappatoio|pantaloni|bermuda|kapuzenpulli|hemd|bluse|jacke|mantel|schlafanzug|kleid|"
    r"sommerkleid|bademantel|neoprenanzug|trainingsanzug|trui|jas|jurk|broek|badjas|regenjas|"
    r"spijkerbroek|sweter\w*|bluz\w*|koszul\w*|kurtk\w*|plaszcz\w*|pizam\w*|sukienk\w*|"
    r"spodni\w*|szlafrok|kazak|tisort|gomlek|ceket|mont|elbise|pantolon|bornoz|"
    r"худи|свитер\w*|футболк\w*|рубашк\w*|куртк\w*|пальто|пижам\w*|плать\w*|брюк\w*|"
    r"халат\w*|спортивк\w*|baju|kemeja|jaket|kaos|gamis|piyama)(?!\w)"
    r"|パーカー|セーター|シャツ|ジャケット|コート|パジャマ|ワンピース|ブラウス|浴衣|着物|"
    r"ウェットスーツ|ラッシュガード|후드|스웨터|티셔츠|셔츠|재킷|코트|잠옷|원피스|가디건|한복|"
    r"卫衣|毛衣|T恤|衬衫|外套|夹克|睡衣|连衣裙|防晒衣|浴袍|长裙|عباية|قميص|جاكيت|معطف|بيجامة|"
    r"فستان|روب|حجاب|साड़ी|साडी|कुर्ता|शर्ट|जैकेट|स्वेटर|सलवार"
)
# any garment, and the verbs that take one off: "lose her dress", "haal haar topje weg"
_GARMENT_ANY = re.compile(
    r"(?<!\w)(?:dress|blouse|top|skirt|shirt|t.shirt|pants|jeans|trousers|clothes|clothing|"
    r"outfit|sweater|hoodie|jacket|bra|towel|robe|gown|kurta|saree|sari|vestido|falda|camisa|"
    r"ropa|blusa|jupe|chemise|haut|vetements|habits|kleid|bluse|rock|hemd|hose|oberteil|"
    r"klamotten|kleidung|topje|jurk|rok|kleren|kleding|broek|vestito|gonna|maglietta|camicia|"
    r"costume|vestiti|reggiseno|saia|roupa|sukienk\w*|bluzk\w*|spodnic\w*|koszul\w*|"
    r"ubrani\w*|elbise\w*|etek\w*|gomlek\w*|kiyafet\w*|плать\w*|юбк\w*|блузк\w*|одежд\w*|"
    r"футболк\w*|kapde|kapda|baju|pakaian|handuk)(?!\w)"
    r"|服|ドレス|スカート|옷|드레스|치마|衣服|裙子|上衣|ملابس|فستان|ثوب|कपड़े|कपडे|साड़ी|कुर्ता"
)
_OFF = re.compile(
    r"(?<!\w)(?:lose|remove|take off|takes off|strip\w*|ditch|get rid of|drop|without|"
    r"no more|minus|delete|erase|peel|pull off|pull down|goes|gone|off|enleve\w*|retire\w*|"
    r"ote\w*|sans|vire\w*|quita\w*|saca\w*|sin|fuera|borra\w*|aus|entfern\w*|weg|ohne|"
    r"runter|tira\w*|sem|togli\w*|leva\w*|senza|via|uit|zonder|haal|zdejm\w*|sciagn\w*|"
    r"bez|zrzuc\w*|cikar\w*|kaldir\w*|olmadan|сним\w*|сня\w*|без|убер\w*|hata\w*|"
    r"utar\w*|bina|lepas\w*|buka\w*|tanpa|copot\w*|hapus\w*)(?!\w)"
    r"|脱|取って|なし|벗|없이|去掉|拿掉|不穿|اخلع|شيل|انزع|بدون|بلا|हटा|उतार|बिना"
)


def _removes_garment(part: str) -> bool:
    return (_OFF.search(part) is not None and _GARMENT_ANY.search(part) is not None
            and _COVER.search(part) is None and _nothing_covering_after(part))  # fmt: skip


def _nothing_covering_after(part: str) -> bool:
    """False for "remove the lingerie and put on a hoodie": a covering garment follows."""
    off = _OFF.search(part)
    return off is None or _MODEST.search(part, off.end() + 12) is None


# "instead", "in place of": the revealing garment is what is replaced
_INSTEAD = re.compile(
    r"(?<!\w)(?:instead|in place of|rather than|plutot|au lieu|en vez|en lugar|em vez|no lugar|"
    r"invece|al posto|statt\w*|anstelle|in plaats|zamiast|yerine|вместо)(?!\w)"
    r"|代わりに|대신|代替|而不是|换掉|بدلا|بدل|की जगह|ki jagah|jagah|ganti"
)
_ANIMAL = re.compile(
    r"(?<!\w)(?:cat|cats|kitten|dog|dogs|puppy|pup|hamster|rabbit|bunny|parrot|horse|pony|"
    r"goat|pig|cow|duck|chicken|ferret|guinea pig|lizard|turtle|fish|corgi|pug|chihuahua|"
    r"teddy|chat|chien|chaton|chiot|gato|perro|perrito|cachorro|gatto|cane|cagnolino|katze|"
    r"hund|kater|welpe|kat|hond|puppy|kot|kota|pies|psa|kedi|kopek|кот|кошк\w*|собак\w*|"
    r"щен\w*|kucing|anjing)(?!\w)|猫|犬|ネコ|イヌ|고양이|강아지|개한테|狗|قط|كلب|बिल्ली|कुत्त"
)
_MALE = re.compile(
    r"(?<!\w)(?:he|him|his|himself|boyfriend|husband|brother|dad|father|guy|man|bro|son|"
    r"lui|ele|dele|gli|ihm|sein\w*|hij|hem|zijn|mu|jego|jemu|он|его|ему|нему)(?!\w)|彼|他|هو|له|वह|उसके|उसका"
)


def clause_hits(parts: list[str], hits: list[RuleHit] | tuple[RuleHit, ...]
                ) -> list[list[RuleHit]]:  # fmt: skip
    """The rule hits that fall in each clause (a hit whose span crosses a boundary counts in
    the clause holding its first word)."""
    out: list[list[RuleHit]] = [[] for _ in parts]
    for h in hits:
        head = h.span.split()[0] if h.span.split() else h.span
        for i, p in enumerate(parts):
            if h.span in p or head in p:
                out[i].append(h)
                break
    return out


def _garment_is_source(part: str, hit: RuleHit) -> bool:
    """ "swap her bikini for a wetsuit": the garment comes before the connective."""
    change = _CHANGE.search(part)
    pos = part.find(hit.span.split()[0]) if hit.span.split() else -1
    if change is None or pos < 0:
        return False
    to = _TO.search(part, pos + len(hit.span))
    return to is not None and pos >= change.start() - 40


def direction_flags(parts: list[str], hits: list[RuleHit] | tuple[RuleHit, ...]
                    ) -> tuple[float, ...]:  # fmt: skip
    """The DIRECTION_FLAGS of a request (each 0 or 1), from its clauses and rule hits."""
    per = clause_hits(parts, hits)
    reveal = cover = source = later = 0.0
    all_cover = 1.0 if any(per) else 0.0
    for i, (part, hs) in enumerate(zip(parts, per, strict=True)):
        if not hs:
            continue
        # "she's in lingerie in this pic, change it to a flannel pajama set": the garment is
        # named in one clause and covered in the next one, which names no garment itself
        # (only a garment worn, no revealing verb in the first clause)
        nxt = parts[i + 1] if i + 1 < len(parts) else ""
        worn = not any(h.rule in ACTIVE or h.category in ACTIVE for h in hs)
        covered = _COVER.search(part) is not None or (
            worn and bool(nxt) and _COVER.search(nxt) is not None
        )
        src = any(_garment_is_source(part, h) for h in hs
                  if h.category in GARMENT or h.rule in REVEAL)  # fmt: skip
        reveals = any(h.category in REVEAL or h.rule in REVEAL for h in hs)
        cover = max(cover, float(covered))
        source = max(source, float(src))
        if not covered and not src:
            all_cover = 0.0
            if reveals or any(h.category in GARMENT for h in hs):
                reveal = 1.0
                later = max(later, float(i > 0))
    removes = [i for i, part in enumerate(parts) if _removes_garment(part)]
    text = " ".join(parts)
    animal = float(_ANIMAL.search(text) is not None)
    male = float(_MALE.search(text) is not None)
    modest = [m.start() for m in _MODEST.finditer(text)]
    first_hit = min((text.find(h.span.split()[0]) for h in hits if h.span.split()
                     and text.find(h.span.split()[0]) >= 0), default=-1)  # fmt: skip
    modest_after = float(first_hit >= 0 and any(m > first_hit for m in modest))
    instead = float(_INSTEAD.search(text) is not None)
    return (
        reveal,
        cover,
        all_cover,
        source,
        later,
        animal,
        male,
        float(bool(modest)),
        modest_after,
        instead,
        float(bool(removes)),
        float(any(i > 0 for i in removes)),
        float(not hits and not modest and _GARMENT_ANY.search(text) is None),
    )


DIRECTION_FLAGS = (
    "clause_reveals", "clause_covers", "all_hit_clauses_cover", "garment_is_source",
    "later_clause_reveals", "animal", "male", "covering_garment", "covering_garment_after_hit",
    "instead", "removes_garment", "later_clause_removes_garment", "no_clothing_word",
)  # fmt: skip
