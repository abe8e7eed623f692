"""Output check: is the generated image a sexualized image of a real person or of a minor?

- The output's nudity level (signal "nudity": none < suggestive < explicit) decides whether it is
  sexualized at all; unavailable -> fail closed.
- Sexualized and an input photo shows the same person (face embeddings, signal "identity") ->
  refuse: "more sexualized than the input" when the level rose, else "sexualized real person".
- Sexualized and the request names a real person or a minor, or the output shows a minor ->
  refuse. Sexualized with no real person and no minor -> allowed by the default policy.
"""

from __future__ import annotations

from gardefou.decision import Action, Decision, Reason, RuleTrace
from gardefou.guard.images import NUDITY_LEVEL, ImageFacts
from gardefou.guard.normalize import normalize
from gardefou.guard.targets import text_targets
from gardefou.guard.verdicts import POLICY, OutputJudge, dsa_fields
from gardefou.media import Media


def decide_output(
    guard: OutputJudge, out: Media, inputs: list[Media], text: str | None
) -> Decision:
    reader = guard.images
    fo = reader.people(out)
    reader.nudity(out, fo)
    unavailable = list(fo.unavailable)
    trace: list[RuleTrace] = []
    targets = text_targets(text, normalize(text).folded) if text else None

    def decision(action: Action, code: str, msg: str, category: str, signal: str | None = None,
                 score: float | None = None) -> Decision:  # fmt: skip
        r = (Reason(code, msg, signal, score, category),)
        dsa = dsa_fields(category) if action == Action.REFUSE else {}
        cats = (category,) if category else ()
        return Decision(action, r, tuple(trace), dsa, cats, score, POLICY, tuple(unavailable))

    trace.append(RuleTrace("output_nudity", fo.nudity not in (None, "none"), str(fo.nudity)))
    if fo.nudity is None:
        return decision(Action.REFUSE, "fail_closed_signal_unavailable", "the nudity signal "
                        f"could not run on the output ({'; '.join(fo.notes)}); the output is "
                        "withheld until it can be checked", "ncii")  # fmt: skip
    level = NUDITY_LEVEL[fo.nudity]
    if level == 0:
        return Decision(Action.ALLOW, (), tuple(trace), policy=POLICY,
                        unavailable=tuple(unavailable))  # fmt: skip

    if fo.minor_risk:
        return decision(Action.REFUSE, "sexualization_of_minor", f"the output is {fo.nudity} "
                        "and shows a person the age signal estimates to be a minor", "minor",
                        "age", fo.minor_probability)  # fmt: skip
    if targets and targets.minor:
        return decision(
            Action.REFUSE,
            "sexualization_of_minor",
            f"the output is {fo.nudity} and the request describes a minor ({targets.minor[0]})",
            "minor",
        )
    if targets and targets.named_person:
        return decision(Action.REFUSE, "sexualization_of_named_person", f"the output is "
                        f"{fo.nudity} and the request names a real person "
                        f"({targets.named_person[0]})", "ncii")  # fmt: skip

    real_inputs: list[tuple[int, ImageFacts]] = []
    for i, m in enumerate(inputs):
        fi = reader.people(m, with_age=False)
        unavailable.extend(n for n in fi.unavailable if n not in unavailable)
        if fi.real_face is not False:  # a real face, or unknown (fail closed)
            real_inputs.append((i, fi))
    trace.append(RuleTrace("real_person_in_inputs", bool(real_inputs),
                           f"{len(real_inputs)} of {len(inputs)} input(s)"))  # fmt: skip
    if real_inputs and fo.faces != 0:
        reader.identity(out, fo)
        unavailable.extend(n for n in fo.unavailable if n not in unavailable)
    for i, fi in real_inputs:
        if fi.real_face is None:
            return decision(Action.REFUSE, "fail_closed_signal_unavailable", f"the output is "
                            f"{fo.nudity} and the face detector could not run on input {i}, so "
                            "a real person cannot be ruled out", "ncii")  # fmt: skip
        reader.identity(inputs[i], fi)
        reader.nudity(inputs[i], fi)
        unavailable.extend(n for n in fi.unavailable if n not in unavailable)
        same, distance = guard._same_person(fo, fi) if fo.embeddings and fi.embeddings else (
            None, None)  # fmt: skip
        trace.append(RuleTrace(f"same_person_as_input_{i}", bool(same),
                               f"distance={distance}"))  # fmt: skip
        if same is None:
            return decision(
                Action.REFUSE,
                "fail_closed_signal_unavailable",
                f"the output is "
                f"{fo.nudity}, input {i} shows a real person, and the face "
                "comparison could not run, so they cannot be told apart",
                "ncii",
            )
        if same:
            before = NUDITY_LEVEL.get(fi.nudity or "none", 0)
            if level > before:
                return decision(Action.REFUSE, "more_sexualized_than_input", f"the output shows "
                                f"the person of input {i} and is {fo.nudity} (input: "
                                f"{fi.nudity}); a sexualized edit of a real person", "ncii",
                                "identity", distance)  # fmt: skip
            return decision(Action.REFUSE, "sexualized_real_person", f"the output is "
                            f"{fo.nudity} and shows the real person of input {i}", "ncii",
                            "identity", distance)  # fmt: skip
    if guard.config.refuse_fictional_sexual:
        return decision(Action.REFUSE, "sexual_content", f"the output is {fo.nudity}", "sexual")
    return decision(Action.ALLOW, "sexual_content_no_real_person", f"the output is {fo.nudity} "
                    "but shows no real person from the inputs, no named person and no minor; "
                    "allowed by the default policy", "sexual")  # fmt: skip
