"""Features of the learned intent model (model.py), numpy only, shared by training and inference.

Three blocks, computed on the normalized text (normalize.py):

- hashed n-grams: character 2-5-grams inside word boundaries plus word 1-2-grams, hashed with
  CRC-32 into ``N_BUCKETS`` buckets, sublinear counts, L2-normalized. They carry slang,
  inflections, obfuscations and scripts without spaces;
- sentence embeddings (USE-multilingual, semantic.py) of the whole request and of its clauses
  (element-wise max over clauses), which carry meaning across the 16 languages;
- flags: which rules fired (rules.py, the hand-written lexicons), who the text targets
  (targets.py), which way the edit goes clause by clause (direction.py: revealing or covering)
  and what the request is applied to (a photo of a person, an object, nothing).

The training script (scripts/train_guard.py) calls the same functions, so the shipped weights
see at run time exactly the features they were trained on.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from gardefou.guard.direction import DIRECTION_FLAGS, direction_flags
from gardefou.guard.rules import RuleHit
from gardefou.guard.targets import TextTargets

N_BUCKETS = 1 << 18
CHAR_N = (2, 3, 4, 5)
#: what the request applies to; "real_person" is also used when an input photo is not yet read
KINDS = ("real_person", "object", "none")
RULE_FLAGS = (
    "nudity", "sexual", "underwear", "swimwear", "body", "undressing", "see_through",
    "revealing", "sexual_fluid", "compound_nude", "sole_covering", "remove_verb+garment",
    "garment+off", "see_through+garment", "shrink+garment", "enlarge+body_part",
    "fluid_innuendo",
)  # fmt: skip
TARGET_FLAGS = ("named_person", "minor", "person_ref", "mention", "role")
#: products a linear model cannot form itself: a sexual rule hit with a named person, a minor,
#: a person word, each kind of input; a named person in a text-only request
INTERACTIONS = ("rule*named", "rule*minor", "rule*person_ref", "rule*real_person",
                "rule*object", "rule*none", "named*none")  # fmt: skip
N_BASE = len(RULE_FLAGS) + len(TARGET_FLAGS) + len(DIRECTION_FLAGS)
N_FLAGS = N_BASE + len(KINDS) + len(INTERACTIONS)
#: the first nine rule flags are the categories (the rest name the rule that fired)
_N_CATEGORIES = 9
#: at most this many clauses are embedded (long bot-traffic messages are cut, the whole-text
#: embedding and the n-grams still see all of it)
MAX_CLAUSES = 4

_WORD = re.compile(r"\w+")
# clause and step boundaries: punctuation, line breaks and the connectives that chain edits
_CLAUSE_SPLIT = re.compile(
    r"[.;!?\n。！？；،]+|,\s*|\s+(?:and then|then|after that|and also|but|and|also|plus|"
    r"puis|ensuite|et|mais|luego|despues|y|pero|dann|und|aber|depois|e|mas|poi|ma|dan|daarna|en|"
    r"maar|potem|i|ale|sonra|ve|ama|потом|затем|и|но|然后|再|但|그리고|다음|ثم|و|फिर|और|lalu|"
    r"kemudian|tapi)\s+"
)


def _bucket(s: str) -> int:
    return zlib.crc32(s.encode("utf-8")) & (N_BUCKETS - 1)


def _counts(text: str, ns: str = "") -> dict[int, float]:
    counts: dict[int, int] = {}
    words = _WORD.findall(text)
    for w in words:
        padded = f" {w} "
        for n in CHAR_N:
            for i in range(max(1, len(padded) - n + 1)):
                b = _bucket(ns + "c" + padded[i : i + n])
                counts[b] = counts.get(b, 0) + 1
    for i, w in enumerate(words):
        b = _bucket(ns + "w" + w)
        counts[b] = counts.get(b, 0) + 1
        if i + 1 < len(words):
            b = _bucket(f"{ns}b{w} {words[i + 1]}")
            counts[b] = counts.get(b, 0) + 1
    if not counts:
        return {}
    val = 1.0 + np.log(np.fromiter(counts.values(), np.float64, len(counts)))
    val /= np.linalg.norm(val)
    return dict(zip(counts, val.tolist(), strict=True))


def ngrams(folded: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted bucket indices and their L2-normalized sublinear weights."""
    counts = _counts(folded)
    if not counts:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    idx = np.fromiter(counts, np.int64, len(counts))
    val = np.fromiter(counts.values(), np.float32, len(counts))
    order = np.argsort(idx)
    return idx[order], val[order]


def clauses(folded: str, limit: int | None = MAX_CLAUSES) -> list[str]:
    """The request cut into clauses or steps ("keep her face, remove the dress" -> two)."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(folded)]
    parts = [p for p in parts if len(p) >= 3]
    return parts[:limit] or [folded]


def flags(hits: list[RuleHit] | tuple[RuleHit, ...], targets: TextTargets, kind: str,
          folded: str = "") -> np.ndarray:  # fmt: skip
    out = np.zeros(N_FLAGS, np.float32)
    seen = {h.category for h in hits} | {h.rule.removesuffix("_term") for h in hits}
    for i, name in enumerate(RULE_FLAGS):
        out[i] = name in seen
    o = len(RULE_FLAGS)
    named = targets.named_person
    out[o] = bool(named)
    out[o + 1] = bool(targets.minor)
    out[o + 2] = targets.person_ref
    out[o + 3] = any(n.startswith("mention:") for n in named)
    out[o + 4] = any(n.startswith("role:") for n in named)
    # every clause, not only the embedded ones: the revealing step is often the last of many
    o += len(TARGET_FLAGS)
    out[o : o + len(DIRECTION_FLAGS)] = direction_flags(clauses(folded, None), hits)
    return with_kind(out, kind)


def with_kind(flags: np.ndarray, kind: str) -> np.ndarray:
    """The same flags for the request applied to another kind of input."""
    out = flags.copy()
    out[N_BASE : N_BASE + len(KINDS)] = 0.0
    out[N_BASE + KINDS.index(kind)] = 1.0
    rule = float(out[:_N_CATEGORIES].max())
    o = len(RULE_FLAGS)
    named, minor, person = out[o], out[o + 1], out[o + 2]
    k = out[N_BASE : N_BASE + len(KINDS)]
    out[N_BASE + len(KINDS) :] = (rule * named, rule * minor, rule * person, rule * k[0],
                                  rule * k[1], rule * k[2], named * k[2])  # fmt: skip
    return out


def direction(flags: np.ndarray, name: str) -> bool:
    """One of direction.DIRECTION_FLAGS read back from a flag vector."""
    return bool(flags[len(RULE_FLAGS) + len(TARGET_FLAGS) + DIRECTION_FLAGS.index(name)])


def kind_index(flags: np.ndarray) -> int:
    return int(np.argmax(flags[N_BASE : N_BASE + len(KINDS)]))
