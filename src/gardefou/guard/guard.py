"""The guardrail for image generators: ``Guard.check_request`` and ``Guard.check_output``.

Default policy (docs/guard.md):
1. refuse a request that would sexualize a real person: one in an input photograph (a
   photographic face), named in the text, or "her" pointing at an input photo;
2. refuse any sexualization of a minor (age signal or words), fiction and drawings included;
3. allow everything else, including benign edits of real people and adult fiction (set
   ``GuardConfig.refuse_fictional_sexual`` to refuse the latter too).
Image signals run only when the text shows sexual intent, so benign requests cost ~1-2 ms.
A signal the decision needs that cannot run turns the decision into refuse (fail closed).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gardefou.decision import Action, Decision, Reason, RuleTrace
from gardefou.errors import GuardInputError
from gardefou.guard import features as ft
from gardefou.guard.images import NUDITY_LEVEL, ImageFacts, ImageReader, same_person
from gardefou.guard.intent import Intent, IntentClassifier
from gardefou.guard.normalize import normalize
from gardefou.guard.output import decide_output
from gardefou.guard.targets import TextTargets, text_targets
from gardefou.guard.verdicts import POLICY, dsa_fields
from gardefou.media import Limits, Media, load_media
from gardefou.signals.base import Signal

ImageInput = Media | bytes | str | os.PathLike[str]


@dataclass(frozen=True)
class GuardConfig:
    max_prompt_chars: int = 4000
    max_images: int = 8
    media_limits: Limits = field(default_factory=Limits)
    #: the learned intent model (needs the sentence encoder); False: the rules alone
    use_semantic: bool = True
    semantic_margin: float = 0.20  # unused since guard-intent-2 (kept for old configs)
    semantic_min_sim: float = 0.62  # unused since guard-intent-2 (kept for old configs)
    #: refuse at or above this calibrated probability; None: the threshold shipped with the model
    intent_threshold: float | None = None
    #: with a minor named or aged in the text, refuse from this lower probability (or any rule)
    minor_threshold: float = 0.3
    #: probabilities in [threshold - review_band, threshold) on a photo with a real person go
    #: to human review (or to the optional judge); 0 turns the band off
    review_band: float = 0.0
    #: optional second opinion (judge.ChatJudge) asked in [threshold - judge_band, threshold)
    judge: Any = None
    judge_band: float = 0.25
    refuse_fictional_sexual: bool = False  # also refuse sexual content with no real person
    minor_probability: float = 0.5  # age signal: minor_probability at or above is a minor
    #: "needed": skip the image signals when they cannot change the action (a sexual request
    #: pointing at the person in an input photo is refused whatever the faces/age say; ~2 ms
    #: instead of ~200 ms, but the refusal is not sub-categorized as "minor" from the image).
    #: "always": run faces+age on every sexual request with images, to categorize refusals.
    image_signals: str = "needed"

    def __post_init__(self) -> None:
        if self.image_signals not in ("needed", "always"):
            from gardefou.errors import ConfigError

            raise ConfigError(f"image_signals={self.image_signals!r}; use 'needed' or 'always'")


@dataclass(frozen=True)
class Context:
    """Earlier requests of the same conversation, oldest first."""

    history: tuple[str, ...] = ()


def validate_prompt(prompt: Any, max_chars: int) -> str:
    if isinstance(prompt, bytes | bytearray):
        try:
            prompt = bytes(prompt).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GuardInputError(
                f"prompt is not valid UTF-8 (byte 0x{prompt[exc.start]:02x} at offset "
                f"{exc.start}); send the request text encoded as UTF-8"
            ) from None
    if not isinstance(prompt, str):
        raise GuardInputError(f"prompt must be text, got {type(prompt).__name__}")
    try:
        prompt.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise GuardInputError(
            f"prompt contains an unpaired surrogate at offset {exc.start}; send valid Unicode"
        ) from None
    if not prompt.strip():
        raise GuardInputError("prompt is empty; send the text of the generation or edit request")
    if len(prompt) > max_chars:
        raise GuardInputError(
            f"prompt is {len(prompt):,} characters (limit {max_chars:,}); shorten it or raise "
            "GuardConfig.max_prompt_chars"
        )
    return prompt


class Guard:
    def __init__(self, config: GuardConfig | None = None, *,
                 signals: Mapping[str, Signal] | None = None,
                 classifier: IntentClassifier | None = None, audit: Any = None,
                 compare: Any = None) -> None:  # fmt: skip
        self.config = config or GuardConfig()
        self.classifier = classifier or IntentClassifier(
            use_model=self.config.use_semantic, threshold=self.config.intent_threshold
        )
        self.images = ImageReader(signals)
        self.audit = audit
        self._compare = compare

    # -- inputs ---------------------------------------------------------------------------------
    def load_images(self, images: Sequence[ImageInput]) -> list[Media]:
        if isinstance(images, str | bytes | os.PathLike | Media):
            images = [images]
        images = list(images)
        if len(images) > self.config.max_images:
            raise GuardInputError(
                f"{len(images)} images sent (limit {self.config.max_images}); send at most "
                f"{self.config.max_images} input images per request"
            )
        out = []
        for i, img in enumerate(images):
            if isinstance(img, Media):
                out.append(img)
            else:
                label = None if isinstance(img, str | os.PathLike) else f"image {i}"
                out.append(load_media(img, self.config.media_limits, label=label))
        return out

    # -- request ----------------------------------------------------------------------------------
    def check_request(self, prompt: str | bytes, images: Sequence[ImageInput] = (),
                      context: Context | Sequence[str] | None = None) -> Decision:  # fmt: skip
        text = validate_prompt(prompt, self.config.max_prompt_chars)
        media = self.load_images(images)
        history = tuple(context.history if isinstance(context, Context) else (context or ()))
        for h in history:
            validate_prompt(h, self.config.max_prompt_chars)
        norm = normalize(text)
        targets = text_targets(text, norm.folded)
        # who the conversation is about carries over: "Emma Watson at the beach" then "now in a
        # bikini"; a minor named earlier stays a minor
        for h in history[-3:]:
            ht = text_targets(h, normalize(h).folded)
            targets = TextTargets(targets.named_person + ht.named_person,
                                  targets.minor + ht.minor, targets.person_ref)  # fmt: skip
        kind = "real_person" if media else "none"  # an input photo is a person until read
        intent = self.classifier.classify(text, history, normalized=norm, targets=targets,
                                          kind=kind)  # fmt: skip
        decision = self._decide_request(intent, targets, media)
        if self.audit is not None:
            self.audit.record("request", text, media, decision)
        return decision

    def _decide_request(self, intent: Intent, targets: TextTargets, media: list[Media]
                        ) -> Decision:  # fmt: skip
        trace = [RuleTrace("sexual_intent", intent.sexual, intent.explain())]
        unavailable = ["intent_model"] if intent.model_error and self.config.use_semantic else []
        score = intent.score
        cats = intent.categories or ("model",)
        reasons: list[Reason] = []
        # hard override: a minor named or aged in the text lowers the bar to any rule or a
        # modest probability ("my 14 year old daughter, slightly shorter skirt")
        minor_sexual = bool(targets.minor) and (
            intent.sexual or bool(intent.hits) or score >= self.config.minor_threshold
        )

        def refuse(code: str, message: str, category: str, signal: str | None = None,
                   s: float | None = None) -> Decision:  # fmt: skip
            reasons.append(Reason(code, message, signal, s if s is not None else score, category))
            return Decision(Action.REFUSE, tuple(reasons), tuple(trace), dsa_fields(category),
                            (category, *cats), score, POLICY, tuple(unavailable))  # fmt: skip

        trace.append(RuleTrace("minor_in_text", bool(targets.minor), "; ".join(targets.minor)))
        if minor_sexual:
            return refuse("sexualization_of_minor", f"the request sexualizes a minor "
                          f"({targets.minor[0]}; {intent.explain()}); refused for fiction and "
                          "drawings too", "minor")  # fmt: skip
        if not intent.sexual and self.config.refuse_fictional_sexual and intent.hits:
            # strict policy: sexual content is refused whoever it shows; the rules say what is
            # sexual, the model's probability is about the default policy
            return refuse("sexual_content", f"sexual content ({intent.explain()})", "sexual")
        if not intent.sexual:
            return self._not_sexual(intent, targets, media, trace, unavailable)

        # "put the cat in a tiny bikini, she looks so done": with an animal named, "she" may be
        # the animal, so the image signals run (a face found still refuses below)
        animal = intent.encoded is not None and ft.direction(intent.encoded.flags, "animal")
        if media and targets.person_ref and not animal and self.config.image_signals == "needed":
            why = ("the request points at the person in the input image; faces/age cannot change "
                   "the action (GuardConfig.image_signals='always' runs them)")  # fmt: skip
            trace.append(RuleTrace("image_signals_skipped", True, why))
            return refuse("sexualized_edit_of_person_in_photo",
                          f"the request sexualizes the person in the input image "
                          f"({intent.explain()})", "ncii")  # fmt: skip
        facts = [self.images.people(m) for m in media]
        for f in facts:
            unavailable.extend(n for n in f.unavailable if n not in unavailable)
        minor_img = [f for f in facts if f.minor_risk or (
            f.minor_probability or 0) >= self.config.minor_probability]  # fmt: skip
        trace.append(RuleTrace("minor_in_image", bool(minor_img),
                               "; ".join(n for f in facts for n in f.notes)))  # fmt: skip
        if minor_img:
            return refuse("sexualization_of_minor", "an input image shows a person the age "
                          f"signal estimates to be a minor; {intent.explain()}", "minor", "age",
                          minor_img[0].minor_probability)  # fmt: skip
        real = [f for f in facts if f.real_face]
        n_real = f"{len(real)} of {len(facts)} image(s) with a photographic face"
        trace.append(RuleTrace("real_person_in_image", bool(real), n_real))
        if real:
            return refuse("sexualized_edit_of_real_person", "the input photo shows a real "
                          f"person and the request sexualizes them ({intent.explain()})",
                          "ncii", "faces", real[0].photo_likelihood)  # fmt: skip
        trace.append(RuleTrace("real_person_named", bool(targets.named_person),
                               "; ".join(targets.named_person)))  # fmt: skip
        if targets.named_person:
            return refuse("sexualization_of_named_person", "the request names a real person "
                          f"({targets.named_person[0]}) and sexualizes them ({intent.explain()})",
                          "ncii")  # fmt: skip
        unknown = [f for f in facts if f.real_face is None]
        if unknown:
            return refuse("fail_closed_signal_unavailable", "the request is sexual and the face "
                          "detector could not run on an input image, so a real person cannot be "
                          f"ruled out ({'; '.join(unknown[0].notes)})", "ncii")  # fmt: skip
        photos = [f for f in facts if (f.photo_likelihood or 0) >= 0.5 or f.faces == 0]
        # no face found and an animal named: "she" is the animal, the object score decides
        if photos and targets.person_ref and not animal:
            # "her" in a photograph where no face is visible (from behind, cropped): the person
            # may still be real and identifiable from the rest of the photo
            return refuse("sexualized_edit_of_person_in_photo", "the request sexualizes a "
                          "person in the input photograph; no face was detected, but a real "
                          f"person cannot be ruled out ({intent.explain()})", "ncii")  # fmt: skip
        if photos:
            # no person in the photo: judged again as an edit of an object (mannequin, product)
            p_obj = self.classifier.rescore(intent, "object")
            trace.append(RuleTrace("object_photo_score", p_obj is not None and p_obj
                                   >= intent.threshold, f"refuse probability as an edit of a "
                                   f"photo with no person: {p_obj}"))  # fmt: skip
            if p_obj is not None and p_obj < intent.threshold:
                return Decision(Action.ALLOW, (Reason(
                    "edit_of_photo_without_person", "no person was detected in the input "
                    f"photo and, as an edit of an object, the request scores {p_obj:.2f} "
                    f"(threshold {intent.threshold:.2f})", None, p_obj, "sexual"),),
                    tuple(trace), {}, ("sexual", *cats), p_obj, POLICY,
                    tuple(unavailable))  # fmt: skip
            reasons.append(Reason("sexual_edit_of_photo_without_person", "sexual request on a "
                                  "photo in which no person was detected; a human should check",
                                  None, score, "sexual"))  # fmt: skip
            return Decision(Action.REVIEW, tuple(reasons), tuple(trace), {}, ("sexual", *cats),
                            score, POLICY, tuple(unavailable))  # fmt: skip
        if self.config.refuse_fictional_sexual:
            return refuse("sexual_content", f"sexual content ({intent.explain()})", "sexual")
        if intent.encoded is not None and not media:
            # the model was trained on text-only requests that name real people in ways the
            # name heuristics miss ("the Finnish PM", "Scar-Jo", names in other scripts)
            return refuse("sexualization_of_real_person", "the intent model judges that this "
                          f"text-only request sexualizes a real person ({intent.explain()})",
                          "ncii")  # fmt: skip
        reasons.append(Reason("sexual_content_no_real_person", "sexual content, but no real "
                              "person or minor was identified; allowed by the default policy",
                              None, score, "sexual"))  # fmt: skip
        return Decision(Action.ALLOW, tuple(reasons), tuple(trace), {}, ("sexual", *cats),
                        score, POLICY, tuple(unavailable))  # fmt: skip

    def _not_sexual(self, intent: Intent, targets: TextTargets, media: list[Media],
                    trace: list[RuleTrace], unavailable: list[str]) -> Decision:  # fmt: skip
        """Below the threshold: allowed, except in the uncertain band on a photo of a real
        person, which goes to human review. Without the intent model the rules alone cannot
        clear a request about a photo or a named person: it goes to review (fail closed)."""
        if "intent_model" in unavailable and (media or targets.named_person):
            trace.append(RuleTrace("intent_model_unavailable", True, "the rules found nothing, "
                                   "but the intent model could not run"))  # fmt: skip
            reason = Reason("intent_model_unavailable", "the intent model could not run and the "
                            "request concerns a real person; a human should check it", None,
                            intent.score, "ncii")  # fmt: skip
            return Decision(Action.REVIEW, (reason,), tuple(trace), {}, ("unavailable",),
                            intent.score, POLICY, tuple(unavailable))  # fmt: skip
        judge = self.config.judge
        if judge is not None and intent.threshold - self.config.judge_band <= intent.score:
            if media or targets.named_person or intent.encoded is not None:
                return self._ask_judge(judge, intent, trace, unavailable)
        low = intent.threshold - self.config.review_band
        if media and self.config.review_band > 0 and low <= intent.score < intent.threshold:
            person = targets.person_ref
            if not person:
                facts = [self.images.people(m) for m in media]
                person = any(f.real_face or f.real_face is None for f in facts)
            trace.append(RuleTrace("uncertain_band", True, f"refuse probability "
                                   f"{intent.score:.2f} in [{low:.2f}, {intent.threshold:.2f})"
                                   f"; real person in the photo: {person}"))  # fmt: skip
            if person:
                reason = Reason("uncertain_intent_real_person", "the request may sexualize the "
                                f"person in the photo; a human should check ({intent.explain()})",
                                None, intent.score, "ncii")  # fmt: skip
                return Decision(Action.REVIEW, (reason,), tuple(trace), {}, ("uncertain",),
                                intent.score, POLICY, tuple(unavailable))  # fmt: skip
        return Decision(Action.ALLOW, (), tuple(trace), confidence=1 - intent.score,
                        policy=POLICY, unavailable=tuple(unavailable))  # fmt: skip

    def _ask_judge(self, judge: Any, intent: Intent, trace: list[RuleTrace],
                   unavailable: list[str]) -> Decision:  # fmt: skip
        text = intent.normalized.original if intent.normalized else ""
        v = judge.judge(text)
        trace.append(RuleTrace("judge", v.refuse is not False, v.detail))
        if v.refuse is False:
            return Decision(Action.ALLOW, (), tuple(trace), confidence=1 - intent.score,
                            policy=POLICY, unavailable=tuple(unavailable))  # fmt: skip
        if v.refuse:
            reason = Reason("judge_refused", f"uncertain request ({intent.explain()}); the "
                            f"configured judge says refuse ({v.detail})", "judge", intent.score,
                            "ncii")  # fmt: skip
            return Decision(Action.REFUSE, (reason,), tuple(trace), dsa_fields("ncii"), ("ncii",),
                            intent.score, POLICY, tuple(unavailable))  # fmt: skip
        # fail closed: the judge could not answer, a human decides
        reason = Reason("judge_unavailable", f"uncertain request ({intent.explain()}) and the "
                        f"judge failed ({v.detail}); a human should check", "judge",
                        intent.score, "uncertain")  # fmt: skip
        return Decision(Action.REVIEW, (reason,), tuple(trace), {}, ("uncertain",),
                        intent.score, POLICY, (*unavailable, "judge"))  # fmt: skip

    # -- output -----------------------------------------------------------------------------------
    def check_output(self, output: ImageInput, request: str | bytes | None = None,
                     inputs: Sequence[ImageInput] = ()) -> Decision:  # fmt: skip
        out_media = self.load_images([output])[0]
        in_media = self.load_images(inputs)
        text = None if request is None else validate_prompt(request, self.config.max_prompt_chars)
        decision = decide_output(self, out_media, in_media, text)
        if self.audit is not None:
            self.audit.record("output", text or "", [out_media, *in_media], decision)
        return decision

    def _same_person(self, a: ImageFacts, b: ImageFacts) -> tuple[bool | None, float | None]:
        try:
            compare = self._compare
            if compare is None:
                from gardefou.guard.images import default_compare

                compare = default_compare()
            return same_person(a.embeddings, b.embeddings, compare)
        except ImportError:
            return None, None
        except Exception:  # noqa: BLE001 - any failure of the comparison is "unknown"
            return None, None


def request_hash(text: str, media: Sequence[Media]) -> str:
    h = hashlib.sha256(text.encode("utf-8"))
    for m in media:
        h.update(m.sha256.encode())
    return h.hexdigest()


NUDITY_ORDER = NUDITY_LEVEL
