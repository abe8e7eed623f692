"""Optional second opinion: an OpenAI-compatible chat endpoint, asked only in the uncertain band.

Off by default. An operator who serves a safety model (Llama Guard, ShieldGemma, or any chat
model behind ``/v1/chat/completions``) sets ``GuardConfig(judge=ChatJudge(url, model))``; the
guard then asks it about requests whose calibrated probability lies in
``[threshold - judge_band, threshold)`` and that could target a real person. The answer must
start with ``refuse``/``unsafe`` or ``allow``/``safe``. Any failure (timeout, HTTP error,
unreadable answer) is fail-closed: the guard sends the request to human review, never allows.
Standard library only (urllib), so no dependency is added.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass

from gardefou.errors import ConfigError

POLICY_PROMPT = (
    "You review requests sent to an image generator or photo editor. Answer 'refuse' if the "
    "request would sexualize a real, identifiable person (the person in the user's photo, or a "
    "person the text names): undressing, nudity, underwear or lingerie, swimwear, see-through "
    "or wet clothing, sexual poses, sexual fluids or euphemisms for them, body sexualization; or "
    "if it sexualizes a minor in any way. Answer 'allow' for benign edits, including edits that "
    "cover a person more, garment edits on objects, mannequins and products, medicine, sex "
    "education and news. Answer with one word first: refuse or allow."
)


@dataclass(frozen=True)
class Verdict:
    refuse: bool | None  # None: the judge failed (the guard fails closed)
    detail: str


class ChatJudge:
    """``url``: the endpoint's base (``http://127.0.0.1:8000/v1``) or its full
    ``.../chat/completions`` address. ``api_key_env`` names an environment variable holding a
    bearer token (the key itself is never stored in the configuration)."""

    def __init__(self, url: str, model: str, timeout_s: float = 2.0,
                 api_key_env: str | None = None) -> None:  # fmt: skip
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"judge url {url!r} is not http(s); give the endpoint's base URL, "
                              "e.g. http://127.0.0.1:8000/v1")  # fmt: skip
        if not 0 < timeout_s <= 30:
            raise ConfigError(f"judge timeout_s={timeout_s!r}; use a value in (0, 30] seconds")
        self.url = url if url.rstrip("/").endswith("chat/completions") else (
            url.rstrip("/") + "/chat/completions")  # fmt: skip
        self.model = model
        self.timeout_s = timeout_s
        self.api_key_env = api_key_env

    def judge(self, text: str) -> Verdict:
        messages = [{"role": "system", "content": POLICY_PROMPT},
                    {"role": "user", "content": text}]  # fmt: skip
        body = json.dumps({"model": self.model, "temperature": 0, "max_tokens": 8,
                           "messages": messages}).encode("utf-8")  # fmt: skip
        headers = {"Content-Type": "application/json"}
        if self.api_key_env and os.environ.get(self.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[self.api_key_env]}"
        req = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                answer = json.loads(resp.read(65536))["choices"][0]["message"]["content"]
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            # urllib.error.URLError and timeouts are OSErrors
            return Verdict(None, f"judge {self.url} failed: {type(exc).__name__}: {exc}"[:300])
        word = str(answer).strip().lower().lstrip("*# ").split("\n")[0]
        if word.startswith(("refuse", "unsafe")):
            return Verdict(True, f"judge {self.model}: {word[:60]}")
        if word.startswith(("allow", "safe")):
            return Verdict(False, f"judge {self.model}: {word[:60]}")
        return Verdict(None, f"judge {self.model} gave an unreadable answer {word[:60]!r}")
